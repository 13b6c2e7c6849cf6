"""The FastStream application: the inbound batch consumer and the declared outbound publishers."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from faststream import FastStream
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from faststream.specification import AsyncAPI
from pydantic import WithJsonSchema
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_runtime.asyncapi import inline_schema, payload_schema
from verbund_runtime.kafka import faststream_security
from verbund_runtime.retries import RetryPolicy
from verbund_schemas import (
    PARKED_RECORD_SCHEMA,
    AssignmentEvent,
    EventRejected,
    InboundEvent,
    OutboxReplayRequested,
    ShortfallEvent,
    parked_topic_description,
    topic,
)
from verbund_schemas.topics import firm_inbound, inbound_pattern

from .ops.stages import PublishWatch, observe_fetch_wait
from .service.ingest import BatchOutcome, InboundLimits, Record, handle_batch, reject_unprocessable
from .service.last_plans import LastPlans
from .service.outbox_replay import answer, replay_request
from .service.parking import parked_message
from .service.poison import InboundAttempts, ParkedRecord
from .service.replan import Planner, PlannerSettings
from .service.stale_plans import PlanRetry
from .settings import MatcherSettings
from .store.database import create_engine, session_factory
from .store.keys import KeyTable
from .store.networks import NetworkCache

log = logging.getLogger(__name__)


# The handler reads the exact bytes (a bad record must be rejected with its original bytes, not fail
# validation in the framework); the documented schema is still the contract's inbound union.
InboundBatch = Annotated[
    list[bytes],
    WithJsonSchema({**inline_schema(list[InboundEvent]), "title": "InboundBatch"}),
]


# A parked record's value is the inbound record's bytes as they came (an inbound event, or what failed to be one).
ParkedValue = Annotated[bytes, WithJsonSchema(PARKED_RECORD_SCHEMA)]
_PARKED_DESCRIPTION = parked_topic_description("Inbound records") + " The notifier parks its consumed events here too."


# The parked topic carries more than requests: the handler reads the bytes and picks the requests out itself.
ReplayRequest = Annotated[Any, payload_schema(OutboxReplayRequested)]


def _today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass
class Runtime:
    """What the handlers need at run time; built once per matcher instance, and everything a matcher keeps
    between batches lives here (two matchers in one process share nothing)."""

    settings: MatcherSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    today: Callable[[], dt.date] = _today_utc
    on_committed: list[Callable[[], None]] = field(default_factory=list)
    cache: NetworkCache = field(default_factory=NetworkCache)
    # Set by create_broker: parking needs the broker.
    attempts: InboundAttempts | None = None
    # What plans: the pure planner, unless run_matcher is handed another one.
    planning: Planner = field(default_factory=Planner)
    # What this matcher planned last per network (repair re-uses it).
    last_plans: LastPlans = field(default_factory=LastPlans)
    # The key table that opens sealed personal fields (docs/decisions/0004-sealed-personal-data.md).
    keys: KeyTable | None = None
    # Set where a relay runs (run_matcher): the append → published time of each committed batch's records.
    publish_watch: PublishWatch | None = None

    @classmethod
    def from_settings(
        cls,
        settings: MatcherSettings,
        *,
        today: Callable[[], dt.date] | None = None,
        planning: Planner | None = None,
    ) -> Runtime:
        """A matcher's runtime with its own engine and sessions on `settings.database_url`; nothing connects yet."""
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            today=today or _today_utc,
            planning=planning or Planner(),
            keys=KeyTable(sessions, Path(settings.master_key_file)),
        )

    @property
    def planner(self) -> PlannerSettings:
        s = self.settings
        return PlannerSettings(
            repair_time_limit=s.replan_time_limit,
            full_time_limit=s.full_reoptimise_time_limit,
            workers=s.solver_workers,
            seed=s.solver_seed,
            deterministic=s.solver_deterministic,
            solve_max_learners=s.replan_solve_max_learners,
            planner=self.planning,
            last_plans=self.last_plans,
            # Names are sealed on the way out only where the key endpoint lets the consumers open them.
            keys=self.keys if s.key_service_token is not None else None,
        )

    @property
    def plan_retry(self) -> PlanRetry:
        s = self.settings
        return PlanRetry(base_seconds=s.plan_retry_base_seconds, max_seconds=s.plan_retry_max_seconds)

    @property
    def retry_policy(self) -> RetryPolicy:
        s = self.settings
        return RetryPolicy(attempts=s.inbound_retry_attempts, backoff_seconds=s.inbound_retry_backoff_seconds)

    async def handle(self, records: Sequence[Record]) -> BatchOutcome:
        return await handle_batch(
            self.sessions,
            records,
            today=self.today,
            planner=self.planner,
            cache=self.cache,
            limits=self.limits,
            keyring=self.keys,
        )

    async def reject(self, record: Record, failure: str) -> BatchOutcome:
        return await reject_unprocessable(self.sessions, record, failure, max_event_bytes=self.settings.max_event_bytes)

    @property
    def limits(self) -> InboundLimits:
        s = self.settings
        return InboundLimits(
            max_event_bytes=s.max_event_bytes,
            week_horizon_years_back=s.week_horizon_years_back,
            week_horizon_years_ahead=s.week_horizon_years_ahead,
            require_sender=s.require_sender,
            accept_plaintext=s.accept_plaintext_personal_data,
        )


