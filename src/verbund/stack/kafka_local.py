"""A real Apache Kafka broker (KRaft, one node) run from Maven Central jars, without Docker."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from verbund_runtime.kafka import KafkaSecurity, client_options

from verbund.stack.access import BrokerCredentials, scram_arguments
from verbund.stack.locations import cache_dir, infra_file, run_root
from verbund.stack.ports import accepts_connections, free_port
from verbund.stack.processes import die_with_parent, log_tail, pid_alive, terminate

KAFKA_VERSION = "4.1.1"
_MIN_JAVA = 17
_T = TypeVar("_T")
log = logging.getLogger(__name__)


class KafkaStartError(RuntimeError):
    """The local broker could not be fetched, formatted or started; the message says what to check."""


def kafka_version() -> str:
    """The Kafka release to run: VERBUND_KAFKA_VERSION, else the tested default."""
    return os.environ.get("VERBUND_KAFKA_VERSION") or KAFKA_VERSION


def kafka_libs_dir(version: str | None = None) -> Path:
    """Where the jars of a Kafka release live in the cache (complete only when `.complete` is in it)."""
    return cache_dir() / "kafka" / (version or kafka_version()) / "libs"


def kafka_jars_cached(version: str | None = None) -> bool:
    """Whether the jars are already in the cache (then nothing is downloaded)."""
    return (kafka_libs_dir(version) / ".complete").is_file()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # Two test processes (or a test run and `make jars`) may fetch at once; one does the work.
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def fetch_kafka_jars(version: str | None = None, *, timeout: float = 900.0) -> Path:
    """Download Kafka's jars with Maven into the cache, once; later calls return the cached folder."""
    version = version or kafka_version()
    libs = kafka_libs_dir(version)
    if kafka_jars_cached(version):
        return libs
    with _file_lock(libs.parent / ".fetch.lock"):
        if kafka_jars_cached(version):
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise KafkaStartError(
                f"Maven (mvn) is needed once to download Apache Kafka {version} into {libs}, and it is not "
                "on PATH. Install it (Debian/Ubuntu: `sudo apt-get install maven`, or `make tools` as root), "
                "or set KAFKA_BOOTSTRAP_SERVERS to use an existing Kafka cluster instead."
            )
        partial = libs.parent / f"libs.partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        command = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(infra_file("kafka", "pom.xml")),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
            "-DincludeScope=runtime",
            f"-Dkafka.version={version}",
        ]
        log.info("fetching Apache Kafka %s jars from Maven Central into %s", version, libs)
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise KafkaStartError(
                f"Maven did not finish downloading Apache Kafka {version} within {timeout:.0f} s. "
                "Check that https://repo.maven.apache.org is reachable (proxy settings go into "
                "~/.m2/settings.xml) and run `verbund stack fetch` again."
            ) from exc
        broker_jar = partial / f"kafka_2.13-{version}.jar"
        if result.returncode != 0 or not broker_jar.is_file():
            shutil.rmtree(partial, ignore_errors=True)
            output = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
            raise KafkaStartError(
                f"Maven could not download Apache Kafka {version} (exit code {result.returncode}).\n"
                f"{output}\n"
                "Check that the version exists on Maven Central (VERBUND_KAFKA_VERSION), that "
                "https://repo.maven.apache.org is reachable (proxy settings go into ~/.m2/settings.xml), "
                "and run `verbund stack fetch` again."
            )
        (partial / ".complete").write_text(f"{version}\n")
        shutil.rmtree(libs, ignore_errors=True)
        partial.rename(libs)
        return libs


