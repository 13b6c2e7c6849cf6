"""What a firm user's pages read: one firm's offers, the learners placed there, its answers and its seat deficits."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from .tables import Assignment, Firm, Module, Offer, PlacementAnswer, Problem


@dataclass(frozen=True)
class Placement:
    """A live assignment at the firm with the firm's answer to it, if it gave one."""

    assignment: Assignment
    answer: PlacementAnswer | None


class FirmDesk:
    """Every read is bounded by network and firm: nothing of another firm leaves here."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def firm(self, network_id: str, firm_id: str) -> Firm | None:
        async with self._sessions() as session:
            return await session.get(Firm, (network_id, firm_id))

    async def offers(self, network_id: str, firm_id: str) -> list[Offer]:
        """The firm's offers, the standing ones first, each group by first week."""
        async with self._sessions() as session:
            rows = await session.scalars(
                sa.select(Offer)
                .where(col(Offer.network_id) == network_id, col(Offer.firm_id) == firm_id)
                .order_by(col(Offer.withdrawn), col(Offer.first_week), col(Offer.offer_id))
            )
            return list(rows)

    async def offer(self, network_id: str, firm_id: str, offer_id: str) -> Offer | None:
        """The offer if it is this firm's; another firm's offer is as unknown as one that does not exist."""
        async with self._sessions() as session:
            row = await session.get(Offer, (network_id, offer_id))
        return row if row is not None and row.firm_id == firm_id else None

    async def placements(self, network_id: str, firm_id: str) -> list[Placement]:
        """The live assignments at the firm by start week, with the firm's answers."""
        async with self._sessions() as session:
            assignments = list(
                await session.scalars(
                    sa.select(Assignment)
                    .where(
                        col(Assignment.network_id) == network_id,
                        col(Assignment.firm_id) == firm_id,
                        col(Assignment.cancelled).is_(False),
                    )
                    .order_by(col(Assignment.start_week), col(Assignment.learner_name))
                )
            )
            answers = {
                (a.learner_id, a.module_id, a.start_week): a
                for a in await session.scalars(
                    sa.select(PlacementAnswer).where(
                        col(PlacementAnswer.network_id) == network_id, col(PlacementAnswer.firm_id) == firm_id
                    )
                )
            }
        return [Placement(a, answers.get((a.learner_id, a.module_id, a.start_week))) for a in assignments]

    async def placement(
        self, network_id: str, firm_id: str, learner_id: str, module_id: str, start_week: str
    ) -> Assignment | None:
        """The live assignment at this firm the answer names, if there is one."""
        async with self._sessions() as session:
            return await session.scalar(
                sa.select(Assignment).where(
                    col(Assignment.network_id) == network_id,
                    col(Assignment.firm_id) == firm_id,
                    col(Assignment.learner_id) == learner_id,
                    col(Assignment.module_id) == module_id,
                    col(Assignment.start_week) == start_week,
                    col(Assignment.cancelled).is_(False),
                )
            )

    async def deficits(self, network_id: str, firm_id: str) -> list[Problem]:
        """The firm's open seat deficits: weeks of its offers below their minimum."""
        async with self._sessions() as session:
            rows = await session.scalars(
                sa.select(Problem)
                .where(
                    col(Problem.network_id) == network_id,
                    col(Problem.firm_id) == firm_id,
                    col(Problem.kind) == "deficit",
                    col(Problem.resolved_at).is_(None),
                )
                .order_by(col(Problem.detected_at).desc())
            )
            return list(rows)

    async def modules(self, network_id: str) -> list[tuple[str, str]]:
        """The network's modules (id, name) by name, to offer capacity for."""
        async with self._sessions() as session:
            rows = await session.execute(
                sa.select(col(Module.module_id), col(Module.name))
                .where(col(Module.network_id) == network_id)
                .order_by(col(Module.name))
            )
            return [(module_id, name) for module_id, name in rows]
