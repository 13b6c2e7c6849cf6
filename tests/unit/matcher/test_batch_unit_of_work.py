"""One batch, one transaction: state, inbox, outbox and the published plan move together (SQLite)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from forced_network import ForcedNetwork, encode
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_matcher.service.ingest import Record, handle_batch
from verbund_matcher.service.replan import PlannerSettings
from verbund_matcher.store.tables import InboxRow, OutboxRow, PublishedAssignmentRow

Sessions = async_sessionmaker[AsyncSession]
TODAY = dt.date(2030, 12, 2)
PLANNER = PlannerSettings(workers=1)


def records(events: list[dict[str, Any]], *, start: int = 0, key: str | None = None) -> list[Record]:
    return [
        Record("verbund.inbound", 0, start + i, (key or e["subject"]).encode(), encode(e)) for i, e in enumerate(events)
    ]


async def outbox(sessions: Sessions) -> list[dict[str, Any]]:
    async with sessions() as s:
        rows = (await s.exec(select(OutboxRow).order_by(col(OutboxRow.seq)))).all()
    return [json.loads(r.payload) | {"_role": r.topic_role} for r in rows]


async def test_a_batch_publishes_assignments_then_plan_published(sessions: Sessions) -> None:
    net = ForcedNetwork("n-1")
    events = net.setup() + net.stream(10)[6:]
    await handle_batch(sessions, records(events), today=lambda: TODAY, planner=PLANNER)
    out = await outbox(sessions)
    types = [e["type"] for e in out]
    assert types[-1] == "PlanPublished"
    assert set(types[:-1]) <= {"AssignmentMade"}
    made = {e["data"]["assignment_id"]: (e["data"]["firm_id"], e["data"]["start_week"]) for e in out[:-1]}
    assert made == net.expected()
    assert all(e["subject"] == "n-1" and e["source"] == "verbund-matcher" for e in out)


async def test_a_replayed_batch_changes_nothing_and_publishes_nothing(sessions: Sessions) -> None:
    net = ForcedNetwork("n-2")
    recs = records(net.stream(30))
    first = await handle_batch(sessions, recs, today=lambda: TODAY, planner=PLANNER)
    before = await outbox(sessions)
    again = await handle_batch(sessions, recs, today=lambda: TODAY, planner=PLANNER)
    assert first.applied == 30 and again.duplicates == 30 and again.applied == 0
    assert await outbox(sessions) == before


async def test_only_the_difference_is_published_with_a_reason(sessions: Sessions) -> None:
    net = ForcedNetwork("n-3")
    events = net.stream(8)
    await handle_batch(sessions, records(events), today=lambda: TODAY, planner=PLANNER)
    first_count = len(await outbox(sessions))
    learner = sorted(net.final)[0]
    registration = next(
        e["data"]
        for e in reversed(events)
        if e["type"] in ("LearnerRegistered", "LearnerUpdated") and e["data"]["learner_id"] == learner
    )
    moved = net._event("LearnerUpdated", {**registration, "first_week": "2031-W45", "last_week": "2031-W48"})
    await handle_batch(sessions, records([moved], start=100), today=lambda: TODAY, planner=PLANNER)
    new = (await outbox(sessions))[first_count:]
    assert [e["type"] for e in new] == ["AssignmentChanged", "AssignmentChanged", "PlanPublished"]
    assert all(learner in e["data"]["reason"] or "registration changed" in e["data"]["reason"] for e in new[:2])
    assert new[-1]["data"]["changed"] == 2 and new[-1]["data"]["plan_version"] == 2


async def test_offers_sent_again_under_new_ids_are_applied_without_a_replan(sessions: Sessions) -> None:
    net = ForcedNetwork("n-6")
    events = net.stream(12)
    await handle_batch(sessions, records(events), today=lambda: TODAY, planner=PLANNER)
    before = await outbox(sessions)
    # A firm's system re-sends every offer it holds, each as a new event: the same statements again.
    again = [net._event("CapacityOffered", e["data"]) for e in events if e["type"] == "CapacityOffered"]
    outcome = await handle_batch(sessions, records(again, start=100), today=lambda: TODAY, planner=PLANNER)
    assert again and outcome.applied == len(again) and outcome.rejected == 0
    assert outcome.publications == {}
    assert await outbox(sessions) == before


async def test_poison_and_inconsistent_records_are_rejected_in_the_same_transaction(sessions: Sessions) -> None:
    net = ForcedNetwork("n-4")
    good = records(net.setup())
    poison = Record("verbund.inbound", 0, 50, b"n-4", b"{not json")
    stranger = net._event("CapacityChanged", {"offer_id": "O-404", "max_seats": 3})
    mismatch = net._event("FirmUpdated", {"firm_id": "F1", "name": "X", "location": {"city": "Bonn"}})
    recs = [*good, poison, *records([stranger], start=51), *records([mismatch], start=52, key="other")]
    outcome = await handle_batch(sessions, recs, today=lambda: TODAY, planner=PLANNER)
    assert (outcome.applied, outcome.rejected) == (6, 3)
    rejected = [e for e in await outbox(sessions) if e["type"] == "EventRejected"]
    assert [e["_role"] for e in rejected] == ["rejected"] * 3
    assert rejected[0]["data"]["original_text"] == "{not json" and "not valid JSON" in rejected[0]["data"]["reason"]
    assert "unknown offer 'O-404'" in rejected[1]["data"]["reason"]
    assert "Kafka key 'other'" in rejected[2]["data"]["reason"]
    async with sessions() as s:
        outcomes = {r.message_id: r.outcome for r in (await s.exec(select(InboxRow))).all()}
    assert outcomes["kafka:verbund.inbound:0:50"] == "rejected"
    again = await handle_batch(sessions, recs, today=lambda: TODAY, planner=PLANNER)
    assert again.rejected == 0 and again.duplicates == len(recs)


async def test_a_withdrawn_learner_has_its_assignments_cancelled(sessions: Sessions) -> None:
    net = ForcedNetwork("n-5")
    events = net.stream(8)
    await handle_batch(sessions, records(events), today=lambda: TODAY, planner=PLANNER)
    n = len(await outbox(sessions))
    learner = sorted(net.final)[0]
    gone = net._event("LearnerWithdrawn", {"learner_id": learner})
    await handle_batch(sessions, records([gone], start=99), today=lambda: TODAY, planner=PLANNER)
    new = (await outbox(sessions))[n:]
    assert [e["type"] for e in new] == ["AssignmentCancelled", "AssignmentCancelled", "PlanPublished"]
    assert "was withdrawn" in new[0]["data"]["reason"]
    async with sessions() as s:
        left = (await s.exec(select(PublishedAssignmentRow).where(PublishedAssignmentRow.learner_id == learner))).all()
    assert left == []


async def test_after_a_firm_renames_itself_a_cancellation_names_it_by_its_new_name(sessions: Sessions) -> None:
    net = ForcedNetwork("n-rename")
    events = net.setup() + net.stream(10)[6:]
    await handle_batch(sessions, records(events), today=lambda: TODAY, planner=PLANNER)
    renamed = net._event("FirmUpdated", {"firm_id": "F1", "name": "Firm Uno", "location": {"city": "Aachen"}})
    before = len(await outbox(sessions))
    await handle_batch(sessions, records([renamed], start=100), today=lambda: TODAY, planner=PLANNER)
    assert len(await outbox(sessions)) == before  # a rename alone moves nothing, so nothing is published
    async with sessions() as s:
        names = {r.firm_name for r in (await s.exec(select(PublishedAssignmentRow))).all() if r.firm_id == "F1"}
    assert names == {"Firm Uno"}

    learner = sorted(net.final)[0]
    gone = net._event("LearnerWithdrawn", {"learner_id": learner, "reason": "moved away"})
    await handle_batch(sessions, records([gone], start=101), today=lambda: TODAY, planner=PLANNER)
    cancelled = [e["data"] for e in await outbox(sessions) if e["type"] == "AssignmentCancelled"]
    assert {c["firm_name"] for c in cancelled if c["firm_id"] == "F1"} == {"Firm Uno"}
