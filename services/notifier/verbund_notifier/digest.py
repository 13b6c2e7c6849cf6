"""The weekly coordinator digest's content: open shortfalls and seat deficits, learners per firm per week, phases
starting soon."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from verbund_schemas import week_monday, week_of

from .messages import shortfall_facts, spans_shown
from .names import names_of
from .tables import AssignmentRecord, NetworkRecord, OpenDeficit, OpenShortfall

# A digest names a deficit's first few spans; the message that announced it lists them all.
_DIGEST_SPANS = 5


async def digest_context(session: AsyncSession, network: str, today: dt.date, weeks_ahead: int) -> dict[str, Any]:
    record = await session.get(NetworkRecord, network)
    monday = week_monday(week_of(today))
    weeks = [monday + dt.timedelta(weeks=i) for i in range(weeks_ahead)]
    horizon = monday + dt.timedelta(weeks=weeks_ahead)
    assignments = (
        (
            await session.execute(
                select(AssignmentRecord).where(
                    col(AssignmentRecord.network_id) == network,
                    col(AssignmentRecord.cancelled).is_(False),
                    col(AssignmentRecord.end_date) >= monday,
                    col(AssignmentRecord.start_date) < horizon,
                )
            )
        )
        .scalars()
        .all()
    )
    firms: dict[str, tuple[str, list[int]]] = {}
    for a in assignments:
        _name, counts = firms.setdefault(a.firm_id, (a.firm_name, [0] * weeks_ahead))
        for i, week in enumerate(weeks):
            if a.start_date <= week <= a.end_date:
                counts[i] += 1
    upcoming = sorted(
        (a for a in assignments if today <= a.start_date < horizon),
        key=lambda a: (a.start_date, a.learner_name),
    )
    shortfalls = (
        (
            await session.execute(
                select(OpenShortfall)
                .where(col(OpenShortfall.network_id) == network)
                .order_by(col(OpenShortfall.learner_name))
            )
        )
        .scalars()
        .all()
    )
    deficits = (
        (
            await session.execute(
                select(OpenDeficit)
                .where(col(OpenDeficit.network_id) == network)
                .order_by(col(OpenDeficit.firm_name), col(OpenDeficit.module_name))
            )
        )
        .scalars()
        .all()
    )
    names = await names_of(
        session, network, modules=[s.module_id for s in shortfalls], groups=[s.group_id for s in shortfalls]
    )
    return {
        "network_id": network,
        "network_name": record.name if record else network,
        "week": week_of(today),
        "weeks": [week_of(w) for w in weeks],
        "utilisation": [
            {"firm_id": fid, "firm_name": name, "counts": counts}
            for fid, (name, counts) in sorted(firms.items(), key=lambda kv: kv[1][0])
        ],
        "upcoming": [
            {
                "assignment_id": a.assignment_id,
                "learner_name": a.learner_name,
                "module_name": a.module_name,
                "firm_name": a.firm_name,
                "start_date": a.start_date,
            }
            for a in upcoming
        ],
        "shortfalls": [
            {
                "shortfall_id": s.shortfall_id,
                **shortfall_facts(
                    names,
                    learner_name=s.learner_name,
                    group_id=s.group_id,
                    module_id=s.module_id,
                    missing=s.missing,
                    reason=s.reason,
                ),
            }
            for s in shortfalls
        ],
        "deficits": [
            {
                "deficit_id": d.deficit_id,
                "firm_name": d.firm_name,
                "module_name": d.module_name,
                "spans": spans_shown(d.spans[:_DIGEST_SPANS]),
                "spans_omitted": d.spans_omitted + max(0, len(d.spans) - _DIGEST_SPANS),
                "missing_learner_weeks": d.missing_learner_weeks,
            }
            for d in deficits
        ],
    }
