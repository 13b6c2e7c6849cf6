"""Open shortfalls and seat deficits: what the coordinators were told and is not resolved yet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from verbund_schemas import SeatDeficitData, ShortfallData

from ..domain.shortfalls import AnnouncedDeficit, AnnouncedShortfall
from .tables import OpenDeficit, OpenShortfall


def as_shortfall(row: OpenShortfall) -> AnnouncedShortfall:
    return AnnouncedShortfall(**{name: getattr(row, name) for name in OpenShortfall.model_fields})


def as_deficit(row: OpenDeficit) -> AnnouncedDeficit:
    return AnnouncedDeficit(**{name: getattr(row, name) for name in OpenDeficit.model_fields})


async def open_shortfall(session: AsyncSession, shortfall_id: str) -> AnnouncedShortfall | None:
    row = await session.get(OpenShortfall, shortfall_id)
    return None if row is None else as_shortfall(row)


async def keep_shortfall(session: AsyncSession, network: str, data: ShortfallData) -> None:
    """Open the shortfall, or update it as announced again."""
    fields: dict[str, Any] = {
        "network_id": network,
        "learner_id": data.learner_id,
        "learner_name": data.learner_name,
        "group_id": data.group_id,
        "module_id": data.module_id,
        "reason": data.reason.value,
        "message": data.message,
        "missing": data.missing,
    }
    # merge: insert, or copy onto the row with this key.
    await session.merge(OpenShortfall(shortfall_id=data.shortfall_id, **fields))


async def close_shortfall(session: AsyncSession, shortfall_id: str) -> None:
    row = await session.get(OpenShortfall, shortfall_id)
    if row is not None:
        await session.delete(row)


async def open_shortfalls(session: AsyncSession, network: str) -> list[AnnouncedShortfall]:
    """A network's open shortfalls by learner name."""
    rows = await session.execute(
        select(OpenShortfall).where(col(OpenShortfall.network_id) == network).order_by(col(OpenShortfall.learner_name))
    )
    return [as_shortfall(row) for row in rows.scalars().all()]


async def open_deficit(session: AsyncSession, deficit_id: str) -> AnnouncedDeficit | None:
    row = await session.get(OpenDeficit, deficit_id)
    return None if row is None else as_deficit(row)


async def keep_deficit(session: AsyncSession, network: str, data: SeatDeficitData) -> None:
    """Open the deficit, or replace its weeks with those announced now."""
    fields: dict[str, Any] = {
        "network_id": network,
        "firm_id": data.firm_id,
        "firm_name": data.firm_name,
        "module_id": data.module_id,
        "module_name": data.module_name,
        "spans": [s.model_dump(mode="json") for s in data.spans],
        "spans_omitted": data.spans_omitted,
        "missing_learner_weeks": data.missing_learner_weeks,
        "plan_version": data.plan_version,
    }
    await session.merge(OpenDeficit(deficit_id=data.deficit_id, **fields))


async def close_deficit(session: AsyncSession, deficit_id: str) -> None:
    row = await session.get(OpenDeficit, deficit_id)
    if row is not None:
        await session.delete(row)


async def open_deficits(session: AsyncSession, network: str) -> list[AnnouncedDeficit]:
    """A network's open seat deficits by firm and module name."""
    rows = await session.execute(
        select(OpenDeficit)
        .where(col(OpenDeficit.network_id) == network)
        .order_by(col(OpenDeficit.firm_name), col(OpenDeficit.module_name))
    )
    return [as_deficit(row) for row in rows.scalars().all()]
