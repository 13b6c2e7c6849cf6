"""One run of the pipeline under load: services as processes, events at a steady rate, faults, then the checks."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fault_checks import (
    Verdict,
    account_for_inbound,
    check_notifier,
    check_plans,
    read_matcher_database,
    read_notifier_database,
    read_topic,
)
from fault_input import FaultInput
from fault_stack import (
    RestartableKafka,
    RestartablePostgres,
    ServiceProcess,
    free_port,
    matcher_env,
    notifier_env,
    run_topics,
)
from postgres_tools import create_database
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from verbund_runtime.kafka import client_options
from verbund_schemas.topics import Topic

from verbund.mailsink import MailSink
from verbund.stack.topics import ensure_topics


@dataclass
class FaultStack:
    """The broker and PostgreSQL server fault runs share, both of their own: runs kill them."""

    kafka: RestartableKafka
    postgres: RestartablePostgres

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap_servers

    @classmethod
    async def start(cls) -> FaultStack:
        kafka = RestartableKafka()
        await kafka.astart()
        # The helpers here and the services they start connect as this broker's super user (the same one the
        # session's broker has, when that was started first: a local broker takes the admin VERBUND_KAFKA_* name).
        os.environ.update(kafka.admin_security.environment())
        postgres = RestartablePostgres()
        try:
            await asyncio.to_thread(postgres.start)
        except BaseException:
            await asyncio.to_thread(kafka.stop)
            raise
        return cls(kafka, postgres)

    async def stop(self) -> None:
        await asyncio.to_thread(self.postgres.stop)
        await asyncio.to_thread(self.kafka.stop)


@dataclass
class FaultWindow:
    """One fault: when it began and ended (monotonic), and how long the pipeline then took to catch up."""

    fault: str
    started: float
    ended: float
    ended_at: dt.datetime
    matcher_recovery: float | None = None  # until the matcher had applied and published what came before the end
    recovery: float | None = None  # until the notifier had read that too and sent its mail
    detail: str = ""


class Fault(Protocol):
    name: str

    async def inject(self, pipeline: Pipeline, rng: random.Random) -> FaultWindow: ...


@dataclass
class RunSettings:
    rate: float = 20.0  # inbound records per second
    fault_times: Sequence[float] = (0.45,)  # when each fault starts, as a share of the production time
    seed: int = 1
    drain_timeout: float = 300.0

    def without_faults(self) -> RunSettings:
        return dataclasses.replace(self, fault_times=())


# The short variants in `make test`: a few hundred records, one fault each, in the middle of the stream.
SHORT_RUN = RunSettings(rate=6.0, fault_times=(0.45,), seed=11, drain_timeout=180.0)


class Pipeline:
    """One run's topics (a prefix of their own), databases, SMTP sink, matcher replicas and notifier."""

    def __init__(self, stack: FaultStack, label: str, folder: Path) -> None:
        self.stack = stack
        self.label = label
        self.folder = folder
        token = secrets.token_hex(3)
        self.prefix = f"faults-{label}-{token}."
        self.topics = run_topics(self.prefix)
        self.matcher_url = stack.postgres.url_for(f"faults_{label.replace('-', '_')}_{token}_matcher")
        self.notifier_url = stack.postgres.url_for(f"faults_{label.replace('-', '_')}_{token}_notifier")
        self.matcher_group = f"faults-matcher-{token}"
        self.notifier_group = f"faults-notifier-{token}"
        self.sink = MailSink()
        self.replicas: list[ServiceProcess] = []
        self.notifier: ServiceProcess | None = None
        self._engine: AsyncEngine | None = None
        self._notifier_engine: AsyncEngine | None = None

    @property
    def matcher(self) -> ServiceProcess:
        """The matcher replica faults aim at: the newest one started."""
        return self.replicas[-1]

    def topic(self, role: str) -> Topic:
        return self.topics[role]

    async def open(self) -> None:
        await ensure_topics(self.stack.bootstrap, self.topics.values())
        for url in (self.matcher_url, self.notifier_url):
            await create_database(self.stack.postgres.admin_url, url.rsplit("/", 1)[1])
        self.sink.start()
        self._engine = create_async_engine(self.matcher_url, pool_pre_ping=True)
        self._notifier_engine = create_async_engine(self.notifier_url, pool_pre_ping=True)
        self.add_matcher()
        port = free_port()
        stack = self.stack
        self.notifier = ServiceProcess(
            "notifier",
            "verbund_notifier",
            notifier_env(stack.bootstrap, self.notifier_url, self.prefix, self.notifier_group, self.sink.port, port),
            self.folder / f"{self.label}-notifier.log",
            port,
        ).start()
        await self.matcher.until_ready()
        await self.notifier.until_ready()

    def add_matcher(self) -> ServiceProcess:
        """Another replica in the same consumer group (the first one at the start)."""
        port = free_port()
        replica = ServiceProcess(
            f"matcher-{len(self.replicas) + 1}",
            "verbund_matcher",
            matcher_env(self.stack.bootstrap, self.matcher_url, self.prefix, self.matcher_group, port),
            self.folder / f"{self.label}-matcher-{len(self.replicas) + 1}.log",
            port,
        ).start()
        self.replicas.append(replica)
        return replica

    async def close(self) -> list[str]:
        """SIGTERM every service; returns what did not stop cleanly."""
        problems = []
        for service in [*self.replicas, *([self.notifier] if self.notifier else [])]:
            if service.running:
                code = await asyncio.to_thread(service.stop)
                if code != 0:
                    problems.append(f"{service.name} exited with {code} on SIGTERM; log:\n{service.log_tail()}")
        for engine in (self._engine, self._notifier_engine):
            if engine is not None:
                await engine.dispose()
        self._engine = self._notifier_engine = None
        self.sink.stop()
        return problems

    # -- where the pipeline stands --------------------------------------------------------------------------

    async def unsent_before(self, moment: dt.datetime) -> int:
        """Outbox rows the matcher committed up to `moment` and has not published yet."""
        assert self._engine is not None
        async with self._engine.connect() as conn:
            found = await conn.execute(
                text("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND created_at <= :moment"), {"moment": moment}
            )
            return int(found.scalar_one())

    async def unsent(self) -> int:
        assert self._engine is not None
        async with self._engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))).scalar_one())

    async def pending_mail_before(self, moment: dt.datetime) -> int:
        assert self._notifier_engine is not None
        async with self._notifier_engine.connect() as conn:
            found = await conn.execute(
                # A mail being handed over is not sent yet either (its worker may have died during DATA).
                text(
                    "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'handing_over') "
                    "AND created_at <= :moment"
                ),
                {"moment": moment},
            )
            return int(found.scalar_one())

    def mail_ids(self) -> list[str]:
        return [str(m.get("X-Verbund-Notification", "")) for m in self.sink.messages]


