"""Loads a network's state from its rows and writes back what a batch changed, under a per-network lock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import CapacityOfferedData, CurriculumPublishedData, FirmData, LearnerData, NetworkConfiguredData

from ..domain.network import NetworkState
from .tables import CurriculumRow, FirmRow, LearnerRow, NetworkRow, OfferRow, WithdrawnRow, table_of


class StaleNetwork(Exception):
    """Another process changed the network since it was read; the batch is retried from its first record."""


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


class NetworkCache:
    """Networks as this process last committed them, reused while the stored version is unchanged.

    Saves reading and validating every entity of a network for every batch. Entries are trusted only
    when the row's version (read under the lock) equals the cached one; a failed transaction drops them.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._entries: dict[str, tuple[int, NetworkState, dict[str, dict[str, Any]], set[tuple[str, str]]]] = {}
        self._capacity = capacity

    def get(self, network_id: str, version: int) -> LoadedNetwork | None:
        entry = self._entries.get(network_id)
        if entry is None or entry[0] != version:
            return None
        _, state, snapshot, withdrawn = entry
        return LoadedNetwork(NetworkRow(network_id=network_id), state, version, snapshot, withdrawn)

    def put(self, loaded: LoadedNetwork) -> None:
        if len(self._entries) >= self._capacity:
            self._entries.pop(next(iter(self._entries)))
        self._entries[loaded.state.network_id] = (
            loaded.read_version,
            loaded.state,
            loaded.snapshot,
            loaded.withdrawn_snapshot,
        )

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


async def lock_network(session: AsyncSession, network_id: str, *, create: bool = True) -> NetworkRow | None:
    """The network's row, locked for this transaction (FOR UPDATE on PostgreSQL; SQLite locks on write)."""
    stmt = select(NetworkRow).where(NetworkRow.network_id == network_id).with_for_update()
    row = (await session.exec(stmt)).first()
    if row is None and create:
        row = NetworkRow(network_id=network_id)
        session.add(row)
        await session.flush()
    return row


async def load_network(
    session: AsyncSession, network_id: str, *, create: bool = True, cache: NetworkCache | None = None
) -> LoadedNetwork | None:
    row = await lock_network(session, network_id, create=create)
    if row is None:
        return None
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
    return LoadedNetwork(
        row=row,
        state=state,
        read_version=row.version,
        snapshot=snapshot,
        withdrawn_snapshot={(kind, entity_id) for kind, entity_id in withdrawn},
    )


async def save_network(session: AsyncSession, loaded: LoadedNetwork) -> None:
    """Write back the differences and bump the version; raises StaleNetwork if someone else wrote first."""
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
            await conn.execute(insert(t), [{"network_id": network_id, key: k, "payload": _dump(now[k])} for k in added])
        loaded.snapshot[attr] = now
    withdrawn_now = {(kind, e) for kind, attr in _WITHDRAWN_KINDS.items() for e in getattr(state, attr)}
    w = table_of(WithdrawnRow)
    new = withdrawn_now - loaded.withdrawn_snapshot
    if new:
        await conn.execute(insert(w), [{"network_id": network_id, "kind": k, "entity_id": e} for k, e in new])
    for kind, entity in loaded.withdrawn_snapshot - withdrawn_now:
        await conn.execute(delete(w).where(w.c.network_id == network_id, w.c.kind == kind, w.c.entity_id == entity))
    loaded.withdrawn_snapshot = withdrawn_now
    await bump_version(session, loaded, config=_dump(state.config) if state.config else None)


async def bump_version(session: AsyncSession, loaded: LoadedNetwork, **values: Any) -> None:
    """Optimistic check: the row must still carry the version read at the start of this transaction."""
    result = await session.exec(
        update(NetworkRow)
        .where(col(NetworkRow.network_id) == loaded.row.network_id, col(NetworkRow.version) == loaded.read_version)
        .values(version=loaded.read_version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleNetwork(f"network {loaded.row.network_id!r} changed in another process since it was read; retrying")
    loaded.read_version += 1
    # Reflect the new values without marking the row dirty (the UPDATE above already wrote them).
    set_committed_value(loaded.row, "version", loaded.read_version)
    for k, v in values.items():
        set_committed_value(loaded.row, k, v)
