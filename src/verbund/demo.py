"""`verbund demo`: the whole system on one laptop — Kafka, SMTP sink, matcher, notifier — playing a scenario."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import typer
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from verbund_schemas import InvalidEvent, decode_event, load_topics, topic

from verbund.demo_view import Picture, final_report
from verbund.event_file import read_event_file
from verbund.mailsink import MailSink
from verbund.publish import report_problems, send_events
from verbund.service_metrics import free_port, scrape
from verbund.watch import WatchOptions, assigned_consumer

# The services' own metrics (docs/matcher.md, docs/notifier.md), read at scrape time from their databases.
OUTBOX_LAG = "verbund_matcher_outbox_lag"
DELIVERIES_PENDING = "verbund_notifier_deliveries_pending"
DELIVERED_TOTAL = "verbund_notifier_delivered_total"
FAILED_TOTAL = "verbund_notifier_failed_total"


class DemoIncomplete(RuntimeError):
    """The services did not finish within the time allowed; the message says what was still missing."""


@dataclass(frozen=True)
class DemoOptions:
    scenario: Path
    bootstrap: str | None
    timeout: float
    keep: bool
    messages: int


@dataclass
class Progressing:
    """What the demo waits for, as the last check saw it."""

    handled: int = 0
    outbox_unsent: int = -1
    view_caught_up: bool = False
    notifier_caught_up: bool = False
    deliveries_open: int = -1
    delivered: int = 0
    planned_networks: int = 0

    def missing(self, events: int, networks: int) -> list[str]:
        out = []
        if self.handled < events:
            out.append(f"the matcher has handled {self.handled} of {events} events")
        if self.outbox_unsent != 0:
            out.append(f"the matcher still has {self.outbox_unsent} events to publish")
        if self.planned_networks < networks:
            out.append(f"plans published for {self.planned_networks} of {networks} networks")
        if not self.view_caught_up:
            out.append("the published events have not all been read back yet")
        if not self.notifier_caught_up:
            out.append("the notifier has not consumed everything yet")
        if self.deliveries_open != 0:
            out.append(f"{max(self.deliveries_open, 0)} messages are not delivered yet")
        return out


@dataclass(frozen=True)
class Endpoints:
    """Where the demo observes the services from outside: consumer groups on Kafka, /metrics over HTTP."""

    matcher_group: str
    matcher_metrics: str
    notifier_group: str
    notifier_metrics: str


def handled_count(positions: list[tuple[int, int]], committed: dict[int, int]) -> int:
    """Records (partition, offset) below their partition's committed offset: the matcher commits an offset only
    after the database transaction that applied (or rejected) the records before it."""
    return sum(1 for partition, offset in positions if offset < committed.get(partition, 0))


async def _committed(admin: AIOKafkaAdminClient, group: str, topic_name: str) -> dict[int, int]:
    offsets = await admin.list_consumer_group_offsets(group)
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic_name and meta.offset >= 0}


async def _end_offsets(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
    return ends


async def _group_reached(admin: AIOKafkaAdminClient, group: str, ends: dict[TopicPartition, int]) -> bool:
    committed = await admin.list_consumer_group_offsets(group)
    for tp, end in ends.items():
        if end == 0:
            continue
        meta = committed.get(tp)
        if meta is None or meta.offset < end:
            return False
    return True


def _only_warnings(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def _quiet_service_logs() -> None:
    # FastStream logs every message at INFO on loggers of its own (and sets their level when a broker
    # starts); a filter outlasts that. The demo shows progress instead.
    names = {"faststream", "faststream.access.kafka", *logging.root.manager.loggerDict}
    for name in names:
        if name.startswith(("faststream", "apscheduler")):
            logger = logging.getLogger(name)
            logger.setLevel(logging.WARNING)
            if _only_warnings not in logger.filters:
                logger.addFilter(_only_warnings)


class Demo:
    """Starts everything, plays the scenario, waits until plans and messages are out, reports, stops."""

    def __init__(self, options: DemoOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.run_id = uuid.uuid4().hex[:8]
        self.run_dir = Path(tempfile.mkdtemp(prefix=f"verbund-demo-{self.run_id}-"))
        self.picture = Picture()
        self.mail = MailSink(directory=self.run_dir / "mail")

    def _isolate_topics(self) -> None:
        # A fresh prefix per run: a broker that outlives the demo (stack up, a cluster) never replays an
        # earlier run's events into this one. load_topics caches the names, so clear it after setting.
        os.environ["VERBUND_TOPIC_PREFIX"] = os.environ.get("VERBUND_TOPIC_PREFIX", "") + f"demo-{self.run_id}."
        load_topics.cache_clear()

    async def run(self) -> None:
        self._isolate_topics()
        parsed = read_event_file(self.options.scenario)
        if not parsed.ok:
            report_problems(parsed, self.options.scenario, self.console)
            raise typer.Exit(1)
        events = [e for _, e in parsed.events]
        networks = sorted({e.subject for e in events})

        from verbund.stack.background import running_kafka_bootstrap
        from verbund.stack.selection import provide_kafka
        from verbund.stack.topics import ensure_topics

        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        kafka_stack = contextlib.ExitStack()
        async with contextlib.AsyncExitStack() as services:
            try:
                with progress:
                    step = progress.add_task("Kafka: starting a broker", total=1)
                    # A broker `verbund stack up` left running is used as it is; otherwise the stack's order of choice.
                    given = self.options.bootstrap or running_kafka_bootstrap()
                    endpoint = await asyncio.to_thread(kafka_stack.enter_context, provide_kafka(given))
                    bootstrap = endpoint.bootstrap_servers
                    await ensure_topics(bootstrap, load_topics().values())
                    progress.update(step, completed=1, description=f"Kafka at {bootstrap} ({endpoint.source})")

                    step = progress.add_task("SMTP sink", total=1)
                    self.mail.start()
                    services.callback(self.mail.stop)
                    progress.update(step, completed=1, description=f"SMTP sink on 127.0.0.1:{self.mail.port}")

                    # The whole scenario goes out before the services start, so the matcher reads it in one batch and
                    # publishes one plan (not a version per partial batch), and the notifier knows every contact
                    # before the first assignment reaches it.
                    step = progress.add_task(f"publishing {self.options.scenario.name}", total=len(events))
                    sent = await send_events(events, bootstrap, topic("inbound"))
                    progress.update(step, completed=len(events), description=f"published {self.options.scenario.name}")

                    step = progress.add_task("matcher: starting", total=1)
                    matcher_port = free_port()
                    await services.enter_async_context(self._matcher(bootstrap, matcher_port))
                    _quiet_service_logs()
                    progress.update(step, completed=1, description="matcher running (SQLite)")

                    step = progress.add_task("notifier: starting", total=1)
                    notifier_port = free_port()
                    await self._start_notifier(bootstrap, notifier_port, services)
                    progress.update(step, completed=1, description="notifier running (SQLite)")

                    unfinished = await self._wait_until_settled(
                        progress,
                        bootstrap,
                        networks,
                        sent.positions,
                        Endpoints(
                            matcher_group=self._matcher_group,
                            matcher_metrics=f"http://127.0.0.1:{matcher_port}",
                            notifier_group=self._notifier_group,
                            notifier_metrics=f"http://127.0.0.1:{notifier_port}",
                        ),
                    )
                self.console.print(final_report(self.picture, self.mail.messages, self.options.messages))
                if unfinished is not None:
                    raise unfinished
                kept = (
                    f" Databases and messages (.eml) are kept in {self.run_dir}."
                    if self.options.keep
                    else " (--keep keeps the databases and the messages as .eml files.)"
                )
                self.console.print(f"[bold green]Demo complete.[/]{kept}", highlight=False)
            finally:
                with self.console.status("stopping notifier, matcher, SMTP sink and Kafka"):
                    await services.aclose()
                    await asyncio.to_thread(kafka_stack.close)
                    if not self.options.keep:
                        shutil.rmtree(self.run_dir, ignore_errors=True)

    @property
    def _matcher_group(self) -> str:
        return f"verbund-demo-matcher-{self.run_id}"

    @property
    def _notifier_group(self) -> str:
        return f"verbund-demo-notifier-{self.run_id}"

    def _matcher(self, bootstrap: str, health_port: int) -> contextlib.AbstractAsyncContextManager[Any]:
        from verbund_matcher.runner import run_matcher
        from verbund_matcher.settings import MatcherSettings

        settings = MatcherSettings(
            database_url=f"sqlite+aiosqlite:///{self.run_dir / 'matcher.db'}",
            kafka_bootstrap_servers=bootstrap,
            group_id=self._matcher_group,
            # The demo reads the outbox's progress from /metrics, as an operator would.
            health_host="127.0.0.1",
            health_port=health_port,
            full_reoptimise_interval=0,
            solver_workers=2,
            batch_timeout_ms=300,
            relay_poll_seconds=0.2,
            auto_offset_reset="earliest",
            log_json=False,
        )
        return run_matcher(settings)

    async def _start_notifier(self, bootstrap: str, health_port: int, services: contextlib.AsyncExitStack) -> None:
        from verbund_notifier.app import build
        from verbund_notifier.settings import NotifierSettings

        settings = NotifierSettings(
            kafka_bootstrap_servers=bootstrap,
            notifier_database_url=f"sqlite+aiosqlite:///{self.run_dir / 'notifier.db'}",
            notifier_group_id=self._notifier_group,
            smtp_host="127.0.0.1",
            smtp_port=self.mail.port,
            smtp_starttls=False,
            delivery_poll_seconds=0.2,
            # A port of its own, not the default one a running notifier may hold: the demo reads /metrics there.
            health_host="127.0.0.1",
            health_port=health_port,
            # Reminders and digests fall due weeks from now, long after the demo: nothing for a scheduler to run.
            notifier_scheduler=False,
        )
        notifier = build(settings)
        # The app's hooks order it: schema and scheduler, consumers, delivery worker; on stop the worker ends
        # before the broker closes, so its last delivery log entries still go out.
        await notifier.app.start()
        services.push_async_callback(notifier.app.stop)
        _quiet_service_logs()

    async def _wait_until_settled(
        self,
        progress: Progress,
        bootstrap: str,
        networks: list[str],
        inbound_positions: list[tuple[int, int]],
        endpoints: Endpoints,
    ) -> DemoIncomplete | None:
        """Read the published events into the picture until the matcher and notifier have nothing left to do.

        Settled means: the matcher handled every event and published its whole outbox, every network has a
        plan, everything published has been read back here and consumed by the notifier, no message is
        waiting for delivery, and every message sent has its delivery log entry on the notifications topic.
        All of it is seen from outside, as an operator would: the topics, the consumer groups' offsets and the
        services' /metrics, never their tables. Returns what was still missing when the time ran out (None
        when settled), so that the plan and the messages sent so far are shown either way.
        """
        events = len(inbound_positions)
        handled_task = progress.add_task("matcher: events handled", total=events)
        planned_task = progress.add_task("plans published (networks)", total=len(networks))
        mail_task = progress.add_task("notifier: messages delivered", total=None)
        inbound_ends: dict[TopicPartition, int] = {}
        for partition, offset in inbound_positions:
            tp = TopicPartition(topic("inbound"), partition)
            inbound_ends[tp] = max(inbound_ends.get(tp, 0), offset + 1)
        watched = ("assignments", "shortfalls")
        consumer = await assigned_consumer(
            WatchOptions(
                bootstrap=bootstrap,
                topics=(*(topic(r) for r in watched), topic("notifications")),
                from_beginning=True,
            )
        )
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        http = httpx.AsyncClient(timeout=10.0)
        state = Progressing()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.timeout
        next_check = loop.time()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=300, max_records=1000)
                for records in batches.values():
                    for record in records:
                        with contextlib.suppress(InvalidEvent):
                            self.picture.apply(decode_event(record.value or b""))
                # Checking costs broker round trips and scrapes that the services in this process would feel;
                # once a second is plenty for a progress display.
                if loop.time() < next_check:
                    continue
                next_check = loop.time() + 1.0
                state = await self._check(consumer, admin, http, networks, inbound_positions, inbound_ends, endpoints)
                progress.update(handled_task, completed=state.handled)
                progress.update(planned_task, completed=state.planned_networks)
                progress.update(mail_task, completed=state.delivered)
                if not state.missing(events, len(networks)):
                    progress.update(mail_task, total=state.delivered)
                    return None
                if loop.time() > deadline:
                    return DemoIncomplete(
                        f"not finished after {self.options.timeout:.0f} s: "
                        + "; ".join(state.missing(events, len(networks)))
                    )
        finally:
            await http.aclose()
            await admin.close()
            await consumer.stop()

    async def _check(
        self,
        consumer: AIOKafkaConsumer,
        admin: AIOKafkaAdminClient,
        http: httpx.AsyncClient,
        networks: list[str],
        inbound_positions: list[tuple[int, int]],
        inbound_ends: dict[TopicPartition, int],
        endpoints: Endpoints,
    ) -> Progressing:
        state = Progressing()
        committed = await _committed(admin, endpoints.matcher_group, topic("inbound"))
        state.handled = handled_count(inbound_positions, committed)
        matcher = await scrape(http, endpoints.matcher_metrics)
        state.outbox_unsent = int(matcher.get(OUTBOX_LAG, -1))
        state.planned_networks = sum(1 for n in networks if self.picture.planned(n))
        state.delivered = self.picture.delivered
        if state.handled < len(inbound_positions) or state.outbox_unsent:
            return state
        # Everything the matcher will publish is on the topics now: compare with where readers stand.
        partitions = sorted(consumer.assignment())
        ends = await _end_offsets(consumer, partitions)
        positions = {tp: await consumer.position(tp) for tp in ends}
        state.view_caught_up = all(positions[tp] >= end for tp, end in ends.items())
        per_role: dict[str, dict[TopicPartition, int]] = {"inbound": inbound_ends}
        for role in ("assignments", "shortfalls"):
            per_role[role] = {tp: end for tp, end in ends.items() if tp.topic == topic(role)}
        reached = [await _group_reached(admin, f"{endpoints.notifier_group}.{role}", e) for role, e in per_role.items()]
        state.notifier_caught_up = all(reached)
        notifier = await scrape(http, endpoints.notifier_metrics)
        pending = notifier.get(DELIVERIES_PENDING)
        if pending is None:
            return state  # the gauge appears once the delivery worker runs: open deliveries still unknown
        # Open: waiting to be sent (or being handed over), or finished with its log entry not read back yet. The
        # counters are this process's, and the demo's notifier is the only one in it; the mail sink counts too,
        # in case a counter lags behind its row.
        delivered = max(int(notifier.get(DELIVERED_TOTAL, 0)), self.mail.received)
        unlogged = max(0, delivered - len(self.picture.delivered_ids))
        unlogged += max(0, int(notifier.get(FAILED_TOTAL, 0)) - len(self.picture.failed_ids))
        state.deliveries_open = int(pending) + unlogged
        return state
