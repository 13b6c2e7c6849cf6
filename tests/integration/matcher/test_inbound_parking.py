"""A database that goes away: the matcher retries, parks the records, moves on, and a replay applies them once.

Real broker and PostgreSQL; the database is made unavailable for real (it stops accepting connections and the
open ones are ended), as when a server is restarted or fails over.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from forced_network import ForcedNetwork
from kafka_tools import consume
from matcher_harness import deduplicated, events_of, fold, produce_events, settings_for, until
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_matcher.runner import run_matcher
from verbund_schemas import topic

from verbund.parked import read_parked_topic, replay
from verbund.stack.selection import PostgresEndpoint

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TODAY = dt.date(2030, 12, 2)


async def accepting_connections(admin_url: str, database: str, accepting: bool) -> None:
    """ALLOW_CONNECTIONS on or off; off also ends every open session of that database."""
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(accepting).lower()}'))
            if not accepting:
                await conn.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"), {"d": database}
                )
    finally:
        await engine.dispose()


async def verbund(*args: str) -> subprocess.CompletedProcess[str]:
    """The `verbund` command of this virtualenv, as an operator runs it."""
    cli = str(Path(sys.executable).with_name("verbund"))
    env = {**os.environ, "COLUMNS": "250"}
    return await asyncio.to_thread(subprocess.run, [cli, *args], capture_output=True, text=True, env=env, timeout=120)


def counter(metrics: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def plan_of(bootstrap: str, network: ForcedNetwork) -> dict[str, tuple[str, str]]:
    records = await consume(
        bootstrap,
        topic("assignments"),
        until=lambda rs: (
            fold(deduplicated(events_of(rs, {network.network_id}))).get(network.network_id) == network.expected()
        ),
        timeout=90,
    )
    plan: dict[str, tuple[str, str]] = fold(deduplicated(events_of(records, {network.network_id})))[network.network_id]
    return plan


async def test_records_failing_on_a_database_that_went_away_are_retried_parked_and_replayed_once(
    kafka_bootstrap: str, fresh_postgres_url: str, postgres_server: PostgresEndpoint
) -> None:
    database = make_url(fresh_postgres_url).database
    assert database is not None
    before, parked_net, after = (ForcedNetwork(f"{label}-{uuid.uuid4().hex[:8]}") for label in ("pre", "park", "post"))
    settings = settings_for(
        kafka_bootstrap, fresh_postgres_url, inbound_retry_attempts=3, inbound_retry_backoff_seconds=0.2
    )
    async with (
        run_matcher(settings, today=lambda: TODAY) as matcher,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.health_port}", timeout=10) as http,
    ):
        await matcher.until_consuming()
        await produce_events(kafka_bootstrap, before.registered())
        assert await plan_of(kafka_bootstrap, before) == before.expected()

        parked_events = parked_net.registered()
        await accepting_connections(postgres_server.admin_url, database, False)
        try:
            await produce_events(kafka_bootstrap, parked_events)
            parked = await consume(
                kafka_bootstrap,
                topic("parked"),
                until=lambda rs: len([r for r in rs if r.key == parked_net.network_id.encode()]) >= 8,
                timeout=90,
            )
            unready = await http.get("/readyz")
        finally:
            await accepting_connections(postgres_server.admin_url, database, True)

        # The consumer moved on: what comes next is applied as soon as the database is back.
        await produce_events(kafka_bootstrap, after.registered())
        assert await plan_of(kafka_bootstrap, after) == after.expected()

        ours = [e for e in await read_parked_topic(kafka_bootstrap) if e.key == parked_net.network_id]
        first = await replay(kafka_bootstrap, [e.id for e in ours], everything=False)
        assert await plan_of(kafka_bootstrap, parked_net) == parked_net.expected()
        duplicates_before = counter(
            (await http.get("/metrics")).text, 'verbund_matcher_events_consumed_total{outcome="duplicate"}'
        )
        second = await replay(kafka_bootstrap, [e.id for e in ours], everything=False)

        async def replay_seen_as_duplicates() -> bool:
            metrics = (await http.get("/metrics")).text
            return (
                counter(metrics, 'verbund_matcher_events_consumed_total{outcome="duplicate"}') >= duplicates_before + 8
            )

        await until(replay_seen_as_duplicates, timeout=60, every=0.3)
        metrics = (await http.get("/metrics")).text
        ready = await http.get("/readyz")
        listed = [e for e in await read_parked_topic(kafka_bootstrap) if e.key == parked_net.network_id]

    ours_parked = [r for r in parked if r.key == parked_net.network_id.encode()]
    headers = {k: v.decode() for k, v in ours_parked[0].headers}
    assert headers["verbund.parked.by"] == "matcher" and headers["verbund.parked.attempts"] == "3"
    assert headers["verbund.parked.topic"] == topic("inbound") and headers["verbund.parked.truncated"] == "false"
    assert "55000" in headers["verbund.parked.reason"] or "connection" in headers["verbund.parked.reason"].lower()
    assert sorted(r.value for r in ours_parked) == sorted(json.dumps(e).encode() for e in parked_events), (
        "the parked records are the original bytes"
    )
    assert unready.status_code == 503, unready.text
    assert "database: unreachable" in unready.text
    assert sorted(first.replayed) == sorted(e.id for e in ours) and not first.skipped
    assert sorted(second.replayed) == sorted(e.id for e in ours)
    assert all(e.replayed for e in listed)
    assert counter(metrics, "verbund_matcher_inbound_parked_total") >= 8
    assert counter(metrics, "verbund_matcher_batch_retries_total") >= 2
    assert ready.status_code == 200, ready.text

    listing = await verbund("parked", "list", "--bootstrap", kafka_bootstrap)
    assert listing.returncode == 0, listing.stderr
    assert all(e.id in listing.stdout for e in ours) and parked_net.network_id in listing.stdout
    unsaid = await verbund("parked", "replay", "--bootstrap", kafka_bootstrap)
    assert unsaid.returncode == 2 and "--id ID" in unsaid.stderr

    check = create_async_engine(fresh_postgres_url)
    try:
        async with check.connect() as conn:
            applied = (
                await conn.execute(
                    text("SELECT count(*) FROM inbox WHERE network_id = :n AND outcome = 'applied'"),
                    {"n": parked_net.network_id},
                )
            ).scalar_one()
    finally:
        await check.dispose()
    assert applied == 8, "each parked event applied once, however often it was replayed"
