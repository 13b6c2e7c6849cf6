"""Runs a whole matcher in the current event loop: consumer, outbox relay, scheduler, health endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiokafka import TopicPartition
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from faststream import FastStream
from faststream.kafka import KafkaBroker
from sqlalchemy import text
from verbund_runtime.health import HealthServer, health_server
from verbund_schemas.topics import is_inbound

from .app import Runtime, create_app
from .key_endpoint import key_routes, learner_routes
from .ops import metrics
from .ops.collector import CollectorPolicy
from .ops.stages import PublishWatch
from .service.failures import describe
from .service.learner_retention import RetentionRun, learners_due, request_erasures
from .service.maintenance import freeze_all, reoptimise_all, retry_stale_plans
from .service.relay import OutboxHealth, Relay, outbox_health
from .service.replan import Planner
from .service.retention import Pruned, prune
from .service.stale_plans import StalePlan, read_stale_plans, readiness_lines
from .settings import MatcherSettings
from .store.database import migrate

log = logging.getLogger(__name__)

# Readiness asks the cluster for its description; a broker gone for good answers nothing within this.
_BROKER_PING_SECONDS = 3.0
# Each part of readiness gets this long (a probe's own timeout is usually 5 s or more).
_CHECK_SECONDS = 4.0


# The daily job that erases learners past their network's retention_months (service/learner_retention.py).
RETENTION_JOB = "learner-retention"


@dataclass
class RunningMatcher:
    """A started matcher; `relay.published` counts what it has sent, `health` serves the HTTP endpoint."""

    settings: MatcherSettings
    runtime: Runtime
    app: FastStream
    broker: KafkaBroker
    relay: Relay
    scheduler: AsyncIOScheduler
    health: HealthServer | None

    async def reoptimise_now(self) -> int:
        """Run the full re-optimisation of every network now (the scheduler does it every interval)."""
        published = await reoptimise_all(
            self.runtime.sessions,
            today=self.runtime.today,
            planner=self.runtime.planner,
            min_interval=dt.timedelta(0),
            on_published=self.relay.wake,
        )
        return published

    async def retry_stale_plans_now(self) -> int:
        """Plan again the stale networks whose backoff has run out (the scheduler looks every
        VERBUND_PLAN_RETRY_BASE_SECONDS); the number whose plan follows their state again."""
        return await retry_stale_plans(
            self.runtime.sessions,
            today=self.runtime.today,
            planner=self.runtime.planner,
            retry=self.runtime.plan_retry,
            on_published=self.relay.wake,
        )

    async def freeze_now(self) -> int:
        """Run the daily freeze now."""
        return await freeze_all(self.runtime.sessions, today=self.runtime.today)

    async def prune_now(self) -> Pruned:
        """Forget old inbox ids and published outbox rows now (the scheduler does it daily)."""
        s = self.settings
        return await prune(
            self.runtime.sessions,
            now=dt.datetime.now(dt.UTC),
            inbox_days=s.inbox_retention_days,
            outbox_days=s.outbox_retention_days,
        )

    async def erase_expired_now(self) -> RetentionRun:
        """Request the erasure of every learner past their network's retention now (the scheduler does it
        daily at VERBUND_RETENTION_HOUR_UTC)."""
        run = await request_erasures(self.runtime.sessions, self.runtime.today())
        metrics.RETENTION_REQUESTED.inc(run.requested)
        if run.requested:
            self.relay.wake()
        return run

    async def refresh_retention_gauges(self) -> None:
        """Learners due and the job's next run, for /metrics (and so `verbund stack status`)."""
        metrics.RETENTION_DUE.set(len(await learners_due(self.runtime.sessions, self.runtime.today())))
        job = self.scheduler.get_job(RETENTION_JOB) if self.scheduler.running else None
        next_run = job.next_run_time if job is not None else None
        metrics.RETENTION_NEXT_RUN.set(next_run.timestamp() if next_run is not None else 0)

    async def ready(self) -> tuple[bool, str]:
        """Whether this replica can do its work, part by part: a line each, "ok" or what is wrong.

        Not ready while the database or the broker does not answer, the consumer is not running or is retrying
        a failing batch, or the relay is stuck (the oldest unpublished outbox event is older than
        VERBUND_READY_MAX_OUTBOX_AGE_SECONDS). Parked records are shown but do not make it unready: the replica
        still does its work, and they wait for an operator (docs/decisions/0003-parking-failed-records.md).
        Stale plans (planning failed; retried with backoff) are shown one line per network and do not make it
        unready either: consuming must go on, and the published plan is the last good one, not a wrong one.
        Every check is live, so readiness comes back by itself once the fault is gone.
        """
        parts: dict[str, str | None] = {}
        parts["database"] = await _checked(self._database_problem)
        parts["kafka"] = await _checked(self._kafka_problem)
        attempts = self.runtime.attempts
        parts["inbound"] = (
            f"batch failing, retrying: {attempts.failing}" if attempts is not None and attempts.failing else None
        )
        health: OutboxHealth | None = None
        stale: list[StalePlan] | str = []
        if parts["database"] is None:
            try:
                health = await asyncio.wait_for(outbox_health(self.runtime.sessions), timeout=_CHECK_SECONDS)
            except Exception as exc:
                parts["relay"] = f"outbox unreadable: {describe(exc)}"
            try:
                stale = await asyncio.wait_for(read_stale_plans(self.runtime.sessions), timeout=_CHECK_SECONDS)
            except Exception as exc:
                stale = f"plan stale: unknown, the networks could not be read: {describe(exc)}"
        if health is not None:
            parts["relay"] = self._relay_problem(health)
        elif "relay" not in parts:
            parts["relay"] = "unknown while the database does not answer"
        ok = all(problem is None for problem in parts.values())
        lines = [f"{'ready' if ok else 'not ready'} partitions={self.assigned_partitions()}"]
        lines += [f"{name}: {'ok' if problem is None else problem}" for name, problem in parts.items()]
        if health is not None and health.unsent:
            lines.append(f"outbox: {health.unsent} unsent, oldest {health.oldest_unsent_seconds:.0f} s")
        parked_inbound = attempts.parked if attempts is not None else 0
        if (health is not None and health.parked) or parked_inbound:
            lines.append(
                f"parked: {health.parked if health else '?'} outbox events, {parked_inbound} inbound records "
                "parked by this replica since it started; see `verbund parked list`"
            )
        if isinstance(stale, str):
            lines.append(stale)
        else:
            lines += readiness_lines(stale, now=dt.datetime.now(dt.UTC), retry=self.runtime.plan_retry)
        return ok, "\n".join(lines)

    async def _database_problem(self) -> str | None:
        async with self.runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return None

    async def _kafka_problem(self) -> str | None:
        subscribers = list(self.broker.subscribers)
        if not subscribers or not all(getattr(s, "running", False) for s in subscribers):
            return "kafka consumer not running"
        # The consumers keep "running" while they retry a lost broker: ask the cluster itself.
        if not await self.broker.ping(timeout=_BROKER_PING_SECONDS):
            return f"kafka broker unreachable at {self.settings.kafka_bootstrap_servers}"
        return None

    def _relay_problem(self, health: OutboxHealth) -> str | None:
        if not self.relay.running:
            return "outbox relay not running"
        limit = self.settings.ready_max_outbox_age_seconds
        if health.oldest_unsent_seconds > limit:
            why = f"; last failure: {self.relay.last_failure}" if self.relay.last_failure else ""
            return (
                f"stuck: {health.unsent} outbox events unsent, the oldest for {health.oldest_unsent_seconds:.0f} s "
                f"(more than {limit:g} s){why}"
            )
        return None

    async def refresh_gauges(self) -> None:
        """Outbox and stale-plan gauges from the tables, before each scrape: true even while the relay is stuck,
        and whichever replica marked a network."""
        await outbox_health(self.runtime.sessions)
        await read_stale_plans(self.runtime.sessions)
        await self.refresh_retention_gauges()

    async def until_consuming(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Wait until this replica holds partitions and knows where it reads from in each.

        With auto_offset_reset=latest a record produced before the position is resolved would be
        skipped, so demos and tests call this before producing.
        """
        async with asyncio.timeout(timeout):
            while True:
                consumers = [c for s in self.broker.subscribers if (c := getattr(s, "consumer", None)) is not None]
                assigned = [(c, tp) for c in consumers for tp in _inbound(c.assignment())]
                if assigned:
                    for c, tp in assigned:
                        await c.position(tp)
                    return
                await asyncio.sleep(0.1)

    def assigned_partitions(self) -> int:
        """Inbound partitions this replica holds right now (0 until the group has balanced)."""
        total = 0
        for sub in self.broker.subscribers:
            consumer = getattr(sub, "consumer", None)
            if consumer is not None:
                total += len(_inbound(consumer.assignment()))
        return total


def _inbound(assignment: Iterable[TopicPartition]) -> list[TopicPartition]:
    # The replay requests' consumer holds partitions of the parked topic too; partitions, lag and "consuming"
    # speak of the inbound topics (the shared one and the firms' own).
    return [tp for tp in assignment if is_inbound(tp.topic)]


async def _checked(check: Callable[[], Awaitable[str | None]]) -> str | None:
    """A check's problem, or what went wrong asking (a hung database must not hang the probe)."""
    try:
        return await asyncio.wait_for(check(), timeout=_CHECK_SECONDS)
    except TimeoutError:
        return f"no answer within {_CHECK_SECONDS:g} s"
    except Exception as exc:
        return f"unreachable: {describe(exc)}"


async def _consumer_lag(broker: KafkaBroker) -> int:
    lag = 0
    for sub in broker.subscribers:
        consumer = getattr(sub, "consumer", None)
        if consumer is None:
            continue
        for tp in _inbound(consumer.assignment()):
            high = consumer.highwater(tp)
            if high is None:
                continue
            try:
                position = await asyncio.wait_for(consumer.position(tp), timeout=1)
            except Exception:
                continue
            lag += max(0, high - position)
    return lag


async def _watch_lag(broker: KafkaBroker, every: float = 5.0) -> None:
    while True:
        with contextlib.suppress(Exception):
            metrics.CONSUMER_LAG.set(await _consumer_lag(broker))
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def run_matcher(
    settings: MatcherSettings | None = None,
    *,
    today: Callable[[], dt.date] | None = None,
    planning: Planner | None = None,
) -> AsyncIterator[RunningMatcher]:
    """Start a matcher in this event loop; on exit finish the batch in hand, publish the outbox, close.

    `today` replaces the clock for planning and freezing (tests and demos pin it); `planning` the planner.
    """
    settings = settings or MatcherSettings()
    runtime = Runtime.from_settings(settings, today=today, planning=planning)
    engine = runtime.engine
    if settings.migrate:
        await migrate(engine)
    app, broker = create_app(runtime)
    runtime.publish_watch = PublishWatch()
    relay = Relay(
        runtime.sessions,
        settings.kafka_bootstrap_servers,
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
        client_id=f"{settings.client_id}-relay",
        max_attempts=settings.relay_max_attempts,
        max_request_size=settings.relay_max_request_size,
        security=settings.kafka_security(),
        watch=runtime.publish_watch,
    )
    runtime.on_committed.append(relay.wake)
    if settings.gc_full_collect_seconds > 0:
        runtime.on_committed.append(CollectorPolicy(settings.gc_full_collect_seconds).after_batch)
    scheduler = AsyncIOScheduler(timezone="UTC")
    matcher = RunningMatcher(settings, runtime, app, broker, relay, scheduler, None)
    if settings.full_reoptimise_interval > 0:
        interval = dt.timedelta(seconds=settings.full_reoptimise_interval)
        scheduler.add_job(
            reoptimise_all,
            "interval",
            seconds=settings.full_reoptimise_interval,
            kwargs={
                "sessions": runtime.sessions,
                "today": runtime.today,
                "planner": runtime.planner,
                # Replicas share the work: a network re-optimised by another one within the interval is skipped.
                "min_interval": interval * 0.9,
                "on_published": relay.wake,
            },
            id="full-reoptimisation",
            max_instances=1,
            coalesce=True,
        )
    scheduler.add_job(
        matcher.retry_stale_plans_now,
        "interval",
        seconds=settings.plan_retry_base_seconds,
        id="stale-plan-retry",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        freeze_all,
        "cron",
        hour=settings.freeze_hour_utc,
        kwargs={"sessions": runtime.sessions, "today": runtime.today},
        id="daily-freeze",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        matcher.prune_now,
        "cron",
        hour=settings.freeze_hour_utc,
        minute=30,
        id="daily-prune",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        matcher.erase_expired_now,
        "cron",
        hour=settings.retention_hour_utc,
        id=RETENTION_JOB,
        max_instances=1,
        coalesce=True,
    )
    token = settings.key_service_token
    keys = runtime.keys
    routes = (
        [*key_routes(keys, token.get_secret_value()), *learner_routes(runtime.sessions, token.get_secret_value())]
        if token is not None and keys is not None
        else []
    )
    matcher.health = health_server(settings, matcher.ready, matcher.refresh_gauges, service="matcher", routes=routes)
    if matcher.health is not None:
        await matcher.health.start()
    lag_task: asyncio.Task[None] | None = None
    try:
        await relay.start()
        await app.start()
        scheduler.start()
        lag_task = asyncio.create_task(_watch_lag(broker, settings.lag_poll_seconds), name="verbund-consumer-lag")
        log.info("matcher started", extra={"group_id": settings.group_id, "database": engine.url.render_as_string()})
        yield matcher
    finally:
        if lag_task is not None:
            lag_task.cancel()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        # The broker waits (graceful_timeout) for the batch in hand: it commits, then offsets are acked.
        await app.stop()
        await relay.stop()
        if matcher.health is not None:
            await matcher.health.stop()
        await engine.dispose()
        log.info("matcher stopped")
