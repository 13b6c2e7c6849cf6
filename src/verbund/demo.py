"""`verbund demo`: the whole system on one laptop (Kafka, mail sink, console, matcher, notifier) playing a scenario."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import shutil
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from functools import partial
from pathlib import Path

import httpx
import typer
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from verbund_runtime.kafka import client_options
from verbund_runtime.keyring import HttpKeyring
from verbund_schemas import FirmRegistered, InvalidEvent, PersonalDataErased, decode_opened, load_topics, topic

from verbund.demo_view import Picture, final_report, plain_report
from verbund.event_file import read_event_file
from verbund.kafka_access import use_stack_credentials
from verbund.mailsink import kept_messages, read_message
from verbund.publish import report_problems, send_events
from verbund.service_metrics import scrape
from verbund.stack import background
from verbund.stack.services import ServiceState, wait_until_answering
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
    messages: int
    # Seconds each background process (broker, console, matcher, notifier) may take to answer.
    start_timeout: float = 180.0


@dataclass(frozen=True)
class DemoSignIn:
    """Where the console answers and the demo coordinator who may see the demo's networks there."""

    console_url: str
    email: str
    password: str
    # A firm user of one demo firm: they see only that firm's page, where they post and answer for it.
    firm_page: str = ""
    firm_email: str = ""
    firm_password: str = ""


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


