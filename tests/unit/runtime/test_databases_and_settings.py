"""Shared database URLs, engines and settings: the services' names and defaults stay as each service had them."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from verbund_console.settings import ConsoleSettings
from verbund_matcher.settings import MatcherSettings
from verbund_notifier.settings import NotifierSettings
from verbund_runtime import databases
from verbund_runtime.health import health_server


async def ready() -> tuple[bool, str]:
    return True, "ok"


@pytest.mark.parametrize(
    ("given", "async_", "sync"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db", "sqlite:///x.db"),
        ("postgresql://u:p%25w@db/v", "postgresql+asyncpg://u:p%25w@db/v", "postgresql+psycopg://u:p%25w@db/v"),
        ("postgresql+psycopg://db/v", "postgresql+psycopg_async://db/v", "postgresql+psycopg://db/v"),
    ],
)
def test_a_url_gets_the_async_or_sync_driver_of_its_database(given: str, async_: str, sync: str) -> None:
    assert databases.async_url(given, setting="VERBUND_X_URL", service="x") == async_
    assert databases.sync_url(given, setting="VERBUND_X_URL", service="x") == sync


def test_an_unsupported_database_names_the_setting_and_what_works() -> None:
    with pytest.raises(ValueError, match="VERBUND_X_URL uses 'mysql'; the x supports SQLite"):
        databases.sync_url("mysql://db/v", setting="VERBUND_X_URL", service="x")


async def test_sqlite_engines_run_their_pragmas_on_every_connection(tmp_path: Path) -> None:
    engine = databases.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", sqlite_pragmas=("journal_mode=WAL",))
    async with engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
    await engine.dispose()
    sync = databases.create_sync_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with sync.connect() as connection:
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    sync.dispose()


def test_shared_settings_keep_their_variables_and_the_console_its_own_health_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VERBUND_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9093")
    monkeypatch.setenv("VERBUND_HEALTH_PORT", "9001")
    monkeypatch.setenv("VERBUND_CONSOLE_HEALTH_PORT", "9003")
    for settings in (MatcherSettings(), NotifierSettings(), ConsoleSettings()):
        assert (settings.log_level, settings.kafka_bootstrap_servers) == ("DEBUG", "broker:9093")
    assert (MatcherSettings().health_port, NotifierSettings().health_port) == (9001, 9001)
    assert ConsoleSettings().health_port == 9003
    monkeypatch.delenv("VERBUND_HEALTH_PORT")
    monkeypatch.delenv("VERBUND_CONSOLE_HEALTH_PORT")
    defaults = (MatcherSettings().health_port, NotifierSettings().health_port, ConsoleSettings().health_port)
    assert defaults == (8081, 8082, 8083)


def test_a_health_port_of_zero_turns_the_endpoint_off() -> None:
    assert health_server(MatcherSettings(health_port=0), ready, service="matcher") is None
    assert health_server(ConsoleSettings(health_port=0), ready, service="console") is None
    assert health_server(ConsoleSettings(health_port=8093), ready, service="console") is not None
