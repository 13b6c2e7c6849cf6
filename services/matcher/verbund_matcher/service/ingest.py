"""One inbound batch as one unit of work: inbox dedup, state changes, rejections, and one replan per network."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import INBOUND_TYPES, Envelope, EventRejected, InvalidEvent, decode_event

from ..domain.network import Change, Rejection
from ..ops import metrics
from ..store.networks import LoadedNetwork, NetworkCache, bump_version, load_locked, lock_networks, save_network
from ..store.tables import InboxRow, table_of
from .outbox import enqueue
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


@dataclass
class BatchOutcome:
    applied: int = 0
    rejected: int = 0
    duplicates: int = 0
    causes: list[str] = field(default_factory=list)
    publications: dict[str, Publication] = field(default_factory=dict)


@dataclass(frozen=True)
class _Decoded:
    record: Record
    message_id: str
    event: Envelope | None = None
    problem: InvalidEvent | None = None


def _decode(record: Record) -> _Decoded:
    try:
        event = decode_event(record.value or b"", INBOUND_TYPES)
    except InvalidEvent as exc:
        return _Decoded(record, record.fallback_id, problem=exc)
    return _Decoded(record, event.id, event=event)


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
) -> BatchOutcome:
    """Apply `records` in order and replan each touched network once, all in one transaction.

    Raises (and rolls back everything) on database errors and on StaleNetwork; the caller then
    rewinds the consumer so the whole batch is read again; the inbox makes that harmless.
    """
    decoded = [_decode(r) for r in records]
    try:
        outcome, loaded = await _apply(sessions, decoded, today=today, planner=planner, cache=cache)
    except BaseException:
        if cache is not None:
            cache.forget()  # cached states may hold changes of the rolled-back transaction
        raise
    if cache is not None:
        for network in loaded:
            cache.put(network)
    # Counted once committed: a batch rolled back and read again must not count twice.
    metrics.BATCHES.inc()
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
) -> tuple[BatchOutcome, list[LoadedNetwork]]:
    outcome = BatchOutcome()
    async with sessions() as session, session.begin():
        # Applied events are remembered by event id (a producer's retry is a duplicate wherever it lands);
        # rejected ones by their position, so a corrected event sent again under the same id still applies.
        ids = list({d.message_id for d in decoded} | {d.record.fallback_id for d in decoded})
        seen: set[str] = set()
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            seen.update(
                (await session.exec(select(InboxRow.message_id).where(col(InboxRow.message_id).in_(chunk)))).all()
            )
        # Lock the networks in a fixed order so two processes never wait on each other crosswise.
        touched = sorted(
            {
                d.event.subject
                for d in decoded
                if d.event is not None
                and d.message_id not in seen
                and d.record.fallback_id not in seen
                and d.record.key_text == d.event.subject
            }
        )
        networks: dict[str, LoadedNetwork] = {}
        for network_id, row in (await lock_networks(session, touched)).items():
            networks[network_id] = await load_locked(session, row, cache=cache)
        changes: dict[str, list[Change]] = defaultdict(list)
        inbox: list[dict[str, object]] = []
        handled_at = dt.datetime.now(dt.UTC)

        for d in decoded:
            if d.message_id in seen or d.record.fallback_id in seen:
                outcome.duplicates += 1
                continue
            key = d.record.key_text
            owner: str | None = d.event.subject if d.event is not None else _usable_network_id(key)
            rejected: EventRejected | None = None
            if d.problem is not None:
                rejected = _rejection(d, d.problem.reason, d.problem.errors, _usable_network_id(key))
                outcome.causes.append("invalid")
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
                try:
                    changes[d.event.subject].append(networks[d.event.subject].state.apply(d.event))
                except Rejection as exc:
                    rejected = _rejection(d, exc.reason, [], d.event.subject)
                    outcome.causes.append("inconsistent")
            if rejected is not None:
                enqueue(session, rejected, "rejected")
                outcome.rejected += 1
            else:
                outcome.applied += 1
            inbox_id = d.record.fallback_id if rejected else d.message_id
            seen.add(inbox_id)
            inbox.append(
                {
                    "message_id": inbox_id,
                    "network_id": owner,
                    "topic": d.record.topic,
                    "partition": d.record.partition,
                    "offset": d.record.offset,
                    "outcome": "rejected" if rejected else "applied",
                    "handled_at": handled_at,
                }
            )
        if inbox:
            # One statement for the batch: an ORM object per record cost more than planning it.
            await (await session.connection()).execute(insert(table_of(InboxRow)), inbox)

        day = today()
        for network_id, loaded in networks.items():
            # One version bump per network and batch: the replan's, or else one here.
            read_version = loaded.read_version
            await save_network(session, loaded, bump=False)
            if changes.get(network_id):
                publication = await replan(
                    session, loaded, today=day, mode="repair", changes=changes[network_id], settings=planner
                )
                if publication is not None:
                    outcome.publications[network_id] = publication
            if loaded.read_version == read_version:
                bump_version(session, loaded)
    return outcome, list(networks.values())