class Progress:
    """Committed consumer offsets against topic ends: has a consumer group read up to a point yet?"""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._consumer is None:
            await self.close()
            admin = AIOKafkaAdminClient(**client_options(self.bootstrap), request_timeout_ms=5000)
            consumer = AIOKafkaConsumer(**client_options(self.bootstrap), group_id=None, request_timeout_ms=5000)
            try:
                await asyncio.wait_for(admin.start(), 10)
                await asyncio.wait_for(consumer.start(), 10)
            except BaseException:
                with contextlib.suppress(Exception):
                    await admin.close()
                with contextlib.suppress(Exception):
                    await consumer.stop()
                raise
            self._admin, self._consumer = admin, consumer
        return self._admin, self._consumer

    async def ends(self, topic: Topic) -> dict[int, int]:
        _, consumer = await self._clients()
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        found = await asyncio.wait_for(consumer.end_offsets(partitions), 10)
        return {tp.partition: offset for tp, offset in found.items()}

    async def reached(self, group: str, topic: Topic, ends: dict[int, int]) -> bool:
        admin, _ = await self._clients()
        committed = await asyncio.wait_for(admin.list_consumer_group_offsets(group), 10)
        at = {tp.partition: meta.offset for tp, meta in committed.items() if tp.topic == topic.name}
        return all(at.get(p, 0) >= end for p, end in ends.items() if end > 0)

    async def close(self) -> None:
        admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()


async def matcher_behind(pipeline: Pipeline, progress: Progress, since: dt.datetime) -> str | None:
    """What the matcher has not yet done of the work sent before `since` (None: nothing)."""
    inbound = pipeline.topic("inbound")
    if not await progress.reached(pipeline.matcher_group, inbound, await progress.ends(inbound)):
        return "the matcher has not committed every inbound record"
    unsent = await pipeline.unsent_before(since)
    return f"{unsent} outbox rows unpublished" if unsent else None


async def notifier_behind(
    pipeline: Pipeline, progress: Progress, ends: dict[str, dict[int, int]], read_by: list[dt.datetime]
) -> str | None:
    """What the notifier has not yet read of its topics up to `ends`, or not mailed of what it read by then.

    `read_by` holds the moment it was first found to have read that far (filled in here): mail it composed
    until then must have been sent; later mail belongs to later records.
    """
    group = pipeline.notifier_group
    if not read_by:
        for role, up_to in ends.items():
            if not await progress.reached(f"{group}.{role}", pipeline.topic(role), up_to):
                return f"the notifier has not read every record of {role}"
        read_by.append(dt.datetime.now(dt.UTC))
    pending = await pipeline.pending_mail_before(read_by[0])
    return f"{pending} mails pending" if pending else None


