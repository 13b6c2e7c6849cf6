"""One inbound batch as one unit of work: inbox dedup, state changes, rejections, and one replan per network."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import (
    DEFAULT_MAX_EVENT_BYTES,
    INBOUND_TYPES,
    Answer,
    ContactErased,
    Envelope,
    EventRejected,
    FirmLeft,
    InboundCause,
    InvalidEvent,
    Keyring,
    LearnerErased,
    NetworkConfiguredData,
    PersonalDataErased,
    PlacementAnswered,
    PlaintextPersonalData,
    WeekHorizon,
    check_size,
    decode_event,
    load_event,
    open_event,
    weeks_outside,
)
from verbund_schemas.topics import firm_inbound

from ..domain.authorisation import authorise
from ..domain.network import Change, Rejection
from ..ops import metrics
from ..ops.stages import BatchClock, Stage
from ..store.keys import destroy_key, retire_key
from ..store.networks import (
    LoadedNetwork,
    NetworkCache,
    bump_version,
    load_locked,
    lock_networks,
    read_published,
    save_network,
)
from ..store.tables import UNSCOPED, InboxRow, table_of
from .outbox import enqueue
from .plan_diff import forget_shortfall_payloads
from .replan import PlannerSettings, Publication, replan

log = logging.getLogger(__name__)

SERVICE = "verbund-matcher"


@dataclass(frozen=True)
class Record:
    """One Kafka record as received: where it came from and its exact bytes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    @property
    def key_text(self) -> str | None:
        if self.key is None:
            return None
        return self.key.decode("utf-8", errors="replace")

    @property
    def fallback_id(self) -> str:
        return f"kafka:{self.topic}:{self.partition}:{self.offset}"


@dataclass(frozen=True)
class InboundLimits:
    """What an inbound record may be: its size before it is read, and the weeks its event may name."""

    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    week_horizon_years_back: int = 5
    week_horizon_years_ahead: int = 10
    require_sender: bool = False
    """Refuse an inbound event that names no authenticated sender (VERBUND_REQUIRE_SENDER)."""
    accept_plaintext: bool = True
    """Apply events with names and contacts in clear text (VERBUND_ACCEPT_PLAINTEXT_PERSONAL_DATA)."""

    def horizon(self, today: dt.date, config: NetworkConfiguredData | None) -> WeekHorizon:
        """The network's own horizon where its NetworkConfigured states one, else the service's."""
        back = config.week_horizon_years_back if config is not None else None
        ahead = config.week_horizon_years_ahead if config is not None else None
        return WeekHorizon.around(
            today,
            years_back=self.week_horizon_years_back if back is None else back,
            years_ahead=self.week_horizon_years_ahead if ahead is None else ahead,
        )


@dataclass
class BatchOutcome:
    applied: int = 0
    rejected: int = 0
    duplicates: int = 0
    parked: int = 0
    causes: list[str] = field(default_factory=list)
    publications: dict[str, Publication] = field(default_factory=dict)

    def add(self, other: BatchOutcome) -> None:
        """Fold in the outcome of part of the batch (handled on its own after a failure)."""
        self.applied += other.applied
        self.rejected += other.rejected
        self.duplicates += other.duplicates
        self.parked += other.parked
        self.causes.extend(other.causes)
        self.publications.update(other.publications)


@dataclass(frozen=True)
class _Decoded:
    record: Record
    message_id: str
    event: Envelope | None = None
    problem: InvalidEvent | None = None
    cause: str = "invalid"

    @property
    def applied_key(self) -> tuple[str, str] | None:
        """The inbox key of the event once applied: an id is unique within its network only."""
        return (self.event.subject, self.event.id) if self.event is not None else None

    @property
    def rejected_key(self) -> tuple[str, str]:
        return (UNSCOPED, self.record.fallback_id)


async def _decode(record: Record, limits: InboundLimits, keyring: Keyring | None) -> _Decoded:
    raw = record.value or b""
    try:
        # Before anything reads it: a record too large is rejected by its size alone.
        check_size(raw, limits.max_event_bytes)
    except InvalidEvent as exc:
        return _Decoded(record, record.fallback_id, problem=exc, cause="too_large")
    try:
        if keyring is None:
            event = decode_event(raw, INBOUND_TYPES)
        else:
            event = load_event(await _opened(raw, keyring, limits.accept_plaintext), INBOUND_TYPES)
    except _Unopened as exc:
        return _Decoded(record, record.fallback_id, problem=exc.problem, cause=exc.cause)
    except InvalidEvent as exc:
        return _Decoded(record, record.fallback_id, problem=exc)
    return _Decoded(record, event.id, event=event)


