"""Loads a network's state from its rows and writes back what a batch changed, under a per-network lock."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Update, bindparam, delete, event, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import CapacityOfferedData, CurriculumPublishedData, FirmData, LearnerData, NetworkConfiguredData

from ..domain.network import NetworkState
from ..domain.problem_builder import ProblemMemo
from .bulk import insert_at_commit, require_listener
from .tables import (
    CurriculumRow,
    DeclineRow,
    FirmRow,
    LearnerRow,
    NetworkRow,
    OfferRow,
    PublishedAssignmentRow,
    PublishedShortfallRow,
    WithdrawnRow,
    table_of,
)


class StaleNetwork(Exception):
    """Another process changed the network since it was read; the batch is retried from its first record."""


@dataclass(frozen=True, slots=True)
class PublishedAssignment:
    """One row of the network's published plan (published_assignments), as plain data."""

    network_id: str
    assignment_id: str
    learner_id: str
    learner_name: str
    module_id: str
    module_name: str
    firm_id: str
    firm_name: str
    start_week: str
    end_week: str
    frozen: bool
    plan_version: int


@dataclass
class LoadedNetwork:
    """A network's state as read, plus what is needed to write back only the differences.

    `snapshot` holds, per entity kind, the payload objects as last stored: payloads are immutable, so an
    entity changed exactly when its object is no longer the same one.
    """

    row: NetworkRow
    state: NetworkState
    read_version: int
    snapshot: dict[str, dict[str, Any]] = field(default_factory=dict)
    withdrawn_snapshot: set[tuple[str, str]] = field(default_factory=set)
    declines_snapshot: set[tuple[str, str, str]] = field(default_factory=set)  # learner, firm, module
    # The published plan (assignments by id, shortfall payloads by id) once read; kept up to date by the
    # replan that writes it, so a cached network need not read its whole plan back for every batch.
    published: dict[str, PublishedAssignment] | None = None
    shortfalls: dict[str, dict[str, Any]] | None = None
    deficits: dict[str, dict[str, Any]] | None = None  # seat deficit payloads by id, likewise
    published_version: int = 0  # grows whenever `published` changes (build_problem re-uses its conversion)
    problem_memo: ProblemMemo = field(default_factory=ProblemMemo)
    config_seen: NetworkConfiguredData | None = None  # the config as last written
    pending: dict[str, Any] = field(default_factory=dict)  # row values for the next bump_version


