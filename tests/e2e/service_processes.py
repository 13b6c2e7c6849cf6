"""The matcher and notifier as the operator runs them (`python -m ...`), configured for one test session."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from verbund_runtime.kafka import client_options

from verbund.stack.kafka_local import run_coroutine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServiceProcess:
    """One service subprocess with its log file; stop() sends SIGTERM and waits, as an orchestrator would."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    health_port: int

    def log_tail(self, chars: int = 4000) -> str:
        self.log_file.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]

    def assert_running(self) -> None:
        code = self.process.poll()
        assert code is None, f"{self.name} exited with {code}; its log ends with:\n{self.log_tail()}"

    def stop(self, timeout: float = 60.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log_file.close()

    def readiness(self) -> tuple[int, str]:
        """/readyz as a probe sees it: status and text (0 and the error while nothing answers)."""
        try:
            response = httpx.get(f"http://127.0.0.1:{self.health_port}/readyz", timeout=10)
        except httpx.HTTPError as exc:
            return 0, f"{type(exc).__name__}: {exc}"
        return response.status_code, response.text.strip()


def _start(name: str, module: str, env: dict[str, str], folder: Path, health_port: int) -> ServiceProcess:
    log_path = folder / f"{name}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", module], env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT
    )
    return ServiceProcess(name, process, log_path, log_file, health_port)


def _wait_ready(service: ServiceProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    answer = "no answer"
    while time.monotonic() < deadline:
        service.assert_running()
        status, text = service.readiness()
        answer = f"{status} {text}"
        if status == 200:
            return
        time.sleep(0.3)
    raise AssertionError(f"{service.name} not ready after {timeout} s ({answer}); log:\n{service.log_tail()}")


async def _groups_known(bootstrap: str, groups: set[str]) -> bool:
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        listed = {str(g[0]) for g in await admin.list_consumer_groups()}
    finally:
        await admin.close()
    return groups <= listed


def _wait_consuming(process: ServiceProcess, bootstrap: str, groups: set[str], timeout: float) -> None:
    """Until every consumer group of the process has joined (the notifier has no health endpoint)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.assert_running()
        if run_coroutine(_groups_known(bootstrap, groups)):
            return
        time.sleep(0.5)
    raise AssertionError(f"{process.name} did not join {sorted(groups)} in {timeout} s; log:\n{process.log_tail()}")


@contextlib.contextmanager
def matcher_process(bootstrap: str, folder: Path) -> Iterator[ServiceProcess]:
    """`python -m verbund_matcher` on a SQLite file in `folder`, ready (/readyz) when the block starts.

    The topics carry this session's prefix, so a new consumer group starting at the beginning reads only
    this session's events.
    """
    health_port = _free_port()
    matcher = _start(
        "matcher",
        "verbund_matcher",
        {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "VERBUND_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'matcher.db'}",
            "VERBUND_GROUP_ID": f"e2e-matcher-{uuid.uuid4().hex[:8]}",
            "VERBUND_HEALTH_PORT": str(health_port),
            "VERBUND_SOLVER_WORKERS": "1",
            "VERBUND_REPLAN_TIME_LIMIT": "5",
            "VERBUND_FULL_REOPTIMISE_INTERVAL": "0",
            "VERBUND_BATCH_TIMEOUT_MS": "100",
            "VERBUND_RELAY_POLL_SECONDS": "0.2",
            "VERBUND_AUTO_OFFSET_RESET": "earliest",
            "VERBUND_LOG_JSON": "false",
        },
        folder,
        health_port,
    )
    try:
        _wait_ready(matcher, timeout=120)
        yield matcher
    finally:
        matcher.stop()


@contextlib.contextmanager
def notifier_process(bootstrap: str, smtp_port: int, folder: Path) -> Iterator[ServiceProcess]:
    """`python -m verbund_notifier` on a SQLite file in `folder`, sending mail to 127.0.0.1:smtp_port."""
    group = f"e2e-notifier-{uuid.uuid4().hex[:8]}"
    health_port = _free_port()
    notifier = _start(
        "notifier",
        "verbund_notifier",
        {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "VERBUND_NOTIFIER_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'notifier.db'}",
            "VERBUND_NOTIFIER_GROUP_ID": group,
            "VERBUND_SMTP_HOST": "127.0.0.1",
            "VERBUND_SMTP_PORT": str(smtp_port),
            "VERBUND_SMTP_STARTTLS": "false",
            "VERBUND_DELIVERY_POLL_SECONDS": "0.2",
            "VERBUND_RETRY_BASE_SECONDS": "0.5",
            "VERBUND_HEALTH_PORT": str(health_port),
        },
        folder,
        health_port,
    )
    try:
        _wait_consuming(
            notifier, bootstrap, {f"{group}.{role}" for role in ("inbound", "assignments", "shortfalls")}, 120
        )
        _wait_ready(notifier, timeout=120)
        yield notifier
    finally:
        notifier.stop()
