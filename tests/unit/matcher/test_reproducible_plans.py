"""Two identical copies of a network, fed the same events in the same batches, get the same plans."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_matcher.service.ingest import Record, handle_batch
from verbund_matcher.service.maintenance import reoptimise_network
from verbund_matcher.service.replan import PlannerSettings
from verbund_matcher.store.tables import PublishedAssignmentRow
from verbund_schemas import encode_event

Sessions = async_sessionmaker[AsyncSession]
TODAY = dt.date(2026, 11, 2)
BENCH = Path(__file__).resolve().parents[3] / "bench" / "scenarios.py"


def tight_network_events() -> list[dict[str, Any]]:
    """A generated network with demanding minimums (bench/scenarios.py), as JSON objects."""
    spec = importlib.util.spec_from_file_location("bench_scenarios_for_tests", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return [json.loads(encode_event(e)) for e in module.generate("tight-80-12-4-24-1")]


def copy_of(events: list[dict[str, Any]], network_id: str) -> list[dict[str, Any]]:
    return [e | {"subject": network_id, "id": f"{network_id}-{e['id']}"} for e in events]


async def plan_of(sessions: Sessions, network_id: str) -> set[tuple[str, str, str, str]]:
    async with sessions() as s:
        rows = (
            await s.exec(select(PublishedAssignmentRow).where(col(PublishedAssignmentRow.network_id) == network_id))
        ).all()
    return {(r.learner_id, r.module_id, r.firm_id, r.start_week) for r in rows}


async def test_two_copies_of_a_network_get_the_same_plan_from_batches_and_from_re_optimisation(
    sessions: Sessions,
) -> None:
    planner = PlannerSettings(workers=2, repair_time_limit=2, full_time_limit=3, deterministic=True)
    events = tight_network_events()
    for k, network_id in enumerate(("copy-a", "copy-b")):
        records = [
            Record("verbund.inbound", 0, k * 10_000 + i, network_id.encode(), json.dumps(e).encode())
            for i, e in enumerate(copy_of(events, network_id))
        ]
        await handle_batch(sessions, records, today=lambda: TODAY, planner=planner)
    first_a, first_b = await plan_of(sessions, "copy-a"), await plan_of(sessions, "copy-b")
    assert first_a and first_a == first_b
    for network_id in ("copy-a", "copy-b"):
        await reoptimise_network(sessions, network_id, today=TODAY, planner=planner)
    assert await plan_of(sessions, "copy-a") == await plan_of(sessions, "copy-b")
