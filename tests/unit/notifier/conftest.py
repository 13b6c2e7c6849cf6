"""Fixtures for the notifier's fast tests: SQLite file, in-process SMTP and HTTP servers, FastStream's test broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from notifier_harness import WebhookServer, notifier_on_test_broker, notifier_settings
from verbund_notifier.app import NotifierApp
from verbund_notifier.settings import NotifierSettings

from verbund.mailsink import MailSink


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}"


@pytest.fixture
def settings(database_url: str, mail_sink: MailSink) -> NotifierSettings:
    return notifier_settings(database_url, mail_sink)


@pytest.fixture
async def running(settings: NotifierSettings) -> AsyncIterator[NotifierApp]:
    async with notifier_on_test_broker(settings) as app:
        yield app
