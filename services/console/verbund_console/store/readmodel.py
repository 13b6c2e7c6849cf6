"""The read model's writes (one event per transaction, deduplicated) and the reads behind each page."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from verbund_schemas import Envelope

from ..domain.folding import Ensure, Fold, Patch, Upsert
from .tables import (
    READ_MODEL_TABLES,
    AppliedEvent,
    Assignment,
    Change,
    ConsoleTable,
    Firm,
    Learner,
    Network,
    Offer,
    Problem,
    Rejected,
)

TABLES: dict[str, type[ConsoleTable]] = {
    "networks": Network,
    "learners": Learner,
    "firms": Firm,
    "offers": Offer,
    "assignments": Assignment,
    "problems": Problem,
    "rejected": Rejected,
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ReadModel:
    """Folds events into the tables and answers the pages' queries."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # A network's change numbers are handed out read-modify-write; the consumers of one process take turns.
        self._write = asyncio.Lock()

    async def apply(self, event: Envelope, fold: Fold) -> int | None:
        """Fold one event in; its change number, or None when it was applied before (a redelivery)."""
        network_id = event.network_id
        async with self._write, self._sessions() as session, session.begin():
            if await session.get(AppliedEvent, (network_id, event.id)) is not None:
                return None
            session.add(AppliedEvent(network_id=network_id, event_id=event.id))
            for effect in fold.effects:
                await _carry_out(session, effect)
            # Flushed so that an Upsert of the network itself above is what is read here.
            await session.flush()
            network = await session.get(Network, network_id)
            if network is None:
                network = Network(network_id=network_id)
                session.add(network)
            network.last_seq += 1
            session.add(
                Change(
                    network_id=network_id,
                    seq=network.last_seq,
                    event_type=event.type,
                    subject=fold.subject[:200],
                    at=_now(),
                )
            )
            return network.last_seq

    async def clear(self) -> None:
        """Delete the whole read model (not the accounts), for a rebuild from the topics."""
        async with self._write, self._sessions() as session, session.begin():
            for name in READ_MODEL_TABLES:
                await session.execute(sa.text(f"DELETE FROM {name}"))  # names are our own constants

    async def network(self, network_id: str) -> Network | None:
        async with self._sessions() as session:
            return await session.get(Network, network_id)

    async def networks(self, ids: list[str]) -> list[Network]:
        async with self._sessions() as session:
            rows = await session.scalars(sa.select(Network).where(col(Network.network_id).in_(ids)))
            found = {n.network_id: n for n in rows}
        return [found.get(i) or Network(network_id=i) for i in sorted(ids)]

    async def overview_rows(self, network_id: str) -> OverviewRows:
        since = _now() - dt.timedelta(hours=24)
        async with self._sessions() as session:
            learners = await _all(session, Learner, network_id)
            offers = await _all(session, Offer, network_id)
            assignments = await _all(session, Assignment, network_id)
            problems = await _all(session, Problem, network_id)
            rejected = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Rejected)
                .where(col(Rejected.network_id) == network_id, col(Rejected.at) >= since)
            )
        return OverviewRows(learners, offers, assignments, problems, int(rejected or 0))

    async def problems(self, network_id: str, limit: int = 500) -> list[Problem]:
        async with self._sessions() as session:
            rows = await session.scalars(
                sa.select(Problem)
                .where(col(Problem.network_id) == network_id)
                .order_by(col(Problem.detected_at).desc())
                .limit(limit)
            )
            return list(rows)

    async def learner_page(
        self, network_id: str, page: int, per_page: int
    ) -> tuple[list[tuple[str, str]], int, list[Assignment], tuple[str, str] | None]:
        """The learners of one page (by name), how many there are, their assignments, the network's week span."""
        async with self._sessions() as session:
            active = (col(Learner.network_id) == network_id, col(Learner.withdrawn).is_(False))
            total = int(await session.scalar(sa.select(sa.func.count()).select_from(Learner).where(*active)) or 0)
            learners = [
                (row.learner_id, row.name)
                for row in await session.scalars(
                    sa.select(Learner)
                    .where(*active)
                    .order_by(col(Learner.name), col(Learner.learner_id))
                    .offset(page * per_page)
                    .limit(per_page)
                )
            ]
            live = (col(Assignment.network_id) == network_id, col(Assignment.cancelled).is_(False))
            assignments = list(
                await session.scalars(
                    sa.select(Assignment).where(*live, col(Assignment.learner_id).in_([i for i, _ in learners]))
                )
            )
            # ISO week texts (YYYY-Www) sort like the weeks themselves.
            first, last = (
                await session.execute(
                    sa.select(sa.func.min(Assignment.start_week), sa.func.max(Assignment.end_week)).where(*live)
                )
            ).one()
        return learners, total, assignments, (first, last) if first and last else None

    async def changes_since(self, network_id: str, seq: int) -> list[Change]:
        async with self._sessions() as session:
            rows = await session.scalars(
                sa.select(Change)
                .where(col(Change.network_id) == network_id, col(Change.seq) > seq)
                .order_by(col(Change.seq))
                .limit(1000)
            )
            return list(rows)


@dataclass(frozen=True)
class OverviewRows:
    learners: list[Learner]
    offers: list[Offer]
    assignments: list[Assignment]
    problems: list[Problem]
    rejected_24h: int


async def _all(session: AsyncSession, table: Any, network_id: str) -> list[Any]:
    return list(await session.scalars(sa.select(table).where(table.network_id == network_id)))


async def _carry_out(session: AsyncSession, effect: Upsert | Patch | Ensure) -> None:
    table = TABLES[effect.table]
    key = tuple(effect.key.values())
    row = await session.get(table, key)
    if row is None:
        if isinstance(effect, Patch):
            return
        session.add(table(**effect.key, **effect.values))
        await session.flush()
        return
    if isinstance(effect, Ensure):
        return
    stored = getattr(row, "plan_version", None)
    if effect.version is not None and stored is not None and stored > effect.version:
        return
    for name, value in effect.values.items():
        setattr(row, name, value)