class _Unopened(Exception):
    def __init__(self, problem: InvalidEvent, cause: str) -> None:
        super().__init__(problem.reason)
        self.problem = problem
        self.cause = cause


async def _opened(raw: bytes, keyring: Keyring, accept_plaintext: bool) -> object:
    """The event object with its sealed personal fields opened (ADR 0004)."""
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return decode_event(raw, INBOUND_TYPES)  # raises with the reason a person can act on
    if not isinstance(obj, dict):
        return obj
    event_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    event_type = obj.get("type") if isinstance(obj.get("type"), str) else None
    try:
        return await open_event(obj, keyring, accept_plaintext=accept_plaintext)
    except PersonalDataErased as exc:
        reason = f"{exc}; the event is not applied: an erased person is not registered again"
        raise _Unopened(InvalidEvent(reason, event_id=event_id, event_type=event_type), "erased") from exc
    except PlaintextPersonalData as exc:
        raise _Unopened(InvalidEvent(str(exc), event_id=event_id, event_type=event_type), "plaintext") from exc
    except ValueError as exc:
        reason = f"{exc}; send the event again through `verbund publish`, which seals it for this network"
        raise _Unopened(InvalidEvent(reason, event_id=event_id, event_type=event_type), "unsealable") from exc


def _rejection(d: _Decoded, reason: str, errors: list[str], network_id: str | None) -> EventRejected:
    return EventRejected.of_record(
        service="matcher",
        topic=d.record.topic,
        partition=d.record.partition,
        offset=d.record.offset,
        key=d.record.key_text,
        raw=d.record.value or b"",
        reason=reason,
        errors=errors,
        event_id=d.event.id if d.event else (d.problem.event_id if d.problem else None),
        event_type=d.event.type if d.event else (d.problem.event_type if d.problem else None),
        network_id=network_id,
    )


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


def _usable_network_id(key: str | None) -> str | None:
    """The key as a network id, if it could be one (rejections of keyless junk go under "unknown")."""
    return key if key is not None and _ID.fullmatch(key) else None


async def handle_batch(
    sessions: async_sessionmaker[AsyncSession],
    records: Sequence[Record],
    *,
    today: Callable[[], dt.date],
    planner: PlannerSettings,
    cache: NetworkCache | None = None,
    limits: InboundLimits = InboundLimits(),
    keyring: Keyring | None = None,
) -> BatchOutcome:
    """Apply `records` in order and replan each touched network once, all in one transaction.

    With a `keyring`, sealed personal fields are opened first; without one a sealed event does not validate.

    Raises (and rolls back everything) on database errors and on StaleNetwork; the caller then
    rewinds the consumer so the whole batch is read again; the inbox makes that harmless.
    """
    clock = BatchClock()
    decoded = [await _decode(r, limits, keyring) for r in records]
    clock.lap(Stage.DECODE)
    try:
        outcome, loaded = await _apply(
            sessions, decoded, today=today, planner=planner, cache=cache, limits=limits, clock=clock
        )
    except BaseException:
        if cache is not None:
            cache.forget()  # cached states may hold changes of the rolled-back transaction
        raise
    if cache is not None:
        for network in loaded:
            cache.put(network)
    # Counted once committed: a batch rolled back and read again must not count twice.
    metrics.BATCHES.inc()
    clock.observe()
    metrics.EVENTS_CONSUMED.labels(outcome="applied").inc(outcome.applied)
    metrics.EVENTS_CONSUMED.labels(outcome="rejected").inc(outcome.rejected)
    metrics.EVENTS_CONSUMED.labels(outcome="duplicate").inc(outcome.duplicates)
    for cause in outcome.causes:
        metrics.EVENTS_REJECTED.labels(cause=cause).inc()
    return outcome


