"""A plan version names the inbound events of the batch that produced it; the scheduled re-optimisation names none."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from forced_network import ForcedNetwork, encode
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from test_scheduled_replanning import network_preferring_f3
from verbund_matcher.service.ingest import Record, handle_batch
from verbund_matcher.service.maintenance import reoptimise_network
from verbund_matcher.service.replan import PlannerSettings
from verbund_matcher.store.tables import OutboxRow
from verbund_schemas import MAX_CAUSES, PlanPublished

Sessions = async_sessionmaker[AsyncSession]
TODAY = dt.date(2030, 12, 2)
PLANNER = PlannerSettings(workers=1, full_time_limit=5)


def records(events: list[dict[str, Any]], start: int = 0) -> list[Record]:
    return [Record("in", 0, start + i, e["subject"].encode(), encode(e)) for i, e in enumerate(events)]


async def published_plans(sessions: Sessions) -> list[PlanPublished]:
    async with sessions() as s:
        rows = (
            await s.exec(select(OutboxRow).where(OutboxRow.event_type == "PlanPublished").order_by(col(OutboxRow.seq)))
        ).all()
    return [PlanPublished.model_validate(json.loads(r.payload)) for r in rows]


async def test_a_plan_names_the_event_of_the_batch_that_moved_a_learner(sessions: Sessions) -> None:
    net = ForcedNetwork("cause-1")
    events = net.stream(8)
    await handle_batch(sessions, records(events), today=lambda: TODAY, planner=PLANNER)
    learner = sorted(net.final)[0]
    registration = next(
        e["data"]
        for e in reversed(events)
        if e["type"] in ("LearnerRegistered", "LearnerUpdated") and e["data"]["learner_id"] == learner
    )
    moved = net._event("LearnerUpdated", {**registration, "first_week": "2031-W45", "last_week": "2031-W48"})
    await handle_batch(sessions, records([moved], start=100), today=lambda: TODAY, planner=PLANNER)

    first, second = await published_plans(sessions)
    assert second.data.plan_version == 2
    assert [(c.event_id, c.type) for c in second.data.caused_by] == [(moved["id"], "LearnerUpdated")]
    assert second.data.caused_by_count == 1
    assert first.data.caused_by_count == len(events)
    assert [c.event_id for c in first.data.caused_by] == [e["id"] for e in events][:MAX_CAUSES]


async def test_a_big_batch_names_its_first_events_and_counts_them_all(sessions: Sessions) -> None:
    net = ForcedNetwork("cause-2")
    events = net.stream(MAX_CAUSES + 15)
    assert len(events) > MAX_CAUSES
    await handle_batch(sessions, records(events), today=lambda: TODAY, planner=PLANNER)

    (plan,) = await published_plans(sessions)
    assert plan.data.caused_by_count == len(events)
    assert [(c.event_id, c.type) for c in plan.data.caused_by] == [(e["id"], e["type"]) for e in events[:MAX_CAUSES]]


async def test_the_scheduled_reoptimisation_names_no_inbound_event(sessions: Sessions) -> None:
    net = await network_preferring_f3(sessions, penalty=5)
    assert await reoptimise_network(sessions, net.network_id, today=TODAY, planner=PLANNER) is not None

    *_, reoptimised = await published_plans(sessions)
    assert reoptimised.data.caused_by == [] and reoptimised.data.caused_by_count == 0
