"""The settings every service has: the broker, logs, the largest event read, and the health endpoint."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from verbund_schemas import DEFAULT_MAX_EVENT_BYTES


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