async def _apply(
    sessions: async_sessionmaker[AsyncSession],
    decoded: list[_Decoded],
    *,
    today: Callable[[], dt.date],
    planner: PlannerSettings,
    cache: NetworkCache | None,
    limits: InboundLimits,
    clock: BatchClock,
) -> tuple[BatchOutcome, list[LoadedNetwork]]:
    outcome = BatchOutcome()
    day = today()
    async with sessions() as session, session.begin():
        # Applied events are remembered by network and event id (a producer's retry is a duplicate wherever it
        # lands; the same id in another network is another event); rejected ones by their position, so a
        # corrected event sent again under the same id still applies.
        ids = list({d.message_id for d in decoded} | {d.record.fallback_id for d in decoded})
        seen: set[tuple[str, str]] = set()
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            found = await session.exec(
                select(InboxRow.network_id, InboxRow.message_id).where(col(InboxRow.message_id).in_(chunk))
            )
            seen.update((network_id, message_id) for network_id, message_id in found.all())
        clock.lap(Stage.INBOX)

        def handled(d: _Decoded) -> bool:
            return d.applied_key in seen or d.rejected_key in seen

        # Lock the networks in a fixed order so two processes never wait on each other crosswise.
        touched = sorted(
            {
                d.event.subject
                for d in decoded
                if d.event is not None and not handled(d) and d.record.key_text == d.event.subject
            }
        )
        networks: dict[str, LoadedNetwork] = {}
        for network_id, row in (await lock_networks(session, touched)).items():
            networks[network_id] = await load_locked(session, row, cache=cache)
        changes: dict[str, list[Change]] = defaultdict(list)
        # What the batch applied, per network: the published plan names its inbound cause by these.
        causes: dict[str, list[InboundCause]] = defaultdict(list)
        inbox: list[dict[str, object]] = []
        handled_at = dt.datetime.now(dt.UTC)

        for d in decoded:
            if handled(d):
                outcome.duplicates += 1
                continue
            key = d.record.key_text
            rejected: EventRejected | None = None
            if d.problem is not None:
                rejected = _rejection(d, d.problem.reason, d.problem.errors, _usable_network_id(key))
                outcome.causes.append(d.cause)
            elif d.event is not None and key != d.event.subject:
                rejected = _rejection(
                    d,
                    f"the Kafka key {key!r} is not the event's subject {d.event.subject!r}; produce every "
                    "event with the network id as key, so one network's events stay in order",
                    [],
                    d.event.subject,
                )
                outcome.causes.append("key_mismatch")
            elif d.event is not None:
                state = networks[d.event.subject].state
                horizon = limits.horizon(day, state.config)
                outside = weeks_outside(d.event, horizon)
                refusal = authorise(
                    d.event,
                    state,
                    require_sender=limits.require_sender,
                    firm_topic=firm_inbound().member_of(d.record.topic),
                )
                if refusal is not None:
                    # Before anything else about the event: a sender who may not send it learns nothing more.
                    rejected = _rejection(d, refusal, [], d.event.subject)
                    outcome.causes.append("unauthorised")
                elif outside:
                    rejected = _rejection(
                        d,
                        f"{d.event.type} names weeks outside {horizon.first} to {horizon.last}, the weeks network "
                        f"{d.event.subject!r} accepts around today; check the year, or widen the horizon with "
                        "week_horizon_years_back / week_horizon_years_ahead in its NetworkConfigured",
                        outside,
                        d.event.subject,
                    )
                    outcome.causes.append("implausible_week")
                else:
                    try:
                        quiet = False
                        if isinstance(d.event, PlacementAnswered):
                            await _check_placement(session, networks[d.event.subject], d.event)
                            # An accepted placement is recorded (inbox, and the console shows it); the plan
                            # stays, unless the accept takes back a decline.
                            quiet = d.event.data.answer is Answer.ACCEPTED and not state.is_declined(
                                d.event.data.learner_id, d.event.data.firm_id, d.event.data.module_id
                            )
                        # A contact is not planned with: its erasure changes no plan.
                        quiet = quiet or isinstance(d.event, ContactErased)
                        change = state.apply(d.event)
                        if not quiet and change.effective:
                            changes[d.event.subject].append(change)
                        if isinstance(d.event, LearnerErased):
                            # In the batch's transaction: the learner leaves the plan exactly when the key goes.
                            await destroy_key(session, d.event.subject, f"learner:{d.event.data.learner_id}")
                            forget_shortfall_payloads()
                        if isinstance(d.event, ContactErased):
                            await retire_key(session, d.event.subject, d.event.holder)
                        if isinstance(d.event, FirmLeft):
                            # A departed firm's contact has no purpose left: erased with the departure, as a
                            # ContactErased would (a firm that joins again sends its contact under a new key).
                            await retire_key(session, d.event.subject, f"firm:{d.event.data.firm_id}")
                    except Rejection as exc:
                        rejected = _rejection(d, exc.reason, [], d.event.subject)
                        outcome.causes.append("inconsistent")
            if rejected is not None:
                enqueue(session, rejected, "rejected")
                outcome.rejected += 1
            else:
                outcome.applied += 1
                if d.event is not None:
                    causes[d.event.subject].append(InboundCause(event_id=d.event.id, type=d.event.type))
            inbox_key = d.rejected_key if rejected is not None or d.applied_key is None else d.applied_key
            seen.add(inbox_key)
            network_id, inbox_id = inbox_key
            inbox.append(
                {
                    "message_id": inbox_id,
                    "network_id": network_id,
                    "topic": d.record.topic,
                    "partition": d.record.partition,
                    "offset": d.record.offset,
                    "outcome": "rejected" if rejected else "applied",
                    "handled_at": handled_at,
                }
            )
        clock.lap(Stage.STATE)
        if inbox:
            # One statement for the batch: an ORM object per record cost more than planning it.
            await (await session.connection()).execute(insert(table_of(InboxRow)), inbox)
        clock.lap(Stage.INBOX)

        for network_id, loaded in networks.items():
            # One version bump per network and batch: the replan's, or else one here.
            read_version = loaded.read_version
            await save_network(session, loaded, bump=False)
            if changes.get(network_id):
                clock.lap(Stage.STATE)
                publication = await replan(
                    session,
                    loaded,
                    today=day,
                    mode="repair",
                    changes=changes[network_id],
                    settings=planner,
                    causes=causes[network_id],
                )
                clock.lap(Stage.PLAN)
                if publication is not None:
                    outcome.publications[network_id] = publication
            if loaded.read_version == read_version:
                bump_version(session, loaded)
        clock.lap(Stage.STATE)
    clock.lap(Stage.COMMIT)
    return outcome, list(networks.values())


