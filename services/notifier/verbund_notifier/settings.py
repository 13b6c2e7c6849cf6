"""The notifier's configuration, read from VERBUND_ environment variables."""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from verbund_runtime.keyring import key_service_token_field, key_service_url_field
from verbund_runtime.settings import ServiceSettings, health_port
from verbund_schemas import Language

from .domain.ics import sender_domain, valid_domain

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DIGEST_RE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01]?\d|2[0-3]):([0-5]\d)$")


class NotifierSettings(ServiceSettings):
    """Every setting has a safe default; see docs/notifier.md for the table."""

    notifier_group_id: str = Field(
        default="verbund-notifier",
        description="Kafka consumer group prefix of the notifier (one group per topic family)",
    )
    notifier_database_url: str = Field(
        default="sqlite+aiosqlite:///verbund-notifier.db",
        description=(
            "SQLAlchemy async URL of the notifier's own database (contacts, deliveries, jobs; "
            "on SQLite the jobs are kept in a sibling file NAME-jobs.db)"
        ),
    )
    key_service_url: str | None = key_service_url_field()
    key_service_token: SecretStr | None = key_service_token_field()
    notifier_scheduler: bool = Field(
        default=True, description="Run reminders and digests here; exactly one replica may do it"
    )
    notifier_now: dt.datetime | None = Field(
        default=None, description="Pretend the clock started at this time (demos and tests)"
    )
    notifier_timezone: str = Field(
        default="Europe/Berlin", description="Time zone of reminders, digests and calendar texts"
    )
    default_language: Language = Field(
        default=Language.DE, description="Language of messages to recipients who state none (de or en)"
    )

    smtp_host: str = Field(default="localhost", description="SMTP server for email")
    smtp_port: int = Field(description="SMTP port", default=25, ge=1, le=65535)
    smtp_user: str | None = Field(default=None, description="SMTP login (unset: no authentication)")
    smtp_password: SecretStr | None = Field(
        default=None,
        description="SMTP password (a secret: set it in the environment, never in a file in the repository)",
    )
    smtp_starttls: bool | None = Field(
        default=None, description="true: require STARTTLS; false: never; unset: use it when offered"
    )
    smtp_timeout_seconds: float = Field(description="Seconds an SMTP conversation may take", default=30.0, gt=0)
    smtp_from: str = Field(default="Verbund <verbund@localhost>", description="Sender of every email")
    calendar_uid_domain: str | None = Field(
        default=None,
        description="Domain of calendar entries' UIDs (assignment-id@domain); unset: the domain of VERBUND_SMTP_FROM",
    )

    webhook_secret: SecretStr | None = Field(
        default=None, description="Shared secret for the X-Verbund-Signature HMAC-SHA256 header of webhooks"
    )
    webhook_timeout_seconds: float = Field(description="Seconds a webhook receiver has to answer", default=10.0, gt=0)

    reminder_days: str = Field(
        default="14,2", description="Days before a phase starts to send reminders, comma separated (empty: none)"
    )
    reminder_hour: int = Field(description="Local hour at which reminders are sent", default=7, ge=0, le=23)
    digest_schedule: str = Field(
        default="mon 07:00", description='When the weekly coordinator digest goes out, e.g. "mon 07:00"'
    )
    digest_weeks_ahead: int = Field(
        description="How many weeks of coming rotations the digest lists", default=4, ge=1, le=26
    )

    retry_max_attempts: int = Field(
        description="Delivery attempts before a message is given up (NotificationFailed)", default=8, ge=1
    )
    retry_base_seconds: float = Field(
        description="First retry delay; doubles each attempt, with jitter", default=5.0, gt=0
    )
    retry_max_seconds: float = Field(description="Longest retry delay", default=3600.0, gt=0)
    delivery_poll_seconds: float = Field(
        description="How often the delivery worker looks for pending messages when idle", default=1.0, gt=0
    )
    delivery_batch_size: int = Field(description="Most messages one delivery round sends", default=50, ge=1)
    notifier_consume_retry_attempts: int = Field(
        default=5,
        ge=1,
        description="Times a consumed event is tried when the database fails (or a timeout) before it is parked "
        "on the parked topic and the consumer goes on",
    )
    notifier_consume_retry_backoff_seconds: float = Field(
        default=1.0,
        gt=0,
        description="Pause before the second try of a consumed event; doubled for each further try, at most 30 s",
    )

    # Its own variable, not the matcher's VERBUND_INBOX_RETENTION_DAYS: the notifier reads topics kept for a
    # year, so one value set for both services in a shared config map would be wrong for one of them.
    notifier_inbox_retention_days: float = Field(
        default=400.0,
        gt=0,
        description=(
            "Days handled event ids are remembered; keep above the retention of the assignments and "
            "shortfalls topics (1 year), plus a margin because Kafka deletes whole segments late, "
            "or a replay messages people twice"
        ),
    )
    delivery_retention_days: float = Field(
        default=90.0,
        ge=7,
        description=(
            "Days sent and given-up messages are kept after they finished (at least 7, so a digest run "
            "again in the same week is still recognised); pending ones are never deleted"
        ),
    )
    notifier_prune_hour: int = Field(
        default=3, ge=0, le=23, description="Local hour of the daily prune of old event ids and deliveries"
    )
    health_port: int = health_port(8082)

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

    @field_validator("calendar_uid_domain")
    @classmethod
    def _uid_domain_is_a_domain(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return valid_domain(value)
        except ValueError as exc:
            raise ValueError(f"VERBUND_CALENDAR_UID_DOMAIN: {exc}") from exc

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
    def uid_domain(self) -> str:
        """The domain after the '@' of every calendar UID."""
        return self.calendar_uid_domain or sender_domain(self.smtp_from)

    @cached_property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.notifier_timezone)

    @cached_property
    def digest_day_and_time(self) -> tuple[str, int, int]:
        m = _DIGEST_RE.match(self.digest_schedule)
        assert m is not None  # checked by the validator
        return m.group(1), int(m.group(2)), int(m.group(3))
