"""The notifier's integration tests share the unit tests' event factories and local servers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The factories and the HTTP receiver live beside the unit tests; one copy serves both.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "notifier"))

from notifier_harness import WebhookServer

from verbund.mailsink import MailSink


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    yield server
    server.stop()