async def _check_placement(session: AsyncSession, loaded: LoadedNetwork, event: PlacementAnswered) -> None:
    """Only a placement of the published plan can be answered, and only before it is frozen; a declined one
    (no longer in the plan) can still be accepted, which takes the decline back."""
    data = event.data
    if data.answer is Answer.ACCEPTED and loaded.state.is_declined(data.learner_id, data.firm_id, data.module_id):
        return
    published, _ = await read_published(session, loaded)
    placement = next(
        (
            a
            for a in published.values()
            if (a.learner_id, a.module_id, a.firm_id, a.start_week)
            == (data.learner_id, data.module_id, data.firm_id, data.start_week)
        ),
        None,
    )
    if placement is None:
        raise Rejection(
            f"learner {data.learner_id!r} has no placement for {data.module_id!r} at {data.firm_id!r} starting "
            f"{data.start_week} in the published plan; answer a placement as the latest plan names it"
        )
    if placement.frozen and data.answer is Answer.DECLINED:
        raise Rejection(
            f"the placement of learner {data.learner_id!r} at {data.firm_id!r} has started or starts within the "
            "network's notice period, so the plan keeps it; ask the network's coordinators"
        )


async def reject_unprocessable(
    sessions: async_sessionmaker[AsyncSession], record: Record, failure: str, *, max_event_bytes: int
) -> BatchOutcome:
    """Reject one record the matcher failed on by itself (not the database): once, so the consumer goes on.

    Nothing of the record is applied. It is remembered by its position, like every rejection, so the same event
    sent again (after the fault is fixed) still applies.
    """
    try:
        # Without the keyring: only the record's ids are needed here, and they are never sealed.
        d = await _decode(record, InboundLimits(max_event_bytes=max_event_bytes), None)
    except Exception:
        d = _Decoded(record, record.fallback_id)  # the failure may be in decoding itself
    outcome = BatchOutcome()
    async with sessions() as session, session.begin():
        keys = [k for k in (d.applied_key, d.rejected_key) if k is not None]
        found = await session.exec(
            select(InboxRow.network_id, InboxRow.message_id).where(
                col(InboxRow.message_id).in_([message_id for _, message_id in keys])
            )
        )
        if set(found.all()) & set(keys):
            outcome.duplicates += 1
            return outcome
        network_id = d.event.subject if d.event is not None else _usable_network_id(record.key_text)
        reason = (
            f"the matcher failed on this event ({failure}) and did not apply it; nothing is wrong with the event "
            "as far as the contract goes: report it with its id, and send it again once the matcher is fixed"
        )
        enqueue(session, _rejection(d, reason, [], network_id), "rejected")
        network, message_id = d.rejected_key
        await (await session.connection()).execute(
            insert(table_of(InboxRow)),
            [
                {
                    "message_id": message_id,
                    "network_id": network,
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "outcome": "rejected",
                    "handled_at": dt.datetime.now(dt.UTC),
                }
            ],
        )
    outcome.rejected += 1
    outcome.causes.append("unprocessable")
    metrics.EVENTS_CONSUMED.labels(outcome="rejected").inc()
    metrics.EVENTS_REJECTED.labels(cause="unprocessable").inc()
    metrics.INBOUND_UNPROCESSABLE.inc()
    return outcome