def find_java() -> str:
    """The java executable (JAVA_HOME first), checked to be new enough for Kafka 4."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not candidate or not Path(candidate).is_file():
        raise KafkaStartError(
            f"Java {_MIN_JAVA} or newer is needed to run the local Kafka broker, and no `java` was found "
            "(JAVA_HOME or PATH). Install it (Debian/Ubuntu: `sudo apt-get install openjdk-17-jre-headless`, "
            "or `make tools` as root), or set KAFKA_BOOTSTRAP_SERVERS to use an existing Kafka cluster."
        )
    result = subprocess.run([candidate, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if match:
        major = int(match.group(1))
        if major == 1 and match.group(2):  # "1.8.0" style
            major = int(match.group(2))
        if major < _MIN_JAVA:
            raise KafkaStartError(
                f"{candidate} is Java {major}; Apache Kafka 4 needs Java {_MIN_JAVA} or newer. Install it "
                "(Debian/Ubuntu: `sudo apt-get install openjdk-17-jre-headless`) and point JAVA_HOME at it."
            )
    return candidate


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, base64url without padding (what `kafka-storage random-uuid` prints).

    Like Kafka's own Uuid.randomUuid(), never one starting with "-": `kafka-storage format -t -x…` would
    read it as an option and fail (one start in 64 did).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode("ascii")
        if not cluster_id.startswith("-"):
            return cluster_id


def _security_properties(credentials: BrokerCredentials) -> dict[str, str]:
    """SASL on both listeners and KRaft's StandardAuthorizer: no client gets anything without a user and an ACL.

    Clients and the broker itself use SCRAM-SHA-512 (credentials stored by `kafka-storage format
    --add-scram`). The controller listener uses PLAIN with the admin alone in its JAAS line: the broker
    authenticates to the controller before it has read the SCRAM credentials from the metadata log.
    The client listener also takes PLAIN for the stack's own principals (same passwords, loopback only):
    librdkafka before 2.6.1 (Debian's kcat) cannot do SCRAM with Kafka 4, and kcat must still get in.
    Principals added later (firms) have SCRAM only.
    """
    admin = credentials.admin_name
    password = credentials.passwords[admin]
    users = " ".join(f'user_{name}="{secret}"' for name, secret in credentials.passwords.items())
    scram = (
        f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{admin}" password="{password}";'
    )
    plain = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{admin}" password="{password}" user_{admin}="{password}";'
    )
    plain_clients = (
        f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{admin}" '
        f'password="{password}" {users};'
    )
    return {
        "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT",
        "inter.broker.listener.name": "CLIENT",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512,PLAIN",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-512,PLAIN",
        "listener.name.client.scram-sha-512.sasl.jaas.config": scram,
        "listener.name.client.plain.sasl.jaas.config": plain_clients,
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": plain,
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{admin}",
        # Said explicitly, though it is the default: a resource without ACLs is closed to all but the admin.
        "allow.everyone.if.no.acl.found": "false",
    }


def server_properties(
    *, port: int, controller_port: int, data_dir: Path, credentials: BrokerCredentials | None = None
) -> str:
    """server.properties for one node that is broker and KRaft controller at once, on loopback only.

    With credentials the client listener asks for SASL/SCRAM and ACLs apply; without, it is open PLAINTEXT.
    """
    client = "CLIENT" if credentials is not None else "PLAINTEXT"
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller_port}",
        "listeners": f"{client}://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"{client}://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": client,
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        # One node: internal topics cannot be replicated; fewer partitions make the first group join quick.
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "6",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # The default 128 MiB dedupe buffer is most of a small heap.
        "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
        # Consumers in tests should get their partitions at once, not after the 3 s default delay.
        "group.initial.rebalance.delay.ms": "0",
    }
    if credentials is not None:
        settings |= _security_properties(credentials)
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def run_coroutine(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to the end from synchronous code, on a thread of its own.

    A thread, so that it works while the caller's thread runs an event loop, and so that the caller's
    thread keeps its current event loop (asyncio.run would reset it, which upsets pytest-asyncio).
    """
    outcome: dict[str, Any] = {}

    def runner() -> None:
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=runner, name="verbund-stack-wait")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: _T = outcome["value"]
    return value


async def broker_answers(
    bootstrap_servers: str, *, timeout_s: float = 5.0, security: KafkaSecurity | None = None
) -> bool:
    """Whether a Kafka broker at this address answers a metadata request with at least one broker.

    `security` is who asks (None: as VERBUND_KAFKA_* say); a broker that refuses them does not answer.
    """
    from aiokafka.admin import AIOKafkaAdminClient

    # Without a listening socket aiokafka would only log connection errors; a plain TCP check is quiet.
    addresses = [a.strip().rsplit(":", 1) for a in bootstrap_servers.split(",") if ":" in a]
    reachable = [
        await asyncio.to_thread(accepts_connections, host.strip("[]"), int(port))
        for host, port in addresses
        if port.isdigit()
    ]
    if reachable and not any(reachable):
        return False
    admin = AIOKafkaAdminClient(**client_options(bootstrap_servers, security), request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout_s)
        return bool(cluster.get("brokers"))
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def _diagnose(log_text: str) -> str:
    """What to check, from the typical lines in a failed broker's log."""
    if "Address already in use" in log_text or "BindException" in log_text:
        return (
            "A port the broker wanted is in use. Another Kafka may be running: `verbund stack status`, "
            "`ss -ltnp`; choose another port with `verbund stack up --port`, or port 0 for any free one."
        )
    if re.search(r"OutOfMemoryError|Cannot allocate memory|Could not reserve enough space", log_text):
        return (
            "The JVM ran out of memory. Free some memory or change the heap with VERBUND_KAFKA_HEAP "
            "(default 512m; 256m is the least that works)."
        )
    if "UnsupportedClassVersionError" in log_text:
        return f"The java found is too old: Kafka 4 needs Java {_MIN_JAVA} or newer (set JAVA_HOME)."
    if "ClassNotFoundException" in log_text or "NoClassDefFoundError" in log_text:
        return "The jar cache looks incomplete: delete it and run `verbund stack fetch` again."
    if "InconsistentClusterIdException" in log_text or "meta.properties" in log_text:
        return "The run directory holds data of another cluster: `verbund stack down` and start again."
    return "Read the log above; `verbund stack down` clears a stale run directory."


