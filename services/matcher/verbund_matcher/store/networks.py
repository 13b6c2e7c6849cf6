"""Loads a network's state from its rows and writes back what a batch changed, under a per-network lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import CapacityOfferedData, CurriculumPublishedData, FirmData, LearnerData, NetworkConfiguredData

from ..domain.network import NetworkState
from .tables import CurriculumRow, FirmRow, LearnerRow, NetworkRow, OfferRow, WithdrawnRow


class StaleNetwork(Exception):
    """Another process changed the network since it was read; the batch is retried from its first record."""


@dataclass
class LoadedNetwork:
    """A network's state as read, plus what is needed to write back only the differences."""

    row: NetworkRow
    state: NetworkState
    read_version: int
    snapshot: dict[str, dict[str, Any]] = field(default_factory=dict)
    withdrawn_snapshot: set[tuple[str, str]] = field(default_factory=set)


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


async def load_network(session: AsyncSession, network_id: str, *, create: bool = True) -> LoadedNetwork | None:
    row = await lock_network(session, network_id, create=create)
    if row is None:
        return None
    state = NetworkState(network_id)
    if row.config is not None:
        state.config = NetworkConfiguredData.model_validate(row.config)
    snapshot: dict[str, dict[str, Any]] = {}
    for attr, (table, key) in _ENTITY_TABLES.items():
        rows = (await session.exec(select(table).where(table.network_id == network_id))).all()
        payload_type = _PAYLOAD_TYPES[attr]
        target: dict[str, Any] = getattr(state, attr)
        snapshot[attr] = {}
        for r in rows:
            target[getattr(r, key)] = payload_type.model_validate(r.payload)
            snapshot[attr][getattr(r, key)] = r.payload
    withdrawn = (await session.exec(select(WithdrawnRow).where(WithdrawnRow.network_id == network_id))).all()
    for w in withdrawn:
        getattr(state, _WITHDRAWN_KINDS[w.kind]).add(w.entity_id)
    return LoadedNetwork(
        row=row,
        state=state,
        read_version=row.version,
        snapshot=snapshot,
        withdrawn_snapshot={(w.kind, w.entity_id) for w in withdrawn},
    )


async def save_network(session: AsyncSession, loaded: LoadedNetwork) -> None:
    """Write back the differences and bump the version; raises StaleNetwork if someone else wrote first."""
    state, network_id = loaded.state, loaded.state.network_id
    for attr, (table, key) in _ENTITY_TABLES.items():
        before = loaded.snapshot.get(attr, {})
        now = {k: _dump(v) for k, v in getattr(state, attr).items()}
        gone = [k for k in before if k not in now]
        if gone:
            await session.exec(
                delete(table).where(col(table.network_id) == network_id, col(getattr(table, key)).in_(gone))
            )
        for k, payload in now.items():
            if before.get(k) == payload:
                continue
            await session.merge(table(network_id=network_id, **{key: k}, payload=payload))
        loaded.snapshot[attr] = now
    withdrawn_now = {(kind, e) for kind, attr in _WITHDRAWN_KINDS.items() for e in getattr(state, attr)}
    for kind, entity in withdrawn_now - loaded.withdrawn_snapshot:
        session.add(WithdrawnRow(network_id=network_id, kind=kind, entity_id=entity))
    for kind, entity in loaded.withdrawn_snapshot - withdrawn_now:
        await session.exec(
            delete(WithdrawnRow).where(
                col(WithdrawnRow.network_id) == network_id,
                col(WithdrawnRow.kind) == kind,
                col(WithdrawnRow.entity_id) == entity,
            )
        )
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
