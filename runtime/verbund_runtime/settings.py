"""The settings every service has: the broker, logs, the largest event read, and the health endpoint."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from verbund_schemas import DEFAULT_MAX_EVENT_BYTES

from verbund_runtime.kafka import (
    CAFILE_ENV,
    MECHANISM_ENV,
    PASSWORD_ENV,
    PASSWORD_FILE_ENV,
    PROTOCOL_ENV,
    USERNAME_ENV,
    KafkaSecurity,
)


def health_port(default: int) -> Any:
    """The health endpoint's port field; each service has its own default, so they can run on one host."""
    return Field(default=default, ge=0, le=65535, description="Port of /healthz, /readyz, /metrics (0: off)")


class ServiceSettings(BaseSettings):
    """Read from VERBUND_ variables. A service with a prefix of its own still reads these shared ones under their
    VERBUND_ names (one broker address and one log format for the whole deployment); the health endpoint's
    settings take the service's prefix."""

    model_config = SettingsConfigDict(env_prefix="VERBUND_", extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str = Field(
        default="localhost:9092",
        validation_alias=AliasChoices(
            "VERBUND_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers"
        ),
        description="Kafka bootstrap servers, comma separated",
    )
    kafka_security_protocol: str | None = Field(
        default=None,
        validation_alias=AliasChoices(PROTOCOL_ENV, "kafka_security_protocol"),
        description="PLAINTEXT, SASL_PLAINTEXT, SASL_SSL or SSL (unset: SASL_PLAINTEXT when a user is set, "
        "else PLAINTEXT)",
    )
    kafka_sasl_mechanism: str | None = Field(
        default=None,
        validation_alias=AliasChoices(MECHANISM_ENV, "kafka_sasl_mechanism"),
        description="SCRAM-SHA-512 (default), SCRAM-SHA-256 or PLAIN",
    )
    kafka_username: str | None = Field(
        default=None,
        validation_alias=AliasChoices(USERNAME_ENV, "kafka_username"),
        description="The Kafka principal this process authenticates as (SASL)",
    )
    kafka_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(PASSWORD_ENV, "kafka_password"),
        description="Its password (secret; or a file: VERBUND_KAFKA_PASSWORD_FILE)",
    )
    kafka_password_file: str | None = Field(
        default=None,
        validation_alias=AliasChoices(PASSWORD_FILE_ENV, "kafka_password_file"),
        description="A file holding the Kafka password (a mounted secret), read when no password is set",
    )
    kafka_ssl_cafile: str | None = Field(
        default=None,
        validation_alias=AliasChoices(CAFILE_ENV, "kafka_ssl_cafile"),
        description="CA certificates (PEM) to verify the brokers with, for SSL and SASL_SSL",
    )
    max_event_bytes: int = Field(
        default=DEFAULT_MAX_EVENT_BYTES,
        ge=1024,
        le=64 * 1024 * 1024,
        validation_alias=AliasChoices("VERBUND_MAX_EVENT_BYTES", "max_event_bytes"),
        description="Largest Kafka record value read as an event, in bytes; a larger one is rejected unread "
        "(the matcher publishes one small EventRejected, the notifier counts and skips it)",
    )
    health_host: str = Field(default="127.0.0.1", description="Address the health endpoint binds to")
    # Each service sets its own default (`health_port(...)`), so they can run side by side on one host.
    health_port: int = health_port(8080)
    log_json: bool = Field(
        default=True,
        validation_alias=AliasChoices("VERBUND_LOG_JSON", "log_json"),
        description="Structured JSON logs on stderr",
    )
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("VERBUND_LOG_LEVEL", "log_level"), description="Python log level"
    )

    def kafka_security(self) -> KafkaSecurity:
        """How this service authenticates to the brokers (checked: a SASL protocol needs a user and password)."""
        environ = {
            PROTOCOL_ENV: self.kafka_security_protocol or "",
            MECHANISM_ENV: self.kafka_sasl_mechanism or "",
            USERNAME_ENV: self.kafka_username or "",
            PASSWORD_FILE_ENV: self.kafka_password_file or "",
            CAFILE_ENV: self.kafka_ssl_cafile or "",
        }
        if self.kafka_password is not None:
            environ[PASSWORD_ENV] = self.kafka_password.get_secret_value()
        return KafkaSecurity.from_env(environ)
