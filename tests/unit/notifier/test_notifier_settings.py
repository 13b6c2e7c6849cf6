"""Settings from VERBUND_ variables, and the database URLs derived from them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from verbund_notifier.channels.webhook import sign, verify
from verbund_notifier.settings import NotifierSettings
from verbund_notifier.store import sync_url


def test_defaults_are_german_sqlite_two_reminders_and_a_monday_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("VERBUND_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    s = NotifierSettings()
    assert s.default_language == "de"
    assert s.notifier_database_url.startswith("sqlite+aiosqlite:///")
    assert s.reminder_day_list == (14, 2)
    assert s.digest_day_and_time == ("mon", 7, 0)
    assert s.webhook_secret is None
    assert s.notifier_scheduler is True


def test_bootstrap_servers_are_read_from_kafka_bootstrap_servers_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERBUND_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092")
    monkeypatch.setenv("VERBUND_REMINDER_DAYS", "7, 21,1")
    monkeypatch.setenv("VERBUND_NOTIFIER_SCHEDULER", "false")
    s = NotifierSettings()
    assert s.kafka_bootstrap_servers == "kafka-1:9092"
    assert s.reminder_day_list == (21, 7, 1)
    assert s.notifier_scheduler is False


def test_wrong_reminder_days_and_digest_schedule_say_how_to_write_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBUND_REMINDER_DAYS", "two weeks")
    with pytest.raises(ValidationError, match=r"VERBUND_REMINDER_DAYS='two weeks'.*e\.g\. 14,2"):
        NotifierSettings()
    monkeypatch.delenv("VERBUND_REMINDER_DAYS")
    monkeypatch.setenv("VERBUND_DIGEST_SCHEDULE", "monday 7am")
    with pytest.raises(ValidationError, match=r"e\.g\. 'mon 07:00'"):
        NotifierSettings()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:///var/notifier.db", "sqlite:///var/notifier.db"),
        ("postgresql+asyncpg://u:p%40ss@db:5432/verbund", "postgresql+psycopg://u:p%40ss@db:5432/verbund"),
    ],
)
def test_job_store_gets_a_sync_driver_url_for_the_same_database(url: str, expected: str) -> None:
    assert sync_url(url) == expected


def test_unsupported_database_url_names_the_supported_ones() -> None:
    with pytest.raises(ValueError, match=r"supports SQLite .* and PostgreSQL"):
        sync_url("mysql+aiomysql://db/verbund")


def test_webhook_signature_is_hmac_sha256_of_the_body_and_a_changed_body_fails() -> None:
    body = b'{"kind":"assignment_made"}'
    header = sign(body, "secret")
    assert header == "sha256=c767d2bb3c5c77b37a9a89a06f52b886f1e2cac8e29b03f1ead4312022830b0c"
    assert verify(body, "secret", header)
    assert not verify(body + b" ", "secret", header)
    assert not verify(body, "other", header)


def test_inbox_outlives_the_year_long_topics_and_ignores_the_matchers_retention_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from verbund_schemas import load_topics

    year_topics = max(load_topics()[role].retention_ms for role in ("assignments", "shortfalls", "inbound"))
    monkeypatch.setenv("VERBUND_INBOX_RETENTION_DAYS", "35")  # the matcher's, e.g. from a shared config map
    s = NotifierSettings()
    assert s.notifier_inbox_retention_days * 86_400_000 > year_topics
    monkeypatch.setenv("VERBUND_NOTIFIER_INBOX_RETENTION_DAYS", "500")
    assert NotifierSettings().notifier_inbox_retention_days == 500


def test_health_endpoint_defaults_to_localhost_8082_and_port_0_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERBUND_HEALTH_PORT", raising=False)
    monkeypatch.delenv("VERBUND_HEALTH_HOST", raising=False)
    s = NotifierSettings()
    assert (s.health_host, s.health_port) == ("127.0.0.1", 8082)
    monkeypatch.setenv("VERBUND_HEALTH_PORT", "0")
    assert NotifierSettings().health_port == 0


def test_deliveries_are_kept_at_least_a_week_so_a_repeated_digest_is_recognised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VERBUND_DELIVERY_RETENTION_DAYS", "3")
    with pytest.raises(ValidationError, match="delivery_retention_days"):
        NotifierSettings()
