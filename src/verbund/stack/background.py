"""The stack that `verbund stack up` leaves running in the background, and its state file."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from verbund_runtime.kafka import PASSWORD_FILE_ENV, SECURITY_ENV, KafkaSecurity
from verbund_schemas.topics import load_topics

from verbund.stack.access import (
    ADMIN,
    SERVICE_PRINCIPALS,
    BrokerCredentials,
    grant,
    grants_for,
    load_or_create_credentials,
    password_file,
)
from verbund.stack.kafka_local import LocalKafka, run_coroutine
from verbund.stack.locations import run_root
from verbund.stack.ports import accepts_connections, free_port, port_is_free
from verbund.stack.postgres_local import LocalPostgres, postmaster_pid, stop_server
from verbund.stack.processes import pid_alive, terminate
from verbund.stack.services import (
    ServiceState,
    service_running,
    start_service,
    stop_service,
    wait_until_answering,
)
from verbund.stack.topics import TopicReport, ensure_topics

DEFAULT_KAFKA_PORT = 9092
# Not 5432: a system PostgreSQL (Debian's `main` cluster) often has that one.
DEFAULT_POSTGRES_PORT = 5433
# Not 25: that one needs root, and a system MTA may hold it. The services point here when run from the stack.
DEFAULT_SMTP_PORT = 1025
DEFAULT_CONSOLE_PORT = 8090
DEFAULT_CONSOLE_HEALTH_PORT = 8083
# The matcher's health port, where it serves /keys to the notifier, the console and the CLI (ADR 0004).
DEFAULT_KEY_SERVICE_PORT = 8081
# The notifier's health port, where it serves the messages a learner's export includes. Not its default 8082: a
# notifier run by hand from the same checkout keeps that one.
DEFAULT_NOTIFIER_PORT = 8084
MAIL_SINK = "mail sink"
CONSOLE = "console"
# Stopped first on `down`: the demo's services write to the sink and the broker until they stop.
SERVICE_ORDER = ("matcher", "notifier", CONSOLE, MAIL_SINK)
# The demo's coordinator sign-in (mode 600), for whoever lost the demo's output; `down` deletes it.
DEMO_SIGN_IN = "demo-sign-in.txt"


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
    services: dict[str, ServiceState] = field(default_factory=dict)
    # The topic prefix the background services consume (the demo gives its run one of its own).
    topic_prefix: str = ""
    # The port the stack's matcher serves its key endpoint on: chosen at the first `up`, so the console started
    # then can be told where keys come from before any matcher runs.
    key_service_port: int | None = None
    # The port the stack's notifier serves its message endpoint on, chosen and handed over like the key port.
    notifier_port: int | None = None


def stack_dir() -> Path:
    return run_root() / "stack"


def kafka_credentials_dir() -> Path:
    """The stack broker's SCRAM passwords, one file per principal; kept across `down` and `up` (never in git)."""
    return stack_dir() / "kafka-credentials"


def stack_credentials() -> BrokerCredentials:
    """The stack's principals and passwords: made on first start, reused after."""
    return load_or_create_credentials(kafka_credentials_dir())


def principal_environment(principal: str) -> dict[str, str]:
    """VERBUND_KAFKA_* for a process of the stack that connects as `principal`; every security variable is set,
    so none the starting shell exported (another cluster's) leaks into it."""
    return {name: "" for name in SECURITY_ENV} | stack_credentials().security(principal).environment()


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
    services = {name: ServiceState(**entry) for name, entry in (raw.get("services") or {}).items()}
    return StackState(
        kafka=kafka,
        postgres=postgres,
        services=services,
        topic_prefix=raw.get("topic_prefix", ""),
        key_service_port=raw.get("key_service_port"),
        notifier_port=raw.get("notifier_port"),
    )


def save_state(state: StackState) -> None:
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
    services_started: tuple[str, ...] = ()


