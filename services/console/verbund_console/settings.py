"""The console's configuration, read from VERBUND_CONSOLE_ environment variables (and the shared VERBUND_ ones)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict
from verbund_runtime.keyring import key_service_token_field, key_service_url_field
from verbund_runtime.settings import ServiceSettings, health_port

# Shorter secrets can be guessed offline from one captured cookie.
MIN_SECRET_LENGTH = 32


class ConsoleSettings(ServiceSettings):
    """Every setting has a safe default except the session secret, which has none; see docs/console.md."""

    model_config = SettingsConfigDict(env_prefix="VERBUND_CONSOLE_")

    database_url: str = Field(
        default="sqlite+aiosqlite:///verbund-console.db",
        description="SQLAlchemy async URL of the console's own database (read model and accounts)",
    )
    group_id: str = Field(default="verbund-console", description="Kafka consumer group prefix (one group per topic)")
    consume: bool = Field(default=True, description="Run the topic consumers in this process")
    key_service_url: str | None = key_service_url_field()
    key_service_token: SecretStr | None = key_service_token_field()
    notifier_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("VERBUND_NOTIFIER_URL", "notifier_url"),
        description="The notifier's health endpoint, whose messages a learner's export includes (same token as the "
        "key endpoint); unset: the export holds the delivery log but not the messages' texts",
    )
    host: str = Field(default="127.0.0.1", description="Address the web console binds to")
    port: int = Field(default=8090, ge=0, le=65535, description="Port of the web console (0: pick a free one)")
    public_url: str | None = Field(
        default=None,
        description="The URL people open (https://... marks the session cookie Secure); unset: http://HOST:PORT",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description=f"Key that signs session cookies, at least {MIN_SECRET_LENGTH} characters (a secret: set it in "
        "the environment); the console refuses to start without it",
    )
    session_hours: float = Field(default=12.0, gt=0, le=24 * 14, description="Hours a sign-in lasts")
    signin_attempts: int = Field(
        default=5, ge=1, description="Failed sign-ins per account and address before it must wait"
    )
    signin_window_seconds: float = Field(
        default=900.0, gt=0, description="The window the failed sign-ins are counted in, and the wait after"
    )
    health_port: int = health_port(8083)

    @field_validator("session_secret")
    @classmethod
    def _secret_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"VERBUND_CONSOLE_SESSION_SECRET is shorter than {MIN_SECRET_LENGTH} characters; make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return value

    @property
    def secure_cookies(self) -> bool:
        return (self.public_url or "").startswith("https://")