class NetworkCache:
    """Networks as this process last committed them, reused while the stored version is unchanged.

    Saves reading and validating every entity of a network for every batch. Entries are trusted only
    when the row's version (read under the lock) equals the cached one; a failed transaction drops them.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._entries: dict[str, LoadedNetwork] = {}
        self._capacity = capacity

    def get(self, network_id: str, version: int) -> LoadedNetwork | None:
        entry = self._entries.get(network_id)
        if entry is None or entry.read_version != version:
            return None
        return entry

    def put(self, loaded: LoadedNetwork) -> None:
        if loaded.state.network_id not in self._entries and len(self._entries) >= self._capacity:
            self._entries.pop(next(iter(self._entries)))
        self._entries[loaded.state.network_id] = loaded

    def forget(self, network_ids: Iterable[str] | None = None) -> None:
        if network_ids is None:
            self._entries.clear()
        for network_id in network_ids or ():
            self._entries.pop(network_id, None)


_ENTITY_TABLES: dict[str, tuple[type[Any], str]] = {
    "curricula": (CurriculumRow, "curriculum_id"),
    "firms": (FirmRow, "firm_id"),
    "offers": (OfferRow, "offer_id"),
    "learners": (LearnerRow, "learner_id"),
}
_WITHDRAWN_KINDS = {"firm": "departed_firms", "offer": "withdrawn_offers", "learner": "withdrawn_learners"}
_PAYLOAD_TYPES: dict[str, type[BaseModel]] = {
    "curricula": CurriculumPublishedData,
    "firms": FirmData,
    "offers": CapacityOfferedData,
    "learners": LearnerData,
}


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


async def lock_networks(
    session: AsyncSession, network_ids: Collection[str], *, create: bool = True
) -> dict[str, NetworkRow]:
    """The networks' rows, locked for this transaction in id order (FOR UPDATE on PostgreSQL; SQLite locks on
    write); with `create`, rows for networks not seen before are made."""
    ordered = sorted(network_ids)
    rows: dict[str, NetworkRow] = {}
    for start in range(0, len(ordered), 500):
        stmt = (
            select(NetworkRow)
            .where(col(NetworkRow.network_id).in_(ordered[start : start + 500]))
            .order_by(col(NetworkRow.network_id))
            .with_for_update()
        )
        rows.update((r.network_id, r) for r in (await session.exec(stmt)).all())
    missing = [NetworkRow(network_id=n) for n in ordered if n not in rows] if create else []
    if missing:
        session.add_all(missing)
        await session.flush()
        rows.update((r.network_id, r) for r in missing)
    return rows


async def load_network(
    session: AsyncSession, network_id: str, *, create: bool = True, cache: NetworkCache | None = None
) -> LoadedNetwork | None:
    row = (await lock_networks(session, [network_id], create=create)).get(network_id)
    if row is None:
        return None
    return await load_locked(session, row, cache=cache)


async def load_locked(session: AsyncSession, row: NetworkRow, *, cache: NetworkCache | None = None) -> LoadedNetwork:
    """The state of a network whose row this transaction has locked: from the cache if still current."""
    network_id = row.network_id
    cached = cache.get(network_id, row.version) if cache is not None else None
    if cached is not None:
        cached.row = row
        return cached
    conn = await session.connection()
    state = NetworkState(network_id)
    if row.config is not None:
        state.config = NetworkConfiguredData.model_validate(row.config)
    snapshot: dict[str, dict[str, Any]] = {}
    for attr, (table, key) in _ENTITY_TABLES.items():
        t = table_of(table)
        rows = (await conn.execute(sa_select(t.c[key], t.c.payload).where(t.c.network_id == network_id))).all()
        payload_type = _PAYLOAD_TYPES[attr]
        target: dict[str, Any] = getattr(state, attr)
        for entity_id, payload in rows:
            target[entity_id] = payload_type.model_validate(payload)
        snapshot[attr] = dict(target)
    w = table_of(WithdrawnRow)
    withdrawn = (await conn.execute(sa_select(w.c.kind, w.c.entity_id).where(w.c.network_id == network_id))).all()
    for kind, entity_id in withdrawn:
        getattr(state, _WITHDRAWN_KINDS[kind]).add(entity_id)
    d = table_of(DeclineRow)
    declined = (
        await conn.execute(sa_select(d.c.learner_id, d.c.firm_id, d.c.module_id).where(d.c.network_id == network_id))
    ).all()
    per_learner: dict[str, set[tuple[str, str]]] = {}
    for learner_id, firm_id, module_id in declined:
        per_learner.setdefault(learner_id, set()).add((firm_id, module_id))
    state.declines = {learner_id: frozenset(placements) for learner_id, placements in per_learner.items()}
    return LoadedNetwork(
        row=row,
        state=state,
        read_version=row.version,
        snapshot=snapshot,
        withdrawn_snapshot={(kind, entity_id) for kind, entity_id in withdrawn},
        declines_snapshot={(learner_id, firm_id, module_id) for learner_id, firm_id, module_id in declined},
        config_seen=state.config,
    )


async def read_published(
    session: AsyncSession, loaded: LoadedNetwork
) -> tuple[dict[str, PublishedAssignment], dict[str, dict[str, Any]]]:
    """The network's published assignments and shortfall payloads, read once per loaded network."""
    if loaded.published is None or loaded.shortfalls is None:
        network_id = loaded.state.network_id
        conn = await session.connection()
        a = table_of(PublishedAssignmentRow)
        loaded.published = {
            r.assignment_id: PublishedAssignment(**r._mapping)
            for r in (await conn.execute(sa_select(a).where(a.c.network_id == network_id))).all()
        }
        sf = table_of(PublishedShortfallRow)
        loaded.shortfalls = {
            r.shortfall_id: r.payload
            for r in (await conn.execute(sa_select(sf).where(sf.c.network_id == network_id))).all()
        }
    return loaded.published, loaded.shortfalls


async def save_network(session: AsyncSession, loaded: LoadedNetwork, *, bump: bool = True) -> None:
    """Write back the differences and bump the version; raises StaleNetwork if someone else wrote first.

    New rows are inserted when the transaction commits (with every other network's of the batch). With
    `bump=False` the version is left for the caller's next bump_version, which also writes a changed config.
    """
    state, network_id = loaded.state, loaded.state.network_id
    conn = await session.connection()
    for attr, (table, key) in _ENTITY_TABLES.items():
        t = table_of(table)
        before = loaded.snapshot.get(attr, {})
        now: dict[str, Any] = dict(getattr(state, attr))
        touched = [k for k in before if k not in now or now[k] is not before[k]]
        added = [k for k in now if before.get(k) is not now[k]]
        if touched:
            await conn.execute(delete(t).where(t.c.network_id == network_id, t.c[key].in_(touched)))
        if added:
            insert_at_commit(session, t, [{"network_id": network_id, key: k, "payload": _dump(now[k])} for k in added])
        loaded.snapshot[attr] = now
    withdrawn_now = {(kind, e) for kind, attr in _WITHDRAWN_KINDS.items() for e in getattr(state, attr)}
    w = table_of(WithdrawnRow)
    new = withdrawn_now - loaded.withdrawn_snapshot
    if new:
        insert_at_commit(session, w, [{"network_id": network_id, "kind": k, "entity_id": e} for k, e in new])
    for kind, entity in loaded.withdrawn_snapshot - withdrawn_now:
        await conn.execute(delete(w).where(w.c.network_id == network_id, w.c.kind == kind, w.c.entity_id == entity))
    loaded.withdrawn_snapshot = withdrawn_now
    declines_now = {(learner, f, m) for learner, placements in state.declines.items() for f, m in placements}
    d = table_of(DeclineRow)
    made = declines_now - loaded.declines_snapshot
    if made:
        insert_at_commit(
            session, d, [{"network_id": network_id, "learner_id": s, "firm_id": f, "module_id": m} for s, f, m in made]
        )
    for learner_id, firm_id, module_id in loaded.declines_snapshot - declines_now:
        await conn.execute(
            delete(d).where(
                d.c.network_id == network_id,
                d.c.learner_id == learner_id,
                d.c.firm_id == firm_id,
                d.c.module_id == module_id,
            )
        )
    loaded.declines_snapshot = declines_now
    if state.config is not loaded.config_seen:
        loaded.pending["config"] = _dump(state.config) if state.config else None
        loaded.config_seen = state.config
    if bump:
        bump_version(session, loaded)


