"""A planning that fails never leaves an old plan silently: the network is marked stale, counted, shown, retried.

SQLite and the real batch handling; the planner is handed in through PlannerSettings and raises for one network.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from breakable_planner import BreakablePlanner
from forced_network import ForcedNetwork, encode
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_matcher.service.ingest import Record, handle_batch
from verbund_matcher.service.maintenance import reoptimise_network, retry_stale_plans
from verbund_matcher.service.replan import PlannerSettings
from verbund_matcher.service.stale_plans import PlanRetry, read_stale_plans, readiness_lines
from verbund_matcher.store.database import create_engine, session_factory
from verbund_matcher.store.tables import LearnerRow, NetworkRow, OutboxRow

Sessions = async_sessionmaker[AsyncSession]
TODAY = dt.date(2030, 12, 2)
NOW_DUE = PlanRetry(base_seconds=0.001, max_seconds=0.001)  # every stale network is due at once


def records(events: list[dict[str, Any]], *, start: int = 0) -> list[Record]:
    return [Record("verbund.inbound", 0, start + i, e["subject"].encode(), encode(e)) for i, e in enumerate(events)]


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def published(sessions: Sessions, network_id: str) -> list[dict[str, Any]]:
    async with sessions() as s:
        rows = (await s.exec(select(OutboxRow).where(OutboxRow.key == network_id).order_by(col(OutboxRow.seq)))).all()
    return [json.loads(r.payload) for r in rows]


def plan_of(events: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    plan: dict[str, tuple[str, str]] = {}
    for e in events:
        if e["type"] in ("AssignmentMade", "AssignmentChanged"):
            plan[e["data"]["assignment_id"]] = (e["data"]["firm_id"], e["data"]["start_week"])
        elif e["type"] == "AssignmentCancelled":
            plan.pop(e["data"]["assignment_id"], None)
    return plan


async def network_row(sessions: Sessions, network_id: str) -> NetworkRow:
    async with sessions() as s:
        row = await s.get(NetworkRow, network_id)
    assert row is not None
    return row


async def test_a_planner_raising_for_one_network_commits_its_state_and_marks_its_plan_stale_visibly(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    good, bad = ForcedNetwork("fails-good"), ForcedNetwork("fails-bad")
    breakable = BreakablePlanner(bad.network_id)
    failures_before = counted("verbund_matcher_plan_failures_total", mode="repair")
    with caplog.at_level(logging.ERROR, logger="verbund_matcher"):
        outcome = await handle_batch(
            sessions,
            records(good.registered(2) + bad.registered(2)),
            today=lambda: TODAY,
            planner=PlannerSettings(workers=1, planner=breakable.planner),
        )

    assert outcome.applied == 16 and set(outcome.publications) == {good.network_id}
    async with sessions() as s:
        learners = (await s.exec(select(LearnerRow.learner_id).where(LearnerRow.network_id == bad.network_id))).all()
    assert sorted(learners) == ["L0000", "L0001"], "the batch's state changes are committed"
    assert plan_of(await published(sessions, good.network_id)) == good.expected()
    assert await published(sessions, bad.network_id) == [], "no plan of the failed network went out"

    row = await network_row(sessions, bad.network_id)
    assert row.plan_stale_since is not None and row.plan_failed_at is not None
    assert (row.plan_failures, row.plan_error) == (1, "SolverRejectedModel")
    assert (await network_row(sessions, good.network_id)).plan_stale_since is None
    assert counted("verbund_matcher_plan_failures_total", mode="repair") == failures_before + 1

    stale = await read_stale_plans(sessions)
    assert [s.network_id for s in stale] == [bad.network_id]
    assert counted("verbund_matcher_stale_plans") == 1.0
    lines = readiness_lines(stale, now=dt.datetime.now(dt.UTC), retry=PlanRetry())
    assert len(lines) == 1
    assert lines[0].startswith(f"plan stale: network {bad.network_id} (published plan version 0) stale since ")
    assert "last error type SolverRejectedModel, 1 failed try, next try in " in lines[0]

    failure_logs = [r for r in caplog.records if r.getMessage().startswith("planning network ")]
    assert len(failure_logs) == 1
    logged = failure_logs[0]
    assert logged.network_id == bad.network_id and logged.error_type == "SolverRejectedModel"  # type: ignore[attr-defined]
    assert logged.plan_version == 0 and logged.exc_info is None  # type: ignore[attr-defined]
    assert breakable.quoted not in str(logged.__dict__), "ids only, never what the exception quotes"


async def test_the_retry_publishes_the_plan_once_the_planner_works_and_clears_the_mark(sessions: Sessions) -> None:
    bad = ForcedNetwork("retry-bad")
    breakable = BreakablePlanner(bad.network_id)
    planner = PlannerSettings(workers=1, planner=breakable.planner)
    await handle_batch(sessions, records(bad.registered(2)), today=lambda: TODAY, planner=planner)

    # Still broken: the retry counts one more failed try, and the next one waits twice as long.
    assert await retry_stale_plans(sessions, today=lambda: TODAY, planner=planner, retry=NOW_DUE) == 0
    row = await network_row(sessions, bad.network_id)
    assert (row.plan_failures, row.plan_error) == (2, "SolverRejectedModel")
    assert PlanRetry(base_seconds=10).pause(row.plan_failures) == dt.timedelta(seconds=20)
    calls = len(breakable.calls)
    not_yet = PlanRetry(base_seconds=3600, max_seconds=3600)
    assert await retry_stale_plans(sessions, today=lambda: TODAY, planner=planner, retry=not_yet) == 0
    assert len(breakable.calls) == calls, "no try before the backoff ran out"

    # A restart reads the mark from the database.
    other = create_engine(str(sessions.kw["bind"].url))
    try:
        assert [s.network_id for s in await read_stale_plans(session_factory(other))] == [bad.network_id]
    finally:
        await other.dispose()

    breakable.broken.clear()
    woken: list[bool] = []
    assert (
        await retry_stale_plans(
            sessions, today=lambda: TODAY, planner=planner, retry=NOW_DUE, on_published=lambda: woken.append(True)
        )
        == 1
    )
    events = await published(sessions, bad.network_id)
    assert plan_of(events) == bad.expected() and events[-1]["type"] == "PlanPublished"
    assert events[-1]["data"]["plan_version"] == 1 and woken == [True]
    row = await network_row(sessions, bad.network_id)
    assert (row.plan_stale_since, row.plan_failed_at, row.plan_failures, row.plan_error) == (None, None, 0, None)
    assert await read_stale_plans(sessions) == []
    assert counted("verbund_matcher_stale_plans") == 0.0


async def test_the_next_batch_of_a_stale_network_plans_it_and_clears_the_mark(sessions: Sessions) -> None:
    bad = ForcedNetwork("next-batch")
    breakable = BreakablePlanner(bad.network_id)
    planner = PlannerSettings(workers=1, planner=breakable.planner)
    events = bad.registered(3)
    await handle_batch(sessions, records(events[:-1]), today=lambda: TODAY, planner=planner)
    assert (await network_row(sessions, bad.network_id)).plan_stale_since is not None

    breakable.broken.clear()
    await handle_batch(sessions, records(events[-1:], start=100), today=lambda: TODAY, planner=planner)
    assert plan_of(await published(sessions, bad.network_id)) == bad.expected()
    assert (await network_row(sessions, bad.network_id)).plan_stale_since is None


async def test_a_failed_re_optimisation_keeps_a_current_plan_without_marking_it_stale(sessions: Sessions) -> None:
    net = ForcedNetwork("full-fails")
    breakable = BreakablePlanner()
    planner = PlannerSettings(workers=1, full_time_limit=2, planner=breakable.planner)
    await handle_batch(sessions, records(net.registered(2)), today=lambda: TODAY, planner=planner)
    before = await published(sessions, net.network_id)
    failures_before = counted("verbund_matcher_plan_failures_total", mode="full")

    breakable.broken.add(net.network_id)
    assert await reoptimise_network(sessions, net.network_id, today=TODAY, planner=planner) is None

    assert counted("verbund_matcher_plan_failures_total", mode="full") == failures_before + 1
    assert await published(sessions, net.network_id) == before
    row = await network_row(sessions, net.network_id)
    assert row.plan_stale_since is None, "the repairs made the published plan from the current state"
    assert row.last_full_at is not None