def up(
    *,
    postgres: bool,
    kafka_port: int | None,
    postgres_port: int | None,
    timeout: float,
    smtp_port: int | None = None,
    console_port: int | None = None,
    bootstrap: str | None = None,
    topic_prefix: str | None = None,
) -> UpResult:
    """Start what is not running yet and keep what runs: Kafka (unless `bootstrap` names another cluster), the
    topics, PostgreSQL when asked, the mail sink and the console.

    `topic_prefix` is the prefix the console consumes; None keeps a running console's, else VERBUND_TOPIC_PREFIX.
    """
    state = load_state()
    kafka_started = postgres_started = False
    if bootstrap is None and (state.kafka is None or not kafka_running(state.kafka)):
        run_dir = stack_dir() / "kafka"
        shutil.rmtree(run_dir, ignore_errors=True)  # a stale broker's data: start clean
        kafka = LocalKafka(
            port=pick_port(kafka_port, DEFAULT_KAFKA_PORT),
            run_dir=run_dir,
            detached=True,
            keep_run_dir=True,
            credentials=stack_credentials(),
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
        save_state(state)
        kafka_started = True
    started: list[str] = []
    try:
        servers = bootstrap or _kafka_bootstrap(state)
        # Its own broker is set up as its super user; another cluster as VERBUND_KAFKA_* say.
        admin = stack_credentials().admin if bootstrap is None else KafkaSecurity.from_env()
        topics = run_coroutine(ensure_topics(servers, timeout_s=timeout, security=admin))
        if bootstrap is None:
            grant_service_access(servers)
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
            save_state(state)
            postgres_started = True
        if _start_mail_sink(state, smtp_port, timeout):
            started.append(MAIL_SINK)
        key_port = _service_port(state, "matcher", state.key_service_port, DEFAULT_KEY_SERVICE_PORT)
        notifier_port = _service_port(state, "notifier", state.notifier_port, DEFAULT_NOTIFIER_PORT)
        if (key_port, notifier_port) != (state.key_service_port, state.notifier_port):
            state.key_service_port, state.notifier_port = key_port, notifier_port
            save_state(state)
        if topic_prefix is None:
            console = state.services.get(CONSOLE)
            running = console is not None and service_running(console)
            topic_prefix = state.topic_prefix if running else os.environ.get("VERBUND_TOPIC_PREFIX", "")
        console_security = principal_environment("console") if bootstrap is None else {}
        if _start_console(
            state, servers, topic_prefix, console_port, timeout, fresh_broker=kafka_started, security=console_security
        ):
            started.append(CONSOLE)
    except BaseException:
        # Leave nothing half-started behind that `down` would have to guess about.
        if kafka_started:
            down()
        raise
    return UpResult(state, kafka_started, postgres_started, topics, tuple(started))


def grant_service_access(servers: str) -> None:
    """Give each service principal of the stack its ACLs on the topics of this VERBUND_TOPIC_PREFIX (the broker
    keeps the ones that exist; the demo's runs each add their prefix's)."""
    admin = stack_credentials().admin
    topics = load_topics()

    async def grant_all() -> None:
        for principal in SERVICE_PRINCIPALS:
            await grant(servers, admin, principal, grants_for(principal, topics))

    run_coroutine(grant_all())


def _service_port(state: StackState, service: str, recorded: int | None, default: int) -> int:
    """The port a service of the stack is to serve on: the recorded one, unless another process took it since
    (then a free one, and the console follows it)."""
    running = state.services.get(service)
    if recorded is not None and (port_is_free(recorded) or (running is not None and service_running(running))):
        return recorded
    return _any_port(None, default)


def _kafka_bootstrap(state: StackState) -> str:
    assert state.kafka is not None
    return state.kafka.bootstrap_servers


def _any_port(requested: int | None, default: int) -> int:
    port = pick_port(requested, default)
    return port or free_port()


def mail_dir() -> Path:
    """Where the stack's mail sink keeps every message as an .eml file (the console reads them there)."""
    return stack_dir() / "mail"


def console_dir() -> Path:
    """The stack's console: its SQLite database (read model and accounts)."""
    return stack_dir() / "console"


def console_database_url() -> str:
    return f"sqlite+aiosqlite:///{console_dir() / 'console.db'}"


def _session_secret() -> str:
    """The console's cookie-signing key: made on first start, kept (mode 600) beside the state, never in git."""
    return _stack_secret("console-session-secret")


def key_service_token() -> str:
    """The token of the stack matcher's key endpoint: made on first start, kept (mode 600) beside the state."""
    return _stack_secret("key-service-token")


def master_key_file() -> Path:
    """The master key that wraps the stack matcher's data keys; the matcher writes it (mode 600) on first use and
    `down` keeps it, like the broker's passwords: a demo's database from before stays openable."""
    return stack_dir() / "matcher-master.key"


def key_service_url(state: StackState) -> str | None:
    """Where the stack's matcher serves /keys (None before the first `up`)."""
    return None if state.key_service_port is None else f"http://127.0.0.1:{state.key_service_port}"


def key_service_environment(state: StackState) -> dict[str, str]:
    """VERBUND_KEY_SERVICE_URL and _TOKEN for a process that opens or seals names through the stack's matcher."""
    url = key_service_url(state)
    if url is None:
        return {}
    return {"VERBUND_KEY_SERVICE_URL": url, "VERBUND_KEY_SERVICE_TOKEN": key_service_token()}


def matcher_key_environment(state: StackState) -> dict[str, str]:
    """What the stack's matcher needs to serve keys: its health port, the token, the master key file."""
    assert state.key_service_port is not None, "the stack is not up"
    return {
        "VERBUND_HEALTH_PORT": str(state.key_service_port),
        "VERBUND_KEY_SERVICE_TOKEN": key_service_token(),
        "VERBUND_MASTER_KEY_FILE": str(master_key_file()),
    }


def notifier_url(state: StackState) -> str | None:
    """Where the stack's notifier serves the messages it holds (None before the first `up`)."""
    return None if state.notifier_port is None else f"http://127.0.0.1:{state.notifier_port}"


def notifier_environment(state: StackState) -> dict[str, str]:
    """VERBUND_NOTIFIER_URL for a process whose learner export includes the messages (read with the key token)."""
    url = notifier_url(state)
    return {} if url is None else {"VERBUND_NOTIFIER_URL": url}


def console_endpoints(state: StackState) -> dict[str, str]:
    """Where the stack's console opens names and finds the messages for a learner's export download: addresses,
    not secrets (the token goes apart), recorded in the state file; a change restarts the console."""
    key_url = {k: v for k, v in key_service_environment(state).items() if k == "VERBUND_KEY_SERVICE_URL"}
    return key_url | notifier_environment(state)


def stack_endpoints() -> dict[str, str]:
    """The key endpoint's environment while the stack's matcher runs, and the notifier's URL while its notifier
    runs: what a command of this shell seals, opens and exports through."""
    state = load_state()
    notifier = state.services.get("notifier")
    if notifier is None or not service_running(notifier):
        return stack_key_service()
    return stack_key_service() | notifier_environment(state)


def stack_key_service() -> dict[str, str]:
    """The key endpoint's environment when the stack's matcher runs (the CLI seals and opens through it), else {}."""
    state = load_state()
    matcher = state.services.get("matcher")
    if matcher is None or not service_running(matcher):
        return {}
    return key_service_environment(state)


def _stack_secret(name: str) -> str:
    path = stack_dir() / name
    try:
        secret = path.read_text().strip()
    except OSError:
        secret = ""
    if len(secret) < 32:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        tmp.touch(mode=0o600)
        tmp.write_text(secret + "\n")
        tmp.replace(path)
    return secret


def smtp_port_of(state: StackState) -> int | None:
    sink = state.services.get(MAIL_SINK)
    if sink is None or not service_running(sink):
        return None
    return int(sink.url.rsplit(":", 1)[1])


def _start_mail_sink(state: StackState, requested: int | None, timeout: float) -> bool:
    current = state.services.get(MAIL_SINK)
    if current is not None and service_running(current):
        return False
    port = _any_port(requested, DEFAULT_SMTP_PORT)
    sink = start_service(
        MAIL_SINK,
        "verbund.mailsink",
        url=f"smtp://127.0.0.1:{port}",
        env={},
        run_dir=stack_dir(),
        args=("--port", str(port), "--directory", str(mail_dir())),
    )
    state.services[MAIL_SINK] = sink
    save_state(state)
    wait_until_answering(sink, lambda: accepts_connections("127.0.0.1", port), timeout)
    return True


def _start_console(
    state: StackState,
    servers: str,
    prefix: str,
    requested: int | None,
    timeout: float,
    *,
    fresh_broker: bool,
    security: dict[str, str],
) -> bool:
    source = {"VERBUND_KAFKA_BOOTSTRAP_SERVERS": servers, "VERBUND_TOPIC_PREFIX": prefix}
    keys = key_service_environment(state)
    key_url = console_endpoints(state)
    current = state.services.get(CONSOLE)
    if current is not None and service_running(current):
        # A console from before the stack sealed names is restarted (read model kept) to open them.
        if all(current.env.get(k) == v for k, v in (source | key_url).items()):
            return False
        stop_service(current)
    if fresh_broker or current is None or any(current.env.get(k) != v for k, v in source.items()):
        # Its read model folded other topics (or a broker that is gone): it starts over, accounts with it.
        shutil.rmtree(console_dir(), ignore_errors=True)
    console_dir().mkdir(parents=True, exist_ok=True)
    port = _any_port(requested, DEFAULT_CONSOLE_PORT)
    health_port = _any_port(None, DEFAULT_CONSOLE_HEALTH_PORT)
    url = f"http://127.0.0.1:{port}/"
    console = start_service(
        CONSOLE,
        "verbund_console",
        url=url,
        env={
            **source,
            **key_url,
            "VERBUND_CONSOLE_DATABASE_URL": console_database_url(),
            "VERBUND_CONSOLE_HOST": "127.0.0.1",
            "VERBUND_CONSOLE_PORT": str(port),
            "VERBUND_CONSOLE_HEALTH_PORT": str(health_port),
            "VERBUND_CONSOLE_MAIL_SINK_DIR": str(mail_dir()),
            "VERBUND_LOG_JSON": "false",
        },
        secret_env={
            "VERBUND_CONSOLE_SESSION_SECRET": _session_secret(),
            **{k: v for k, v in keys.items() if k not in key_url},
            **security,
        },
        run_dir=console_dir(),
    )
    state.services[CONSOLE] = console
    state.topic_prefix = prefix
    save_state(state)
    wait_until_answering(console, lambda: answers_http(f"{url}healthz"), timeout)
    return True


def start_background_service(
    name: str,
    module: str,
    *,
    url: str,
    env: dict[str, str],
    run_dir: Path,
    secrets_env: dict[str, str] | None = None,
) -> ServiceState:
    """Start (or start again) one more service of the stack, e.g. the demo's matcher, and record it so that
    `down` stops it too; `secrets_env` (tokens) is given to the process but not recorded in the state file.
    Returns at once: wait with `wait_until_answering`."""
    state = load_state()
    current = state.services.get(name)
    if current is not None:
        stop_service(current)
    # On the stack's own broker a service connects as its own principal, with only its ACLs.
    own_broker = state.kafka is not None and env.get("VERBUND_KAFKA_BOOTSTRAP_SERVERS") == state.kafka.bootstrap_servers
    secret_env = principal_environment(name) if own_broker and name in SERVICE_PRINCIPALS else {}
    secret_env = {**secret_env, **(secrets_env or {})}
    service = start_service(name, module, url=url, env=env, run_dir=run_dir, secret_env=secret_env)
    state.services[name] = service
    save_state(state)
    return service


def answers_http(url: str) -> bool:
    """Whether GET url answers 200 now."""
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def retention_status(service: ServiceState) -> str | None:
    """The matcher's retention job as its /metrics tell it (never its tables): when it runs next and how many
    learners are past their network's retention; None when it does not answer."""
    from verbund.service_metrics import metric_totals

    try:
        response = httpx.get(f"{service.url.rstrip('/')}/metrics", timeout=5.0)
        response.raise_for_status()
        totals = metric_totals(response.text)
    except (httpx.HTTPError, ValueError):
        return None
    due = totals.get("verbund_matcher_retention_due_learners")
    next_run = totals.get("verbund_matcher_retention_next_run_timestamp_seconds")
    if due is None or next_run is None:
        return None
    when = dt.datetime.fromtimestamp(next_run, dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if next_run else "not scheduled"
    return f"retention: next run {when}, {int(due)} learner(s) past their network's retention_months"


def stop_services(names: tuple[str, ...], timeout: float = 30.0) -> None:
    """Stop some of the stack's services and forget them (the demo does so before it starts its own again)."""
    state = load_state()
    for name in names:
        service = state.services.pop(name, None)
        if service is not None:
            stop_service(service, timeout=timeout)
    save_state(state)


@dataclass(frozen=True)
class DownResult:
    kafka_stopped: bool
    postgres_stopped: bool
    services_stopped: tuple[str, ...] = ()


def down(timeout: float = 30.0) -> DownResult:
    """Stop what `up` (and the demo) started and delete its run directories, the console's and the mail."""
    state = load_state()
    kafka_stopped = postgres_stopped = False
    stopped: list[str] = []
    for name in sorted(state.services, key=lambda n: SERVICE_ORDER.index(n) if n in SERVICE_ORDER else -1):
        if stop_service(state.services[name], timeout=timeout):
            stopped.append(name)
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
    (stack_dir() / DEMO_SIGN_IN).unlink(missing_ok=True)
    # A leftover without a state file (e.g. the state was deleted by hand) would block the default ports.
    for leftover in ("kafka", "postgres", "console", "mail", "demo"):
        shutil.rmtree(stack_dir() / leftover, ignore_errors=True)
    return DownResult(kafka_stopped, postgres_stopped, tuple(stopped))


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
        # The shell that runs the stack is its operator: the super user, its password read from its file.
        admin = stack_credentials().admin
        lines.append(f"export VERBUND_KAFKA_SECURITY_PROTOCOL={admin.protocol}")
        lines.append(f"export VERBUND_KAFKA_SASL_MECHANISM={admin.mechanism}")
        lines.append(f"export VERBUND_KAFKA_USERNAME={ADMIN}")
        lines.append(f"export {PASSWORD_FILE_ENV}='{password_file(kafka_credentials_dir(), ADMIN)}'")
    if state.postgres is not None and postgres_running(state.postgres):
        lines.append(f"export VERBUND_TEST_DATABASE_URL='{state.postgres.url}'")
    smtp_port = smtp_port_of(state)
    if smtp_port is not None:
        # A notifier started from this shell delivers to the stack's sink instead of localhost:25.
        lines.append("export VERBUND_SMTP_HOST=127.0.0.1")
        lines.append(f"export VERBUND_SMTP_PORT={smtp_port}")
        lines.append("export VERBUND_SMTP_STARTTLS=false")
    console = state.services.get(CONSOLE)
    if console is not None and service_running(console):
        # `verbund console add-user` from this shell adds to the stack's console; publish to what it reads.
        lines.append(f"export VERBUND_CONSOLE_DATABASE_URL='{console_database_url()}'")
        if state.topic_prefix:
            lines.append(f"export VERBUND_TOPIC_PREFIX='{state.topic_prefix}'")
    matcher = state.services.get("matcher")
    url = key_service_url(state)
    if matcher is not None and service_running(matcher) and url is not None:
        # publish, watch and `learner export` from this shell seal and open names through the stack's matcher;
        # the token is read from its file when the line runs, so it is never printed.
        lines.append(f"export VERBUND_KEY_SERVICE_URL={url}")
        lines.append(f"export VERBUND_KEY_SERVICE_TOKEN=\"$(cat '{stack_dir() / 'key-service-token'}')\"")
    notifier = state.services.get("notifier")
    if notifier is not None and service_running(notifier) and state.notifier_port is not None:
        # `learner export` from this shell includes the messages the notifier holds (same token as the keys).
        lines.append(f"export VERBUND_NOTIFIER_URL={notifier_url(state)}")
    return lines


__all__ = [
    "CONSOLE",
    "DEFAULT_CONSOLE_PORT",
    "DEFAULT_KAFKA_PORT",
    "DEFAULT_POSTGRES_PORT",
    "DEFAULT_SMTP_PORT",
    "MAIL_SINK",
    "DownResult",
    "KafkaState",
    "PostgresState",
    "StackState",
    "UpResult",
    "answers_http",
    "console_database_url",
    "console_endpoints",
    "down",
    "export_lines",
    "grant_service_access",
    "kafka_credentials_dir",
    "kafka_running",
    "key_service_environment",
    "key_service_token",
    "key_service_url",
    "load_state",
    "mail_dir",
    "master_key_file",
    "matcher_key_environment",
    "notifier_environment",
    "notifier_url",
    "postgres_running",
    "principal_environment",
    "retention_status",
    "running_kafka_bootstrap",
    "save_state",
    "smtp_port_of",
    "stack_credentials",
    "stack_dir",
    "stack_endpoints",
    "stack_key_service",
    "start_background_service",
    "stop_services",
    "up",
]
