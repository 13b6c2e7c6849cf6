"""The stack that `verbund stack up` leaves running in the background, and its state file."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from verbund.stack.kafka_local import LocalKafka, run_coroutine
from verbund.stack.locations import run_root
from verbund.stack.ports import port_is_free
from verbund.stack.postgres_local import LocalPostgres, postmaster_pid, stop_server
from verbund.stack.processes import pid_alive, terminate
from verbund.stack.topics import TopicReport, ensure_topics

DEFAULT_KAFKA_PORT = 9092
# Not 5432: a system PostgreSQL (Debian's `main` cluster) often has that one.
DEFAULT_POSTGRES_PORT = 5433


@dataclass
class KafkaState:
    pid: int
    bootstrap_servers: str
    run_dir: str
    log_file: str
    version: str


@dataclass
class PostgresState:
    url: str
    port: int
    run_dir: str
    data_dir: str
    bin_dir: str
    log_file: str


@dataclass
class StackState:
    kafka: KafkaState | None = None
    postgres: PostgresState | None = None


def stack_dir() -> Path:
    return run_root() / "stack"


def _state_file() -> Path:
    return stack_dir() / "state.json"


def load_state() -> StackState:
    """What `up` recorded; empty when nothing was started (or the file is unreadable)."""
    try:
        raw: dict[str, Any] = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return StackState()
    kafka = KafkaState(**raw["kafka"]) if raw.get("kafka") else None
    postgres = PostgresState(**raw["postgres"]) if raw.get("postgres") else None
    return StackState(kafka=kafka, postgres=postgres)


def _save_state(state: StackState) -> None:
    path = _state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # The file holds the database password: only the owner may read it.
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps(asdict(state), indent=2))
    tmp.replace(path)


def kafka_running(state: KafkaState) -> bool:
    """Whether the recorded pid is still *our* broker (pids are reused after a reboot)."""
    if not pid_alive(state.pid):
        return False
    try:
        cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return True
    return "kafka.Kafka" in cmdline and state.run_dir in cmdline


def postgres_running(state: PostgresState) -> bool:
    return postmaster_pid(Path(state.data_dir)) is not None


def pick_port(requested: int | None, default: int) -> int:
    """None: the default port when free, else any free one; 0: any free one; N: exactly N."""
    if requested is None:
        return default if port_is_free(default) else 0
    return requested


@dataclass(frozen=True)
class UpResult:
    state: StackState
    kafka_started: bool
    postgres_started: bool
    topics: TopicReport | None


def up(*, postgres: bool, kafka_port: int | None, postgres_port: int | None, timeout: float) -> UpResult:
    """Start what is not running yet (Kafka, topics, and PostgreSQL when asked); keeps what runs."""
    state = load_state()
    kafka_started = postgres_started = False
    if state.kafka is None or not kafka_running(state.kafka):
        run_dir = stack_dir() / "kafka"
        shutil.rmtree(run_dir, ignore_errors=True)  # a stale broker's data: start clean
        kafka = LocalKafka(
            port=pick_port(kafka_port, DEFAULT_KAFKA_PORT), run_dir=run_dir, detached=True, keep_run_dir=True
        )
        kafka.start(timeout=timeout)
        assert kafka.pid is not None
        state.kafka = KafkaState(
            pid=kafka.pid,
            bootstrap_servers=kafka.bootstrap_servers,
            run_dir=str(kafka.run_dir),
            log_file=str(kafka.log_file),
            version=kafka.version,
        )
        _save_state(state)
        kafka_started = True
    try:
        topics = run_coroutine(ensure_topics(state.kafka.bootstrap_servers, timeout_s=timeout))
        if postgres and (state.postgres is None or not postgres_running(state.postgres)):
            if state.postgres is not None:
                shutil.rmtree(state.postgres.run_dir, ignore_errors=True)
            server = LocalPostgres(
                port=pick_port(postgres_port, DEFAULT_POSTGRES_PORT),
                run_dir=stack_dir() / "postgres",
                detached=True,
                keep_run_dir=True,
            )
            server.start(timeout=timeout)
            assert server.bin_dir is not None
            state.postgres = PostgresState(
                url=server.url,
                port=server.port,
                run_dir=str(server.run_dir),
                data_dir=str(server.data_dir),
                bin_dir=str(server.bin_dir),
                log_file=str(server.log_file),
            )
            _save_state(state)
            postgres_started = True
    except BaseException:
        # Leave nothing half-started behind that `down` would have to guess about.
        if kafka_started:
            down()
        raise
    return UpResult(state, kafka_started, postgres_started, topics)


@dataclass(frozen=True)
class DownResult:
    kafka_stopped: bool
    postgres_stopped: bool


def down(timeout: float = 30.0) -> DownResult:
    """Stop what `up` started and delete its run directories."""
    state = load_state()
    kafka_stopped = postgres_stopped = False
    if state.kafka is not None:
        if kafka_running(state.kafka):
            terminate(state.kafka.pid, timeout=timeout)
            kafka_stopped = True
        shutil.rmtree(state.kafka.run_dir, ignore_errors=True)
    if state.postgres is not None:
        if postgres_running(state.postgres):
            stop_server(Path(state.postgres.data_dir), Path(state.postgres.bin_dir), timeout=timeout)
            postgres_stopped = True
        shutil.rmtree(state.postgres.run_dir, ignore_errors=True)
    _state_file().unlink(missing_ok=True)
    # A leftover without a state file (e.g. the state was deleted by hand) would block the default ports.
    for leftover in ("kafka", "postgres"):
        shutil.rmtree(stack_dir() / leftover, ignore_errors=True)
    return DownResult(kafka_stopped, postgres_stopped)


def running_kafka_bootstrap() -> str | None:
    """The bootstrap address of the broker `verbund stack up` left running, or None."""
    state = load_state()
    if state.kafka is not None and kafka_running(state.kafka):
        return state.kafka.bootstrap_servers
    return None


def export_lines(state: StackState) -> list[str]:
    """Shell lines that point tests and tools at the running stack."""
    lines = []
    if state.kafka is not None and kafka_running(state.kafka):
        lines.append(f"export KAFKA_BOOTSTRAP_SERVERS={state.kafka.bootstrap_servers}")
    if state.postgres is not None and postgres_running(state.postgres):
        lines.append(f"export VERBUND_TEST_DATABASE_URL='{state.postgres.url}'")
    return lines


__all__ = [
    "DEFAULT_KAFKA_PORT",
    "DEFAULT_POSTGRES_PORT",
    "DownResult",
    "KafkaState",
    "PostgresState",
    "StackState",
    "UpResult",
    "down",
    "export_lines",
    "kafka_running",
    "load_state",
    "postgres_running",
    "running_kafka_bootstrap",
    "stack_dir",
    "up",
]