class LocalKafka:
    """One Kafka broker process (KRaft combined mode) with its own run directory.

    Use it as a context manager (`with LocalKafka() as kafka:` or `async with`), or call start()/stop().
    Ports default to free loopback ports; the data lives under `<cache>/run/kafka-*` and is deleted on stop
    unless `keep_run_dir` is set. `detached=True` lets the broker outlive this Python process (for
    `verbund stack up`); otherwise the broker is told to stop when its parent process dies.

    It authenticates every client with SASL/SCRAM-SHA-512 and authorises with ACLs; `credentials` are the
    principals it is formatted with (default: the admin VERBUND_KAFKA_* name, else a fresh one, plus fresh
    service principals); `secured=False` gives an open PLAINTEXT broker instead.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        run_dir: Path | None = None,
        version: str | None = None,
        heap: str | None = None,
        detached: bool = False,
        keep_run_dir: bool = False,
        credentials: BrokerCredentials | None = None,
        secured: bool = True,
    ) -> None:
        self.credentials = (credentials or BrokerCredentials.for_environment()) if secured else None
        self.version = version or kafka_version()
        self.heap = heap or os.environ.get("VERBUND_KAFKA_HEAP") or "512m"
        self.detached = detached
        self.keep_run_dir = keep_run_dir or run_dir is not None
        self._fixed_ports = bool(port)  # None or 0: any free port
        self.port = port or 0
        self.controller_port = controller_port or 0
        self.run_dir = run_dir or run_root() / f"kafka-{secrets.token_hex(4)}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """host:port for clients (KAFKA_BOOTSTRAP_SERVERS)."""
        return f"127.0.0.1:{self.port}"

    @property
    def admin_security(self) -> KafkaSecurity:
        """How the super user connects (PLAINTEXT for an open broker)."""
        return self.credentials.admin if self.credentials is not None else KafkaSecurity()

    def security(self, principal: str) -> KafkaSecurity:
        """How one of the service principals (matcher, notifier, console, cli) connects."""
        return self.credentials.security(principal) if self.credentials is not None else KafkaSecurity()

    @property
    def log_file(self) -> Path:
        return self.run_dir / "kafka.log"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    # -- starting ------------------------------------------------------------------------------------------

    def _prepare(self) -> list[str]:
        """Fetch the jars, write the configuration, format the storage; returns the broker command line."""
        java = find_java()
        libs = fetch_kafka_jars(self.version)
        log4j = infra_file("kafka", "log4j2.properties")
        _prune_stale_run_dirs(self.run_dir.parent)
        if not self._fixed_ports:
            self.port = free_port()
        if not self._fixed_ports or not self.controller_port:
            self.controller_port = free_port()
            while self.controller_port == self.port:
                self.controller_port = free_port()
        data_dir = self.run_dir / "data"
        shutil.rmtree(data_dir, ignore_errors=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        properties = self.run_dir / "server.properties"
        properties.unlink(missing_ok=True)
        properties.touch(mode=0o600)  # it holds the admin's password
        properties.write_text(
            server_properties(
                port=self.port, controller_port=self.controller_port, data_dir=data_dir, credentials=self.credentials
            )
        )
        jvm = [
            java,
            f"-Xmx{self.heap}",
            "-Xms64m",
            # A development broker: the client compiler alone starts it in about half the time, and a
            # serial collector does not compete for the few cores with the services under test.
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            f"-Dkafka.logs.dir={self.run_dir}",
            "-cp",
            f"{libs}/*",
        ]
        fmt = [
            *jvm,
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            new_cluster_id(),
            "-c",
            str(properties),
            *(scram_arguments(self.credentials) if self.credentials is not None else []),
        ]
        format_log = self.run_dir / "format.log"
        with format_log.open("wb") as out:
            result = subprocess.run(fmt, stdout=out, stderr=subprocess.STDOUT, check=False, timeout=120)
        if result.returncode != 0:
            tail = log_tail(format_log)
            raise KafkaStartError(
                f"Formatting the local Kafka storage in {data_dir} failed (exit code {result.returncode}).\n"
                f"--- {format_log} (last lines) ---\n{tail}\n---\n{_diagnose(tail)}"
            )
        return [*jvm, "kafka.Kafka", str(properties)]

    def _launch(self, command: list[str]) -> None:
        # Popen runs in the caller's (long-lived) thread: see die_with_parent.
        with self.log_file.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.run_dir,
                start_new_session=True,
                preexec_fn=None if self.detached else die_with_parent,
            )
        (self.run_dir / "owner.json").write_text(
            json.dumps({"broker_pid": self.process.pid, "owner_pid": os.getpid(), "detached": self.detached})
        )

    async def _wait_ready(self, timeout_s: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while True:
            code = self.process.poll()
            if code is not None:
                self._fail(f"The Kafka broker exited during start (exit code {code}).")
            # A TCP check first keeps aiokafka from logging connection errors while the JVM boots.
            if accepts_connections("127.0.0.1", self.port) and await broker_answers(
                self.bootstrap_servers, timeout_s=5.0, security=self.admin_security
            ):
                return
            if time.monotonic() > deadline:
                self._stop_process(timeout=10)
                self._fail(f"The Kafka broker did not answer on {self.bootstrap_servers} within {timeout_s:.0f} s.")
            await asyncio.sleep(0.25)

    def _fail(self, what: str) -> None:
        tail = log_tail(self.log_file)
        # The line that explains a failed start often scrolled out of the tail by the shutdown that followed.
        whole = log_tail(self.log_file, lines=5000)
        first_error = next((line for line in whole.splitlines() if " ERROR " in line), None)
        cause = f"First error in the log: {first_error}\n" if first_error else ""
        raise KafkaStartError(f"{what}\n{cause}--- {self.log_file} (last lines) ---\n{tail}\n---\n{_diagnose(whole)}")

    def _port_clash(self) -> bool:
        return "Address already in use" in log_tail(self.log_file, lines=200)

    def start(self, timeout: float = 120.0) -> str:
        """Start the broker and return its bootstrap address once it answers metadata requests."""
        for attempt in range(3):
            self._launch(self._prepare())
            try:
                run_coroutine(self._wait_ready(timeout))
                return self.bootstrap_servers
            except KafkaStartError:
                if not self._retry_after_port_clash(attempt):
                    raise
            except BaseException:
                self._stop_process(timeout=10)
                raise
        raise AssertionError("unreachable")

    async def astart(self, timeout_s: float = 120.0) -> str:
        """start() for async code: the waiting happens on the running event loop."""
        for attempt in range(3):
            # The slow, blocking preparation (Maven, formatting) runs on a worker thread; the broker itself
            # is launched from the loop's thread, which lives as long as the loop (see die_with_parent).
            self._launch(await asyncio.to_thread(self._prepare))
            try:
                await self._wait_ready(timeout_s)
                return self.bootstrap_servers
            except KafkaStartError:
                if not self._retry_after_port_clash(attempt):
                    raise
            except BaseException:
                self._stop_process(timeout=10)
                raise
        raise AssertionError("unreachable")

    def _retry_after_port_clash(self, attempt: int) -> bool:
        # A free port can be taken by someone else between choosing and binding it; then choose again.
        self._stop_process(timeout=10)
        return not self._fixed_ports and attempt < 2 and self._port_clash()

    # -- stopping ------------------------------------------------------------------------------------------

    def _stop_process(self, timeout: float) -> bool:
        if self.process is None:
            return True
        clean = terminate(self.process.pid, timeout=timeout, reap=self.process.poll)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.process = None
        return clean

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the broker, wait for a clean shutdown (then kill), and delete the run directory."""
        self._stop_process(timeout)
        if not self.keep_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await self.astart()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)


def _prune_stale_run_dirs(root: Path) -> None:
    """Delete run directories of brokers whose process is gone (left by a killed test run)."""
    if not root.is_dir():
        return
    for candidate in root.glob("kafka-*"):
        owner = candidate / "owner.json"
        try:
            info = json.loads(owner.read_text())
        except (OSError, ValueError):
            # No owner file: a start that never launched; old enough ones are leftovers.
            if candidate.is_dir() and time.time() - candidate.stat().st_mtime > 3600:
                shutil.rmtree(candidate, ignore_errors=True)
            continue
        # Only when its owner is gone too: a live owner may still be reading the log of a failed start.
        owner_gone = not pid_alive(int(info.get("owner_pid", 0)))
        if owner_gone and not pid_alive(int(info.get("broker_pid", 0))):
            shutil.rmtree(candidate, ignore_errors=True)