async def _raw_values(msg: KafkaMessage) -> list[bytes]:
    """Decoder: hand the handler the records' bytes untouched (decoding is the service's job)."""
    return [r.value or b"" for r in _records_of(msg)]


def _records_of(msg: KafkaMessage) -> tuple[Any, ...]:
    raw = msg.raw_message
    return tuple(raw) if isinstance(raw, tuple | list) else (raw,)


def inbound_router(runtime: Runtime) -> KafkaRouter:
    s = runtime.settings
    router = KafkaRouter()

    @router.subscriber(
        # The shared inbound topic and every firm's own one (infra/topics.toml, families.firm_inbound), in one
        # consumer: each topic's partitions keep their order, keyed by network, as before.
        pattern=inbound_pattern(),
        batch=True,
        group_id=s.group_id,
        max_records=s.batch_max_records,
        batch_timeout_ms=s.batch_timeout_ms,
        auto_offset_reset=s.auto_offset_reset,
        # Offsets are committed by the ack after the handler returned, i.e. after the database commit (or after
        # the records were rejected or parked); only when even parking fails is the batch nacked: the consumer
        # seeks back and reads it again.
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw_values,
        title="inbound",
        description="Every inbound event of every network, in order per network (key = network id): from the "
        f"shared topic {topic('inbound')} and from each firm's own topic {firm_inbound().prefix}<firm id>, whose "
        "events the matcher takes as sent by that firm.",
    )
    async def on_inbound(events: InboundBatch, message: KafkaMessage) -> None:
        raw = _records_of(message)
        observe_fetch_wait(r.timestamp for r in raw)
        records = [Record(r.topic, r.partition, r.offset, r.key, r.value) for r in raw]
        assert runtime.attempts is not None, "create_broker() sets up the retries"
        try:
            outcome = await runtime.attempts.run(records)
        except Exception:
            log.exception(
                "batch of %d records could be neither handled nor parked; it will be read again", len(records)
            )
            await asyncio.sleep(1.0)  # do not spin on a broker and database that are both down
            raise
        if runtime.publish_watch is not None and outcome.publications:
            appended: dict[bytes | None, list[int]] = {}
            for r in raw:
                if r.timestamp:
                    appended.setdefault(r.key, []).append(r.timestamp)
            for network_id in outcome.publications:
                runtime.publish_watch.committed(network_id, appended.get(network_id.encode("utf-8"), []))
        for notify in runtime.on_committed:
            notify()
        log.info(
            "batch committed",
            extra={
                "records": len(records),
                "applied": outcome.applied,
                "rejected": outcome.rejected,
                "duplicates": outcome.duplicates,
                "parked": outcome.parked,
                "replanned": len(outcome.publications),
            },
        )

    return router


