"""A broker, a PostgreSQL server and service processes that a fault run may kill and bring back."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx
from verbund_schemas.topics import Topic, load_topics

from verbund.stack.kafka_local import LocalKafka
from verbund.stack.ports import free_port
from verbund.stack.postgres_local import LocalPostgres, postmaster_pid


class RestartableKafka(LocalKafka):
    """A local broker that can be killed with SIGKILL and started again on the same ports and data."""

    _command: list[str] | None = None

    def _prepare(self) -> list[str]:
        # Formatting happens once, here; a restart runs the same command on the data the kill left behind.
        self._command = super()._prepare()
        return self._command

    def kill(self) -> None:
        """kill -9: no controlled shutdown, no flush of the log segments beyond what the OS already has."""
        assert self.process is not None, "the broker is not running"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    async def restart(self, timeout_s: float = 180.0) -> None:
        """Start the killed broker again and wait until it answers (log recovery included).

        Called on the event loop's thread: the broker is told to stop when the thread that started it
        ends, so it must not be a short-lived worker thread.
        """
        assert self._command is not None and self.process is None
        self._launch(self._command)
        await self._wait_ready(timeout_s)


class RestartablePostgres(LocalPostgres):
    """A local PostgreSQL server that can be stopped the hard way (`pg_ctl stop -m immediate`) and restarted.

    Unlike the throwaway servers of the other tests it keeps `synchronous_commit` on, as production must: with
    it off, an immediate stop loses transactions whose commit the server had already confirmed (the matcher
    then commits their offsets, and the records are gone), which would be a finding about the test server.
    """

    def start(self, timeout: float = 60.0) -> str:
        url = super().start(timeout)
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("synchronous_commit = on\n")
        self._run("pg_ctl", "-D", str(self.data_dir), "reload")
        return url

    def stop_immediately(self) -> None:
        """Every server process quits at once, without a checkpoint: recovery replays the WAL on the next start."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "-t", "60", "stop", timeout=70)

    def restart(self, timeout: float = 120.0) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            str(int(timeout)),
            "start",
            timeout=timeout + 10,
        )

    @property
    def running(self) -> bool:
        return postmaster_pid(self.data_dir) is not None


def run_topics(prefix: str) -> dict[str, Topic]:
    """The topics of infra/topics.toml under a run's own prefix (instead of the session's)."""
    session_prefix = os.environ.get("VERBUND_TOPIC_PREFIX", "")
    return {
        role: dataclasses.replace(t, name=prefix + t.name.removeprefix(session_prefix))
        for role, t in load_topics().items()
    }


