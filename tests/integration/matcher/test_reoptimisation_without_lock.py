"""A full re-optimisation holds no lock through its solve: the network's events go on, and a stale plan is dropped.

Real PostgreSQL, where the network's row lock is a real SELECT ... FOR UPDATE. The solve is held open by a gate,
so "while a long re-optimisation runs" does not depend on how fast the solver happens to be.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from forced_network import ForcedNetwork, encode
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_matcher.planning.model import Plan
from verbund_matcher.service.ingest import Record, handle_batch
from verbund_matcher.service.maintenance import reoptimise_network
from verbund_matcher.service.replan import PlanInputs, PlannerSettings
from verbund_matcher.store.database import create_engine, migrate, session_factory
from verbund_matcher.store.networks import StaleNetwork

pytestmark = [pytest.mark.postgres]

Sessions = async_sessionmaker[AsyncSession]
TODAY = dt.date(2030, 12, 2)
PLANNER = PlannerSettings(workers=1, full_time_limit=5)


@pytest.fixture
async def sessions(fresh_postgres_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(fresh_postgres_url)
    await migrate(engine)
    yield session_factory(engine)
    await engine.dispose()


class GatedSolve:
    """A re-optimisation's solve that waits for the test; it proposes dropping every assignment, a plan that
    publishes a cancellation for each one if it is ever written."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, inputs: PlanInputs, planner: PlannerSettings) -> Plan | None:
        self.entered.set()
        await self.release.wait()
        return Plan(assignments=(), sat={}, objective=0, solver="gated")


async def feed(sessions: Sessions, events: list[dict[str, Any]], start: int) -> None:
    records = [Record("in", 0, start + i, e["subject"].encode(), encode(e)) for i, e in enumerate(events)]
    await handle_batch(sessions, records, today=lambda: TODAY, planner=PLANNER)


async def outbox_of(sessions: Sessions, network_id: str) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await (await session.connection()).execute(
            text("SELECT event_type, payload FROM outbox WHERE key = :n ORDER BY seq"), {"n": network_id}
        )
        return [(t, p) for t, p in rows.all()]


async def plan_version(sessions: Sessions, network_id: str) -> int:
    async with sessions() as session:
        found = await (await session.connection()).execute(
            text("SELECT plan_version FROM networks WHERE network_id = :n"), {"n": network_id}
        )
        return int(found.scalar_one())


async def test_events_apply_during_a_long_reoptimisation_and_its_stale_result_is_not_published(
    sessions: Sessions,
) -> None:
    net = ForcedNetwork(f"reopt-{uuid.uuid4().hex[:8]}")
    await feed(sessions, net.registered(2), start=0)
    solve = GatedSolve()
    reoptimisation = asyncio.create_task(
        reoptimise_network(sessions, net.network_id, today=TODAY, planner=PLANNER, proposal=solve)
    )
    try:
        await asyncio.wait_for(solve.entered.wait(), timeout=60)
        newcomer = {
            "learner_id": "L0100",
            "name": "Learner L0100",
            "contact": {"name": "Learner L0100", "email": "l0100@example.org"},
            "curriculum_id": "C-FORCED",
            "first_week": "2031-W20",
            "last_week": "2031-W23",
        }
        # Before, the re-optimisation held the network's row lock here and this batch waited for the whole solve.
        await asyncio.wait_for(feed(sessions, [net._event("LearnerRegistered", newcomer)], start=100), timeout=60)
        after_batch = await plan_version(sessions, net.network_id)
    finally:
        solve.release.set()
    with pytest.raises(StaleNetwork, match="changed while it was re-optimised"):
        await reoptimisation

    events = await outbox_of(sessions, net.network_id)
    assert not [t for t, _ in events if t == "AssignmentCancelled"], "the stale plan must not be published"
    assert any(t == "AssignmentMade" and '"L0100"' in p for t, p in events), "the batch's own plan went out"
    assert await plan_version(sessions, net.network_id) == after_batch


async def test_a_reoptimisation_nothing_interfered_with_is_written(sessions: Sessions) -> None:
    """The counterpart: the same gated plan, with no event in between, is published (so the test above can fail)."""
    net = ForcedNetwork(f"reopt-{uuid.uuid4().hex[:8]}")
    await feed(sessions, net.registered(2), start=0)
    solve = GatedSolve()
    solve.release.set()
    publication = await reoptimise_network(sessions, net.network_id, today=TODAY, planner=PLANNER, proposal=solve)
    assert publication is not None and publication.cancelled == 4
    cancelled = [t for t, _ in await outbox_of(sessions, net.network_id) if t == "AssignmentCancelled"]
    assert len(cancelled) == 4