@dataclass
class CatchUp:
    """Seconds until the matcher had applied and published everything sent before a moment, and until the
    notifier had then read and mailed all of it (None: not within the time allowed; `missing` says what)."""

    matcher: float | None = None
    pipeline: float | None = None
    missing: str = ""


async def until_caught_up(
    pipeline: Pipeline,
    progress: Progress,
    since: dt.datetime,
    timeout: float,  # noqa: ASYNC109 - how long a pipeline may take to catch up is the question asked
) -> CatchUp:
    start = time.monotonic()
    found = CatchUp(missing="not checked")
    # What the matcher had published when it caught up is what the notifier must then catch up with.
    ends: dict[str, dict[int, int]] = {}
    read_by: list[dt.datetime] = []
    while time.monotonic() - start < timeout:
        missing: str | None
        try:
            missing = "the matcher"
            if found.matcher is None:
                missing = await matcher_behind(pipeline, progress, since)
                if missing is None:
                    for role in ("assignments", "shortfalls", "inbound"):
                        ends[role] = await progress.ends(pipeline.topic(role))
                    found.matcher = time.monotonic() - start
            if found.matcher is not None:
                missing = await notifier_behind(pipeline, progress, ends, read_by)
                if missing is None:
                    found.pipeline, found.missing = time.monotonic() - start, ""
                    return found
        except Exception as exc:
            # The broker or the database may be coming back; the clients are made anew.
            missing = f"{type(exc).__name__}: {exc}"
            await progress.close()
        found.missing = missing or ""
        await asyncio.sleep(0.25)
    return found


@dataclass
class RunReport:
    label: str
    fault: str
    events: int
    seconds: float
    windows: list[FaultWindow] = field(default_factory=list)
    verdict: Verdict = field(default_factory=Verdict)
    drained: bool = True
    phases: dict[str, float] = field(default_factory=dict)  # seconds spent starting, sending, draining, checking
    problems: list[str] = field(default_factory=list)  # the harness's own: services that died, no catch-up

    @property
    def recovery(self) -> float | None:
        """The longest time the pipeline took to catch up after one of the run's faults."""
        return _longest([w.recovery for w in self.windows])

    @property
    def matcher_recovery(self) -> float | None:
        return _longest([w.matcher_recovery for w in self.windows])


def _longest(times: list[float | None]) -> float | None:
    if not times or any(t is None for t in times):
        return None
    return max(t for t in times if t is not None)


async def produce_steadily(
    bootstrap: str, topic: Topic, fault_input: FaultInput, rate: float, started: asyncio.Event
) -> int:
    """Send every record at `rate` per second, as firms' systems would, whether or not the broker is there.

    The producer is idempotent and waits for the broker to come back rather than giving up; a record it
    cannot deliver in the end is sent again (the consumers must then see one repeat, not two events).
    """
    producer = AIOKafkaProducer(
        **client_options(bootstrap),
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=120_000,
        max_request_size=2 * 1024 * 1024,
    )
    await producer.start()
    resent = 0
    try:
        begin = time.monotonic()
        started.set()
        futures = []
        for i, item in enumerate(fault_input.items):
            delay = begin + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            futures.append(await producer.send(topic.name, key=item.key, value=item.value))
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        for item, outcome in zip(fault_input.items, outcomes, strict=True):
            while isinstance(outcome, Exception):
                resent += 1
                try:
                    outcome = await producer.send_and_wait(topic.name, key=item.key, value=item.value)
                except Exception as exc:
                    outcome = exc
                    await asyncio.sleep(1)
    finally:
        await producer.stop()
    return resent


