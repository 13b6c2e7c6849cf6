"""Matcher and notifier on a broker of their own that then goes away: readiness says so, SIGTERM still stops them.

The session's broker is shared by every test, so this one starts (and stops) a local broker of its own.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from service_processes import ServiceProcess, matcher_process, notifier_process
from verbund_schemas.topics import load_topics

from verbund.mailsink import MailSink
from verbund.stack.kafka_local import LocalKafka, run_coroutine
from verbund.stack.topics import ensure_topics

pytestmark = [pytest.mark.kafka, pytest.mark.e2e, pytest.mark.slow]


def until_not_ready(service: ServiceProcess, timeout: float = 60) -> tuple[int, str]:
    deadline = time.monotonic() + timeout
    status, text = service.readiness()
    while status == 200 and time.monotonic() < deadline:
        service.assert_running()
        time.sleep(0.5)
        status, text = service.readiness()
    return status, text


def stopped_by_sigterm(service: ServiceProcess, timeout: float = 120) -> int:
    service.process.terminate()
    try:
        return service.process.wait(timeout)
    except subprocess.TimeoutExpired:
        tail = service.log_tail()
        raise AssertionError(f"{service.name} still runs {timeout} s after SIGTERM; log:\n{tail}") from None


def test_readiness_of_both_services_turns_503_naming_the_broker_once_it_is_gone_and_sigterm_still_stops_them(
    tmp_path: Path,
) -> None:
    kafka = LocalKafka()
    kafka.start()
    # The services connect as this broker's super user (the session's one, when its broker started first).
    os.environ.update(kafka.admin_security.environment())
    try:
        run_coroutine(ensure_topics(kafka.bootstrap_servers, load_topics().values()))
        with (
            MailSink() as sink,
            matcher_process(kafka.bootstrap_servers, tmp_path) as matcher,
            notifier_process(kafka.bootstrap_servers, sink.port, tmp_path) as notifier,
        ):
            assert matcher.readiness()[0] == 200
            assert notifier.readiness()[0] == 200

            kafka.stop()

            status, text = until_not_ready(matcher)
            assert status == 503, text
            assert f"kafka broker unreachable at {kafka.bootstrap_servers}" in text
            status, text = until_not_ready(notifier)
            assert status == 503, text
            assert f"kafka: broker unreachable at {kafka.bootstrap_servers}" in text
            assert "database: ok" in text

            assert stopped_by_sigterm(matcher) == 0, matcher.log_tail()
            assert stopped_by_sigterm(notifier) == 0, notifier.log_tail()
    finally:
        kafka.stop()
