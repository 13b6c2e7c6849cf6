"""Everything the matcher holds about one learner, read for their access request (GDPR Art. 15)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .tables import DataKeyRow, LearnerRow, PublishedAssignmentRow, PublishedShortfallRow, WithdrawnRow


async def learner_record(
    sessions: async_sessionmaker[AsyncSession], network_id: str, learner_id: str
) -> dict[str, Any]:
    """The registration as applied, the current plan and open shortfalls, and whether they left or were erased."""
    async with sessions() as session:
        row = await session.get(LearnerRow, (network_id, learner_id))
        withdrawn = await session.get(WithdrawnRow, (network_id, "learner", learner_id))
        key = (
            await session.exec(
                select(DataKeyRow).where(
                    col(DataKeyRow.network_id) == network_id, col(DataKeyRow.holder) == f"learner:{learner_id}"
                )
            )
        ).first()
        assignments = (
            await session.exec(
                select(PublishedAssignmentRow)
                .where(
                    col(PublishedAssignmentRow.network_id) == network_id,
                    col(PublishedAssignmentRow.learner_id) == learner_id,
                )
                .order_by(col(PublishedAssignmentRow.start_week))
            )
        ).all()
        shortfalls = (
            await session.exec(select(PublishedShortfallRow).where(col(PublishedShortfallRow.network_id) == network_id))
        ).all()
    return {
        "registration": row.payload if row is not None else None,
        "withdrawn": withdrawn is not None,
        "erased": key is not None and key.wrapped is None,
        "assignments": [a.model_dump(exclude={"network_id"}) for a in assignments],
        "shortfalls": [s.payload for s in shortfalls if s.payload.get("learner_id") == learner_id],
    }
