"""The notifier's configuration, read from VERBUND_ environment variables."""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from verbund_schemas import Language

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DIGEST_RE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01]?\d|2[0-3]):([0-5]\d)$")


class NotifierSettings(BaseSettings):
    """Every setting has a safe default; see docs/notifier.md for the table."""

    model_config = SettingsConfigDict(env_prefix="VERBUND_", extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str = Field(
        default="localhost:9092",
        validation_alias=AliasChoices(
            "VERBUND_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers"
        ),
    )
    notifier_group_id: str = "verbund-notifier"
    notifier_database_url: str = "sqlite+aiosqlite:///verbund-notifier.db"
    notifier_scheduler: bool = Field(
        default=True, description="Run reminders and digests here; exactly one replica may do it"
    )
    notifier_now: dt.datetime | None = Field(
        default=None, description="Pretend the clock started at this time (demos and tests)"
    )
    notifier_timezone: str = "Europe/Berlin"
    default_language: Language = Language.DE

    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool | None = Field(
        default=None, description="true: require STARTTLS; false: never; unset: use it when offered"
    )
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    smtp_from: str = "Verbund <verbund@localhost>"

    webhook_secret: SecretStr | None = None
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)

    reminder_days: str = "14,2"
    reminder_hour: int = Field(default=7, ge=0, le=23)
    digest_schedule: str = "mon 07:00"
    digest_weeks_ahead: int = Field(default=4, ge=1, le=26)

    retry_max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    directory_wait_seconds: float = Field(
        default=30.0, ge=0, description="How long an assignment may wait for its learner's registration"
    )
    delivery_poll_seconds: float = Field(default=1.0, gt=0)
    delivery_batch_size: int = Field(default=50, ge=1)

    @field_validator("reminder_days")
    @classmethod
    def _reminder_days_are_numbers(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise ValueError(
                f"VERBUND_REMINDER_DAYS={value!r}: give whole days before a phase starts, comma separated, "
                "e.g. 14,2 (empty: no reminders)"
            )
        return ",".join(parts)

    @field_validator("digest_schedule")
    @classmethod
    def _digest_schedule_is_day_and_time(cls, value: str) -> str:
        if not _DIGEST_RE.match(value.strip().lower()):
            raise ValueError(
                f"VERBUND_DIGEST_SCHEDULE={value!r}: write a weekday and a time, e.g. 'mon 07:00' "
                f"(weekdays: {', '.join(_DAYS)})"
            )
        return value.strip().lower()

    @field_validator("notifier_timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"VERBUND_NOTIFIER_TIMEZONE={value!r} is not a known time zone; use e.g. Europe/Berlin"
            ) from exc
        return value

    @cached_property
    def reminder_day_list(self) -> tuple[int, ...]:
        return tuple(sorted({int(p) for p in self.reminder_days.split(",") if p}, reverse=True))

    @cached_property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.notifier_timezone)

    @cached_property
    def digest_day_and_time(self) -> tuple[str, int, int]:
        m = _DIGEST_RE.match(self.digest_schedule)
        assert m is not None  # checked by the validator
        return m.group(1), int(m.group(2)), int(m.group(3))
