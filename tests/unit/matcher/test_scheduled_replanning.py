"""Full re-optimisation publishes only when its gain outweighs the disruption; the daily freeze marks started work."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from forced_network import ForcedNetwork, encode
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_matcher.service.ingest import Record, handle_batch
from verbund_matcher.service.maintenance import freeze_all, reoptimise_network
from verbund_matcher.service.replan import PlannerSettings
from verbund_matcher.store.tables import OutboxRow, PublishedAssignmentRow

Sessions = async_sessionmaker[AsyncSession]
TODAY = dt.date(2030, 12, 2)
PLANNER = PlannerSettings(workers=1, full_time_limit=5)


async def feed(sessions: Sessions, events: list[dict[str, Any]], start: int = 0) -> None:
    recs = [Record("in", 0, start + i, e["subject"].encode(), encode(e)) for i, e in enumerate(events)]
    await handle_batch(sessions, recs, today=lambda: TODAY, planner=PLANNER)


async def network_preferring_f3(sessions: Sessions, penalty: int) -> ForcedNetwork:
    """L1 likes F3 for M1, but the published plan has it at F1 (as if F3's offer came later)."""
    net = ForcedNetwork(f"pref-{penalty}")
    setup = net.setup()
    setup[0]["data"]["change_penalty"] = penalty
    learner = {
        "learner_id": "L1",
        "name": "Lea",
        "contact": {"name": "Lea", "email": "lea@example.org"},
        "curriculum_id": "C-FORCED",
        "first_week": "2031-W05",
        "last_week": "2031-W08",
        "firm_preferences": {"F3": 10},
    }
    extra = [
        net._event("FirmRegistered", {"firm_id": "F3", "name": "Firm Three", "location": {"city": "Bonn"}}),
        net._event(
            "CapacityOffered",
            {
                "offer_id": "O3",
                "firm_id": "F3",
                "module_id": "M1",
                "first_week": "2031-W01",
                "last_week": "2031-W30",
                "max_seats": 2,
            },
        ),
        net._event("LearnerRegistered", learner),
    ]
    await feed(sessions, setup + extra)
    async with sessions() as s, s.begin():
        await s.exec(
            update(PublishedAssignmentRow)
            .where(
                col(PublishedAssignmentRow.network_id) == net.network_id, col(PublishedAssignmentRow.module_id) == "M1"
            )
            .values(firm_id="F1", firm_name="Firm One")
        )
    return net


async def outbox_types(sessions: Sessions) -> list[str]:
    async with sessions() as s:
        return [r.event_type for r in (await s.exec(select(OutboxRow).order_by(col(OutboxRow.seq)))).all()]


async def test_a_better_plan_is_not_published_when_the_change_penalty_outweighs_the_gain(sessions: Sessions) -> None:
    net = await network_preferring_f3(sessions, penalty=50)
    before = await outbox_types(sessions)
    assert await reoptimise_network(sessions, net.network_id, today=TODAY, planner=PLANNER) is None
    assert await outbox_types(sessions) == before


async def test_a_better_plan_is_published_when_its_gain_outweighs_the_change_penalty(sessions: Sessions) -> None:
    net = await network_preferring_f3(sessions, penalty=5)
    before = await outbox_types(sessions)
    publication = await reoptimise_network(sessions, net.network_id, today=TODAY, planner=PLANNER)
    assert publication is not None and publication.changed == 1
    assert (await outbox_types(sessions))[len(before) :] == ["AssignmentChanged", "PlanPublished"]
    async with sessions() as s:
        last = (await s.exec(select(OutboxRow).where(OutboxRow.event_type == "AssignmentChanged"))).one()
    data = json.loads(last.payload)["data"]
    assert (data["previous"]["firm_id"], data["firm_id"]) == ("F1", "F3")
    assert "re-optimisation" in data["reason"]


async def test_the_daily_freeze_marks_assignments_that_started_or_entered_the_notice_period(sessions: Sessions) -> None:
    net = ForcedNetwork("freeze")
    await feed(sessions, net.stream(12))
    starts = sorted(net.final.values())
    # "Today" is the week after the earliest learner started: that M1 has begun, later ones have not (notice 0).
    today_week = f"2031-W{2 + starts[0]:02d}"
    today = dt.date.fromisocalendar(2031, 2 + starts[0], 1)
    frozen = await freeze_all(sessions, today=lambda: today)
    async with sessions() as s:
        rows = (await s.exec(select(PublishedAssignmentRow))).all()
    assert frozen == sum(1 for r in rows if r.frozen) >= 1
    assert all(r.frozen == (r.start_week < today_week) for r in rows)
