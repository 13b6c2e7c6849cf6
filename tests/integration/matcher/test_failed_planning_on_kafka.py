"""A network whose planning fails shows as stale on /readyz and /metrics, and its plan goes out once planning works.

Real broker and PostgreSQL; the matcher is handed a planner that raises for one network until it is mended.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import httpx
import pytest
from breakable_planner import BreakablePlanner
from forced_network import ForcedNetwork
from kafka_tools import consume
from matcher_harness import deduplicated, events_of, fold, produce_events, settings_for, until
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_matcher.runner import run_matcher
from verbund_schemas import topic

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TODAY = dt.date(2030, 12, 2)


def sample(metrics: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.MULTILINE)
    assert found, f"{name} missing from /metrics"
    return float(found.group(1))


async def test_a_failed_planning_is_shown_as_a_stale_plan_and_the_retry_publishes_it_once_planning_works(
    kafka_bootstrap: str, fresh_postgres_url: str
) -> None:
    good = ForcedNetwork(f"plan-ok-{uuid.uuid4().hex[:8]}")
    bad = ForcedNetwork(f"plan-broken-{uuid.uuid4().hex[:8]}")
    breakable = BreakablePlanner(bad.network_id)
    settings = settings_for(kafka_bootstrap, fresh_postgres_url, plan_retry_base_seconds=0.5, plan_retry_max_seconds=1)
    stale_line = f"plan stale: network {bad.network_id} (published plan version 0) stale since "
    async with run_matcher(settings, today=lambda: TODAY, planning=breakable.planner) as matcher:
        await matcher.until_consuming()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.health_port}", timeout=10) as http:
            await produce_events(kafka_bootstrap, bad.registered(2) + good.registered(2))

            async def shown_stale() -> bool:
                return stale_line in (await http.get("/readyz")).text

            await until(shown_stale, timeout=90, every=0.3)
            # The good network's plan goes out meanwhile: one network's failure holds up no other.
            await consume(
                kafka_bootstrap,
                topic("assignments"),
                until=lambda rs: (
                    fold(deduplicated(events_of(rs, {good.network_id}))).get(good.network_id) == good.expected()
                ),
                timeout=60,
            )
            stale = await http.get("/readyz")
            stale_metrics = (await http.get("/metrics")).text

            breakable.broken.clear()
            records = await consume(
                kafka_bootstrap,
                topic("assignments"),
                until=lambda rs: (
                    fold(deduplicated(events_of(rs, {bad.network_id}))).get(bad.network_id) == bad.expected()
                ),
                timeout=60,
            )

            async def current_again() -> bool:
                return "plan stale:" not in (await http.get("/readyz")).text

            await until(current_again, timeout=30, every=0.3)
            recovered = await http.get("/readyz")
            recovered_metrics = (await http.get("/metrics")).text

    assert stale.status_code == 200, "a stale plan does not stop consuming: the replica stays ready"
    line = next(line for line in stale.text.splitlines() if line.startswith(stale_line))
    assert "last error type SolverRejectedModel" in line and "next try in " in line
    assert breakable.quoted not in stale.text
    assert sample(stale_metrics, 'verbund_matcher_plan_failures_total{mode="repair"}') >= 1
    assert sample(stale_metrics, "verbund_matcher_stale_plans") == 1.0
    assert sample(stale_metrics, "verbund_matcher_stale_plan_oldest_seconds") > 0.0

    plan = [e for e in deduplicated(events_of(records, {bad.network_id})) if e["type"] == "PlanPublished"]
    assert [e["data"]["plan_version"] for e in plan] == [1], "one plan, published by the retry"
    assert recovered.status_code == 200 and recovered.text.startswith("ready partitions=")
    assert sample(recovered_metrics, "verbund_matcher_stale_plans") == 0.0
    check = create_async_engine(fresh_postgres_url)
    try:
        async with check.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT plan_stale_since, plan_failures, plan_error FROM networks WHERE network_id = :n"),
                    {"n": bad.network_id},
                )
            ).one()
    finally:
        await check.dispose()
    assert tuple(row) == (None, 0, None)