def key_endpoint_answers(url: str, token: str) -> bool:
    """Whether the matcher's key endpoint answers and takes the token (404 for a key never made: it looked)."""
    try:
        response = httpx.get(f"{url}/keys/demo/none", headers={"authorization": f"Bearer {token}"}, timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 404


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


class Demo:
    """Starts the stack and the services in the background, plays the scenario, waits until plans and messages
    are out, reports, adds a demo coordinator to the console, and returns with everything still running."""

    def __init__(self, options: DemoOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.run_id = uuid.uuid4().hex[:8]
        self.picture = Picture()
        self.mail_dir = background.mail_dir()
        self.mail_before = 0

    @property
    def prefix(self) -> str:
        return os.environ.get("VERBUND_TOPIC_PREFIX", "") + f"demo-{self.run_id}."

    def _isolate_topics(self) -> None:
        # A fresh prefix per run: a broker that outlives the demo (stack up, a cluster) never replays an
        # earlier run's events into this one. load_topics caches the names, so clear it after setting.
        os.environ["VERBUND_TOPIC_PREFIX"] = self.prefix
        load_topics.cache_clear()

    @property
    def run_dir(self) -> Path:
        return background.stack_dir() / "demo" / self.run_id

    def _caught(self) -> list[Path]:
        return kept_messages(self.mail_dir)[self.mail_before :]

    def messages(self) -> list[EmailMessage]:
        """What this run's notifier delivered to the stack's mail sink, oldest first."""
        return [read_message(path) for path in self._caught()]

    async def run(self) -> DemoSignIn:
        prefix = self.prefix
        self._isolate_topics()
        parsed = read_event_file(self.options.scenario)
        if not parsed.ok:
            report_problems(parsed, self.options.scenario, self.console)
            raise typer.Exit(1)
        events = [e for _, e in parsed.events]
        networks = sorted({e.subject for e in events})

        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        with progress:
            step = progress.add_task("stack: Kafka, mail sink, console", total=1)
            # A given cluster is used as it is; otherwise the broker of `verbund stack up`, started when none runs.
            given = self.options.bootstrap or os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None
            # The previous run's services read other topics: they go before their folders do.
            await asyncio.to_thread(background.stop_services, ("matcher", "notifier"))
            shutil.rmtree(self.run_dir.parent, ignore_errors=True)
            up = await asyncio.to_thread(
                lambda: background.up(
                    postgres=False,
                    kafka_port=None,
                    postgres_port=None,
                    timeout=self.options.start_timeout,
                    bootstrap=given,
                    topic_prefix=prefix,
                )
            )
            state = up.state
            bootstrap = given or (state.kafka.bootstrap_servers if state.kafka else "")
            # On the stack's broker the demo reads and publishes as the operator's `cli` principal.
            use_stack_credentials(bootstrap)
            smtp_port = background.smtp_port_of(state)
            assert smtp_port is not None
            console_url = state.services[background.CONSOLE].url
            self.mail_before = len(kept_messages(self.mail_dir))
            progress.update(
                step, completed=1, description=f"Kafka at {bootstrap}, mail sink on port {smtp_port}, console"
            )

            # Names travel sealed (ADR 0004): the matcher, which owns the keys, starts first, and the scenario
            # goes out once its key endpoint answers. Sealed in full before the first record is sent, it
            # arrives in one burst, so the matcher reads it in one batch and publishes one plan.
            step = progress.add_task("matcher: starting (key endpoint)", total=1)
            # The ports `up` recorded: the console was started pointing at them (keys, the notifier's messages).
            matcher_port, notifier_port = state.key_service_port, state.notifier_port
            assert matcher_port is not None and notifier_port is not None
            matcher = self._start_matcher(bootstrap, prefix, state)
            key_url = background.key_service_url(state)
            assert key_url is not None
            token = background.key_service_token()
            await asyncio.to_thread(
                wait_until_answering,
                matcher,
                partial(key_endpoint_answers, key_url, token),
                self.options.start_timeout,
            )
            progress.update(step, completed=1, description=f"matcher's key endpoint answers at {key_url}")
            keyring = HttpKeyring(key_url, token)
            try:
                step = progress.add_task(f"publishing {self.options.scenario.name} (sealed)", total=len(events))
                sent = await send_events(events, bootstrap, topic("inbound"), keyring)
                progress.update(
                    step, completed=len(events), description=f"published {self.options.scenario.name} (sealed)"
                )

                step = progress.add_task("matcher and notifier: starting", total=2)
                notifier = self._start_notifier(bootstrap, prefix, smtp_port, notifier_port, state)
                await asyncio.gather(
                    *(
                        asyncio.to_thread(
                            wait_until_answering,
                            service,
                            partial(background.answers_http, f"{service.url}/readyz"),
                            self.options.start_timeout,
                        )
                        for service in (matcher, notifier)
                    )
                )
                progress.update(step, completed=2, description="matcher and notifier running (SQLite)")

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
                    keyring,
                )
            finally:
                await keyring.close()
        if self.console.is_terminal:
            self.console.print(final_report(self.picture, self.messages(), self.options.messages))
        else:
            # A pipe or a log: whole lines, nothing cut to a width nobody reads it at.
            report = plain_report(self.picture, self.messages(), self.options.messages)
            self.console.print(report, soft_wrap=True, highlight=False, markup=False)
        if unfinished is not None:
            raise unfinished
        firm = next(((e.subject, e.data.firm_id) for e in events if isinstance(e, FirmRegistered)), None)
        return await self._demo_coordinator(console_url, networks, firm)

    async def _demo_coordinator(
        self, console_url: str, networks: list[str], firm: tuple[str, str] | None
    ) -> DemoSignIn:
        """A coordinator for the demo's networks and a user of its first firm, each with a fresh password, in the
        stack console's own database."""
        from verbund_console.app import build
        from verbund_console.settings import ConsoleSettings
        from verbund_console.store.accounts import FIRM
        from verbund_console.store.database import migrate

        settings = ConsoleSettings(database_url=background.console_database_url(), consume=False, session_secret=None)
        sign_in = DemoSignIn(console_url, "demo@verbund.example", secrets.token_urlsafe(12))
        if firm is not None:
            sign_in = dataclasses.replace(
                sign_in,
                firm_page=f"{console_url}f/{firm[0]}/{firm[1]}/",
                firm_email="firm@verbund.example",
                firm_password=secrets.token_urlsafe(12),
            )
        await migrate(settings.database_url)
        console = build(settings)
        try:
            await console.accounts.add_user(sign_in.email, sign_in.password, networks)
            if firm is not None:
                # No coordinator grant: a firm user's only page is their firm's.
                await console.accounts.add_user(sign_in.firm_email, sign_in.firm_password, [])
                await console.accounts.add_member(sign_in.firm_email, firm[0], FIRM, firm[1])
        finally:
            await console.engine.dispose()
        path = background.stack_dir() / background.DEMO_SIGN_IN
        path.unlink(missing_ok=True)
        path.touch(mode=0o600)
        path.write_text(
            f"{sign_in.console_url}\n{sign_in.email}\n{sign_in.password}\n"
            f"{sign_in.firm_page}\n{sign_in.firm_email}\n{sign_in.firm_password}\n"
        )
        return sign_in

    @property
    def _matcher_group(self) -> str:
        return f"verbund-demo-matcher-{self.run_id}"

    @property
    def _notifier_group(self) -> str:
        return f"verbund-demo-notifier-{self.run_id}"

    def _start_matcher(self, bootstrap: str, prefix: str, state: background.StackState) -> ServiceState:
        keys = background.matcher_key_environment(state)
        health_port = keys.pop("VERBUND_HEALTH_PORT")
        url = f"http://127.0.0.1:{health_port}"
        return background.start_background_service(
            "matcher",
            "verbund_matcher",
            url=url,
            env={
                "VERBUND_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "VERBUND_TOPIC_PREFIX": prefix,
                "VERBUND_DATABASE_URL": f"sqlite+aiosqlite:///{self.run_dir / 'matcher.db'}",
                "VERBUND_GROUP_ID": self._matcher_group,
                # The demo reads the outbox's progress from /metrics, as an operator would.
                "VERBUND_HEALTH_HOST": "127.0.0.1",
                "VERBUND_HEALTH_PORT": health_port,
                "VERBUND_MASTER_KEY_FILE": keys.pop("VERBUND_MASTER_KEY_FILE"),
                "VERBUND_FULL_REOPTIMISE_INTERVAL": "0",
                "VERBUND_SOLVER_WORKERS": "2",
                "VERBUND_BATCH_TIMEOUT_MS": "300",
                "VERBUND_RELAY_POLL_SECONDS": "0.2",
                "VERBUND_AUTO_OFFSET_RESET": "earliest",
                "VERBUND_LOG_JSON": "false",
            },
            run_dir=self.run_dir,
            secrets_env=keys,
        )

    def _start_notifier(
        self, bootstrap: str, prefix: str, smtp_port: int, health_port: int, state: background.StackState
    ) -> ServiceState:
        url = f"http://127.0.0.1:{health_port}"
        keys = background.key_service_environment(state)
        token = {"VERBUND_KEY_SERVICE_TOKEN": keys.pop("VERBUND_KEY_SERVICE_TOKEN")}
        return background.start_background_service(
            "notifier",
            "verbund_notifier",
            url=url,
            env={
                "VERBUND_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "VERBUND_TOPIC_PREFIX": prefix,
                "VERBUND_NOTIFIER_DATABASE_URL": f"sqlite+aiosqlite:///{self.run_dir / 'notifier.db'}",
                "VERBUND_NOTIFIER_GROUP_ID": self._notifier_group,
                "VERBUND_SMTP_HOST": "127.0.0.1",
                "VERBUND_SMTP_PORT": str(smtp_port),
                "VERBUND_SMTP_STARTTLS": "false",
                "VERBUND_DELIVERY_POLL_SECONDS": "0.2",
                # A port of its own, not the default one a running notifier may hold: the demo reads /metrics there.
                "VERBUND_HEALTH_HOST": "127.0.0.1",
                "VERBUND_HEALTH_PORT": str(health_port),
                # Reminders and digests fall due weeks from now, long after the demo: nothing for a scheduler to run.
                "VERBUND_NOTIFIER_SCHEDULER": "false",
                "VERBUND_LOG_JSON": "false",
                **keys,
            },
            run_dir=self.run_dir,
            secrets_env=token,
        )

    async def _wait_until_settled(
        self,
        progress: Progress,
        bootstrap: str,
        networks: list[str],
        inbound_positions: list[tuple[int, int]],
        endpoints: Endpoints,
        keyring: HttpKeyring,
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
        admin = AIOKafkaAdminClient(**client_options(bootstrap))
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
                        # Names are sealed on the topics: the demo opens them as the console does.
                        with contextlib.suppress(InvalidEvent, PersonalDataErased):
                            self.picture.apply(await decode_opened(record.value or b"", keyring))
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
        # counters are the demo notifier's process's own; the mail sink's files count too, in case a counter lags
        # behind its row.
        delivered = max(int(notifier.get(DELIVERED_TOTAL, 0)), len(self._caught()))
        unlogged = max(0, delivered - len(self.picture.delivered_ids))
        unlogged += max(0, int(notifier.get(FAILED_TOTAL, 0)) - len(self.picture.failed_ids))
        state.deliveries_open = int(pending) + unlogged
        return state