async def run_under_fault(
    stack: FaultStack,
    fault_input: FaultInput,
    faults: Sequence[Fault],
    folder: Path,
    settings: RunSettings,
    label: str,
) -> RunReport:
    """Start the services, send the input at a steady rate, inject the faults on their schedule, wait until
    everything has gone through, and check what the run left behind."""
    rng = random.Random(settings.seed)
    pipeline = Pipeline(stack, label, folder)
    progress = Progress(stack.bootstrap)
    fault_name = " + ".join(dict.fromkeys(f.name for f in faults)) or "none"
    report = RunReport(label, fault_name, len(fault_input.items), 0.0)
    begin = time.monotonic()
    lap = begin

    def phase(name: str) -> None:
        nonlocal lap
        now = time.monotonic()
        report.phases[name] = now - lap
        lap = now

    producing: asyncio.Task[int] | None = None
    try:
        await pipeline.open()
        phase("start")
        started = asyncio.Event()
        producing = asyncio.create_task(
            produce_steadily(stack.bootstrap, pipeline.topic("inbound"), fault_input, settings.rate, started)
        )
        await started.wait()
        produce_seconds = len(fault_input.items) / settings.rate
        t0 = time.monotonic()
        for fault, share in zip(faults, settings.fault_times, strict=True):
            delay = t0 + share * produce_seconds - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            idle = producing.done()
            window = await fault.inject(pipeline, rng)
            if idle:
                window.detail = ", ".join(filter(None, [window.detail, "after the last record was sent"]))
            caught = await until_caught_up(pipeline, progress, window.ended_at, settings.drain_timeout)
            window.matcher_recovery, window.recovery = caught.matcher, caught.pipeline
            report.windows.append(window)
            if window.recovery is None:
                report.problems.append(
                    f"{window.fault}: the pipeline did not catch up in {settings.drain_timeout} s: {caught.missing}"
                )
        resent = await producing
        phase("send")
        if resent:
            report.verdict.notes.append(f"the producer sent {resent} records again after failures")
        drained = await until_caught_up(pipeline, progress, dt.datetime.now(dt.UTC), settings.drain_timeout)
        report.drained = drained.pipeline is not None
        if not report.drained:
            report.problems.append(f"the pipeline did not drain within {settings.drain_timeout} s: {drained.missing}")
        await settle_mail(pipeline)
        phase("drain")
        for service in (pipeline.matcher, pipeline.notifier):
            if service is not None and not service.running:
                report.problems.append(f"{service.name} is not running at the end; log:\n{service.log_tail()}")
        report.problems += await pipeline.close()
        phase("stop")
        await examine(report, pipeline, fault_input)
        phase("check")
        report.seconds = time.monotonic() - begin
    finally:
        if producing is not None and not producing.done():
            producing.cancel()
        await progress.close()
        await pipeline.close()
    return report


async def settle_mail(pipeline: Pipeline, quiet: float = 1.5, limit: float = 30.0) -> None:
    """Until the sink has received nothing new for `quiet` seconds: the last sends have landed."""
    deadline = time.monotonic() + limit
    count = len(pipeline.sink.messages)
    last_change = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - last_change < quiet:
        await asyncio.sleep(0.2)
        now = len(pipeline.sink.messages)
        if now != count:
            count, last_change = now, time.monotonic()


async def examine(report: RunReport, pipeline: Pipeline, fault_input: FaultInput) -> None:
    bootstrap = pipeline.stack.bootstrap
    verdict = report.verdict
    inbound = await read_topic(bootstrap, pipeline.topic("inbound"))
    rejected = await read_topic(bootstrap, pipeline.topic("rejected"))
    assignments = await read_topic(bootstrap, pipeline.topic("assignments"))
    shortfalls = await read_topic(bootstrap, pipeline.topic("shortfalls"))
    notifications = await read_topic(bootstrap, pipeline.topic("notifications"))
    database = await read_matcher_database(pipeline.matcher_url, pipeline.topic("inbound").name)
    notifier = await read_notifier_database(pipeline.notifier_url)
    verdict.state = database.state
    account_for_inbound(verdict, fault_input, inbound, rejected, database, pipeline.topic("inbound").name)
    if database.unsent:
        verdict.lost.append(f"{database.unsent} outbox rows were never published")
    assignment_events, shortfall_events = check_plans(
        verdict, inbound, assignments, shortfalls, database, dt.datetime.now(dt.UTC).date()
    )
    check_notifier(
        verdict, assignment_events, shortfall_events, notifications, notifier, pipeline.mail_ids(), database.state
    )


def _seconds(report: RunReport, value: float | None) -> str:
    if not report.windows:
        return "–"
    return "not caught up" if value is None else f"{value:.1f}"


def table(reports: Sequence[RunReport]) -> str:
    """The fault table: one row per run (recovery: the longest of the run's faults)."""
    lines = [
        "| fault | events | poison | lost | duplicated | raw repeats on topics | mail repeats | uncertain | mails "
        "| matcher caught up s | recovery s | objective |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in reports:
        v = r.verdict
        faults = f"{r.fault} ×{len(r.windows)}" if len(r.windows) > 1 else r.fault
        lines.append(
            f"| {faults} | {r.events} | {v.poison} | {len(v.lost)} | {len(v.duplicated)} "
            f"| {sum(v.raw_repeats.values())} | {v.mail_repeats} | {v.uncertain} | {v.mails} "
            f"| {_seconds(r, r.matcher_recovery)} "
            f"| {_seconds(r, r.recovery)} | {v.objective()} |"
        )
    return "\n".join(lines)