def replay_router(runtime: Runtime) -> KafkaRouter:
    """Operators' requests to replay parked outbox events (docs/decisions/0003-parking-failed-records.md)."""
    s = runtime.settings
    router = KafkaRouter()

    @router.subscriber(
        topic("parked"),
        group_id=f"{s.group_id}.replays",
        # A request made while no matcher ran must still be answered; one read twice changes nothing.
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw_values,
        title="parked-replays",
        description="Replay requests for parked outbox events (OutboxReplayRequested, with the replay-marker "
        "headers); the matcher hands the row back to its relay. Every other record of the topic is skipped.",
    )
    async def on_replay_request(body: ReplayRequest, message: KafkaMessage) -> None:
        for record in _records_of(message):
            headers = {k: v.decode("utf-8", "replace") for k, v in (record.headers or ())}
            request = replay_request(record.value, headers)
            if request is not None and await answer(runtime.sessions, request):
                for notify in runtime.on_committed:
                    notify()

    return router


def outbound_routers() -> list[KafkaRouter]:
    """Publishers for the AsyncAPI document. The outbox relay publishes with its own idempotent producer."""
    routers = []
    roles: tuple[tuple[str, Any, str], ...] = (
        ("assignments", AssignmentEvent, "Assignment changes of a plan version, then PlanPublished."),
        (
            "shortfalls",
            ShortfallEvent,
            "Unmet requirements with their reasons, weeks below a firm's minimum, and their resolution.",
        ),
        ("rejected", EventRejected, "Inbound records that were not applied: original bytes and the reason."),
        ("parked", ParkedValue, _PARKED_DESCRIPTION),
    )
    for role, schema, description in roles:
        router = KafkaRouter()
        router.publisher(topic(role), schema=schema, title=role, description=description)
        routers.append(router)
    return routers


def create_broker(runtime: Runtime) -> KafkaBroker:
    s = runtime.settings
    broker = KafkaBroker(
        s.kafka_bootstrap_servers,
        security=faststream_security(s.kafka_security()),
        client_id=s.client_id,
        graceful_timeout=s.shutdown_grace_seconds,
        # The AsyncAPI document describes the contract, not one deployment: it names the local default
        # broker whatever the environment says, so regenerating it does not drift.
        specification_url="localhost:9092",
        # FastStream's own messages go through the service's handlers (JSON lines when configured).
        logger=logging.getLogger("verbund_matcher.broker"),
        enable_idempotence=True,
        acks="all",
        # How soon the inbound pattern subscription sees a firm's topic made by `verbund stack add-client`.
        metadata_max_age_ms=60_000,
    )
    broker.include_router(inbound_router(runtime))
    broker.include_router(replay_router(runtime))

    async def park(parked: Sequence[ParkedRecord]) -> None:
        for p in parked:
            m = parked_message(p, service="matcher", max_event_bytes=s.max_event_bytes)
            await broker.publish(m.value, topic=topic("parked"), key=m.key, headers=m.headers)

    runtime.attempts = InboundAttempts(runtime.handle, runtime.reject, park, runtime.retry_policy)
    for router in outbound_routers():
        broker.include_router(router)
    return broker


def create_app(runtime: Runtime) -> tuple[FastStream, KafkaBroker]:
    broker = create_broker(runtime)
    app = FastStream(
        broker,
        specification=AsyncAPI(
            title="Verbund matcher",
            version="0.1.0",
            description="Consumes network events, keeps each network's state, plans training rotations, "
            "and publishes the differences to the published plan.",
        ),
    )
    return app, broker


def __getattr__(name: str) -> Any:
    # `faststream run verbund_matcher.app:app` and `faststream docs gen verbund_matcher.app:app` look up `app`:
    # it is built from the environment's settings when asked for, so importing this module builds no engine or
    # broker. `python -m verbund_matcher` (verbund_matcher.runner) builds its own with relay, scheduler and health.
    if name == "app":
        app, _ = create_app(Runtime.from_settings(MatcherSettings()))
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
