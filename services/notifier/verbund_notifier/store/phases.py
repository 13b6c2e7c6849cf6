"""The phases and networks the notifier was told about: what reminders and digests read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from verbund_schemas import AssignmentData

from ..domain.phases import Phase
from .tables import AssignmentRecord, NetworkRecord


def as_phase(row: AssignmentRecord) -> Phase:
    return Phase(**{name: getattr(row, name) for name in AssignmentRecord.model_fields})


async def record_phase(session: AsyncSession, network: str, data: AssignmentData, *, cancelled: bool) -> Phase:
    """Keep the phase as now announced; every later version gets the next calendar SEQUENCE."""
    row = await session.get(AssignmentRecord, data.assignment_id)
    # An erased learner's assignments are published without a name (ADR 0004): their id stands for them.
    learner_name = data.learner_name or data.learner_id
    if row is None:
        row = AssignmentRecord(
            assignment_id=data.assignment_id,
            network_id=network,
            learner_id=data.learner_id,
            learner_name=learner_name,
            module_id=data.module_id,
            module_name=data.module_name,
            firm_id=data.firm_id,
            firm_name=data.firm_name,
            start_week=data.start_week,
            end_week=data.end_week,
            start_date=data.start_date,
            end_date=data.end_date,
            sequence=0,
            cancelled=cancelled,
            plan_version=data.plan_version,
        )
        session.add(row)
    else:
        # Every later version of the calendar entry needs a higher SEQUENCE to replace the earlier one.
        row.sequence += 1
        for field in ("module_name", "firm_id", "firm_name", "start_week", "end_week"):
            setattr(row, field, getattr(data, field))
        row.learner_name = learner_name
        row.start_date, row.end_date = data.start_date, data.end_date
        row.cancelled = cancelled
        row.plan_version = data.plan_version
    await session.flush()
    return as_phase(row)


async def phase(session: AsyncSession, assignment_id: str) -> Phase | None:
    row = await session.get(AssignmentRecord, assignment_id)
    return None if row is None else as_phase(row)


async def active_phases(session: AsyncSession) -> list[Phase]:
    """Every phase not cancelled, of every network (reminders to re-create at start)."""
    rows = await session.execute(select(AssignmentRecord).where(col(AssignmentRecord.cancelled).is_(False)))
    return [as_phase(row) for row in rows.scalars().all()]


async def phases_overlapping(session: AsyncSession, network: str, first: dt.date, until: dt.date) -> list[Phase]:
    """A network's phases not cancelled that overlap the days from `first` up to (not including) `until`."""
    rows = await session.execute(
        select(AssignmentRecord).where(
            col(AssignmentRecord.network_id) == network,
            col(AssignmentRecord.cancelled).is_(False),
            col(AssignmentRecord.end_date) >= first,
            col(AssignmentRecord.start_date) < until,
        )
    )
    return [as_phase(row) for row in rows.scalars().all()]


async def ensure_network(session: AsyncSession, network: str) -> None:
    """Remember a network heard of (its name is its id until it is configured)."""
    if await session.get(NetworkRecord, network) is None:
        session.add(NetworkRecord(network_id=network, name=network))


async def network_name(session: AsyncSession, network: str) -> str:
    record = await session.get(NetworkRecord, network)
    return record.name if record else network


async def networks(session: AsyncSession) -> list[str]:
    return list((await session.execute(select(col(NetworkRecord.network_id)))).scalars().all())