@dataclass(slots=True)
class _Bump:
    expected: int  # the version read at the start of the transaction
    version: int  # the version to write
    values: dict[str, Any]


def bump_version(session: AsyncSession | Session, loaded: LoadedNetwork, **values: Any) -> None:
    """Give the network the next version (and `values`), checked optimistically when the transaction commits.

    The row must still carry the version read at the start of the transaction, else the commit raises
    StaleNetwork. Also writes what save_network left pending (a changed config). The UPDATEs of every
    network of a batch go out together just before the commit (see `_write_bumps`); several bumps of one
    network in a transaction become one.
    """
    values = {**loaded.pending, **values}
    if _BUMPS not in session.info:  # once per transaction
        require_listener(session, _write_bumps, "version bumps")
    bumps: dict[str, _Bump] = session.info.setdefault(_BUMPS, {})
    network_id = loaded.row.network_id
    staged = bumps.get(network_id)
    if staged is None:
        bumps[network_id] = _Bump(loaded.read_version, loaded.read_version + 1, dict(values))
    else:
        staged.version = loaded.read_version + 1
        staged.values.update(values)
    loaded.read_version += 1
    loaded.pending.clear()
    # The row object shows the new values without being marked dirty (the UPDATE at commit writes them).
    set_committed_value(loaded.row, "version", loaded.read_version)
    for k, v in values.items():
        set_committed_value(loaded.row, k, v)


_BUMPS = "verbund.pending_bumps"


def write_bumps_before_commit(factory: sessionmaker[Any]) -> None:
    """Sessions of `factory` (and only those) write the version bumps of bump_version just before they commit."""
    event.listen(factory, "before_commit", _write_bumps)
    event.listen(factory, "after_rollback", _drop_bumps)


def _write_bumps(session: Session) -> None:
    """One UPDATE statement per set of changed columns for all networks the transaction bumped.

    Where the driver counts the rows of an executemany (SQLite, psycopg) the parameter sets go out in one
    call; asyncpg does not count them, so there each network's UPDATE runs on its own.
    """
    bumps: dict[str, _Bump] | None = session.info.pop(_BUMPS, None)
    if not bumps:
        return
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for network_id, bump in bumps.items():
        groups.setdefault(frozenset(bump.values), []).append(
            {
                "b_network_id": network_id,
                "b_expected": bump.expected,
                "b_version": bump.version,
                **{f"v_{k}": v for k, v in bump.values.items()},
            }
        )
    conn = session.connection()
    together = conn.dialect.supports_sane_multi_rowcount
    for columns, params in groups.items():
        statement = _bump_statement(columns)
        for chunk in [params] if together or len(params) == 1 else [[p] for p in params]:
            result = conn.execute(statement, chunk)
            if result.rowcount != len(chunk):
                stale = chunk[0]["b_network_id"] if len(chunk) == 1 else f"one of {len(chunk)} networks"
                raise StaleNetwork(f"network {stale!r} changed in another process since it was read; retrying")


def _drop_bumps(session: Session) -> None:
    session.info.pop(_BUMPS, None)


@functools.cache
def _bump_statement(columns: frozenset[str]) -> Update:
    """UPDATE networks SET version = :new, <columns> WHERE id and version match; built once per column set
    (building the statement cost more than running it, once per network and batch)."""
    t = table_of(NetworkRow)
    return (
        update(t)
        .where(t.c.network_id == bindparam("b_network_id"), t.c.version == bindparam("b_expected"))
        .values(
            version=bindparam("b_version", type_=t.c.version.type),
            **{c: bindparam(f"v_{c}", type_=t.c[c].type) for c in sorted(columns)},
        )
    )