class ServiceProcess:
    """`python -m verbund_matcher` or `python -m verbund_notifier` as its own process, with a log file.

    `kill()` is kill -9; `start()` may be called again afterwards (the log is appended to).
    """

    def __init__(self, name: str, module: str, env: dict[str, str], log_path: Path, health_port: int) -> None:
        self.name = name
        self.module = module
        self.env = env
        self.log_path = log_path
        self.health_port = health_port
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    def start(self) -> ServiceProcess:
        assert self.process is None or self.process.poll() is not None, f"{self.name} runs already"
        self._log = self.log_path.open("ab")
        self._log.write(f"\n==== start {self.starts + 1} at {time.strftime('%H:%M:%S')} ====\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module],
            env={**os.environ, **self.env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """kill -9: no chance to finish a batch, commit offsets, flush the outbox or mark a mail sent."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._close_log()

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM and wait, as an orchestrator stops a replica; kill -9 if it does not finish in time."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._close_log()
        return self.process.returncode

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    async def readiness(self) -> tuple[int, str]:
        """/readyz as a probe sees it: (status, text), or (0, error) while nothing answers."""
        try:
            async with httpx.AsyncClient(timeout=3) as http:
                answer = await http.get(f"http://127.0.0.1:{self.health_port}/readyz")
        except httpx.HTTPError as exc:
            return 0, f"{type(exc).__name__}: {exc}"
        return answer.status_code, answer.text.strip()

    async def until_ready(self, timeout: float = 120.0) -> None:  # noqa: ASYNC109 - one knob, as in the other harnesses
        deadline = time.monotonic() + timeout
        answer = (0, "no answer")
        while time.monotonic() < deadline:
            self.assert_running()
            answer = await self.readiness()
            if answer[0] == 200:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} not ready after {timeout} s ({answer}); log:\n{self.log_tail()}")

    async def held_partitions(self) -> int:
        """Inbound partitions a matcher holds, from its /readyz ("... partitions=<n>"); 0 while not ready."""
        status, text = await self.readiness()
        if status != 200 or "partitions=" not in text:
            return 0
        with contextlib.suppress(ValueError):
            return int(text.rsplit("partitions=", 1)[1].split()[0])
        return 0

    def assert_running(self) -> None:
        code = None if self.process is None else self.process.poll()
        assert self.process is not None and code is None, f"{self.name} exited with {code}; log:\n{self.log_tail()}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return f"(no log at {self.log_path})"
        return "\n".join(text.splitlines()[-lines:])


def matcher_env(
    bootstrap: str, database_url: str, topic_prefix: str, group_id: str, health_port: int
) -> dict[str, str]:
    """A matcher configured for fault runs: deterministic, short solves, no scheduled re-optimisation."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "VERBUND_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "VERBUND_TOPIC_PREFIX": topic_prefix,
        "VERBUND_DATABASE_URL": database_url,
        "VERBUND_GROUP_ID": group_id,
        "VERBUND_HEALTH_PORT": str(health_port),
        "VERBUND_SOLVER_DETERMINISTIC": "true",
        "VERBUND_SOLVER_WORKERS": "1",
        "VERBUND_REPLAN_TIME_LIMIT": "1",
        "VERBUND_FULL_REOPTIMISE_INTERVAL": "0",
        "VERBUND_BATCH_TIMEOUT_MS": "100",
        "VERBUND_RELAY_POLL_SECONDS": "0.1",
        "VERBUND_LAG_POLL_SECONDS": "1",
        "VERBUND_AUTO_OFFSET_RESET": "earliest",
        "VERBUND_LOG_JSON": "false",
    }


def notifier_env(
    bootstrap: str, database_url: str, topic_prefix: str, group_id: str, smtp_port: int, health_port: int
) -> dict[str, str]:
    """A notifier that mails to the run's SMTP sink and sends no reminders or digests (they depend on the day)."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "VERBUND_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "VERBUND_TOPIC_PREFIX": topic_prefix,
        "VERBUND_NOTIFIER_DATABASE_URL": database_url,
        "VERBUND_NOTIFIER_GROUP_ID": group_id,
        "VERBUND_NOTIFIER_SCHEDULER": "false",
        "VERBUND_REMINDER_DAYS": "",
        "VERBUND_SMTP_HOST": "127.0.0.1",
        "VERBUND_SMTP_PORT": str(smtp_port),
        "VERBUND_SMTP_STARTTLS": "false",
        # The delivery lease is 2 x this + 30 s: a mail claimed when the notifier is killed waits that long.
        "VERBUND_SMTP_TIMEOUT_SECONDS": "5",
        "VERBUND_WEBHOOK_TIMEOUT_SECONDS": "5",
        # How long an assignment waits for its learner's registration. Every assignment event of a learner whose
        # withdrawal the notifier read first waits it out in full, holding up its partition: at the default 30 s
        # (and still at 10 s) that alone keeps a fault-free run from draining for minutes. The price of 1 s:
        # after a notifier restart its groups join one by one, and an assignment that overtakes its
        # registration by more than this is applied without the learner, who is then never told (both in
        # docs/benchmarks.md, Faults under load).
        "VERBUND_DELIVERY_POLL_SECONDS": "0.2",
        "VERBUND_RETRY_BASE_SECONDS": "0.5",
        "VERBUND_RETRY_MAX_SECONDS": "5",
        "VERBUND_HEALTH_PORT": str(health_port),
        "VERBUND_LOG_JSON": "false",
    }


__all__ = [
    "RestartableKafka",
    "RestartablePostgres",
    "ServiceProcess",
    "free_port",
    "matcher_env",
    "notifier_env",
    "run_topics",
]
