"""End-to-end fixtures: the matcher and notifier running as processes against the session's broker and an SMTP sink.

They live as long as one test module, not the session: a service left running would also consume the
integration tests' events and publish a second copy of everything they check.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from service_processes import ServiceProcess, matcher_process, notifier_process

from verbund.mailsink import MailSink


@pytest.fixture(scope="module")
def mail_sink() -> Iterator[MailSink]:
    with MailSink() as sink:
        yield sink


@pytest.fixture(scope="module")
def matcher(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One matcher process for the e2e tests; every test uses a network id of its own."""
    with matcher_process(kafka_bootstrap, tmp_path_factory.mktemp("matcher")) as process:
        yield process


@pytest.fixture(scope="module")
def notifier(
    kafka_bootstrap: str, mail_sink: MailSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """One notifier process for the e2e tests, delivering to `mail_sink`."""
    with notifier_process(kafka_bootstrap, mail_sink.port, tmp_path_factory.mktemp("notifier")) as process:
        yield process
