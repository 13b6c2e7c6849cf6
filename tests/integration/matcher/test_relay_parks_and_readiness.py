"""The relay never blocks all output on one row, and /readyz and /metrics tell the truth about the outbox.

Real broker and PostgreSQL: a row bigger than the producer's largest request is parked after its attempts while
every later event is published; a relay held up on its lease shows as stuck and recovers by itself.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import httpx
import pytest
from forced_network import ForcedNetwork
from kafka_tools import consume
from matcher_harness import deduplicated, events_of, fold, produce_events, settings_for, until
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_matcher.runner import run_matcher
from verbund_matcher.store.database import create_engine, migrate, session_factory
from verbund_matcher.store.tables import OutboxRow, table_of
from verbund_schemas import EventRejected, encode_event, topic

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TODAY = dt.date(2030, 12, 2)


def rejection(network_id: str) -> EventRejected:
    return EventRejected.of_record(
        service="matcher",
        topic=topic("inbound"),
        partition=0,
        offset=0,
        key=network_id,
        raw=b"x",
        reason="not JSON",
        errors=[],
        event_id=None,
        event_type=None,
        network_id=network_id,
    )


def gauge(metrics: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", metrics, re.MULTILINE)
    assert found, f"{name} missing from /metrics"
    return float(found.group(1))


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Both relays: PostgreSQL marks rows sent per round, SQLite remembers how far it published."""
    url: str = request.getfixturevalue("fresh_postgres_url" if request.param == "postgres" else "sqlite_url")
    return url


async def test_a_row_kafka_refuses_is_parked_with_its_reason_and_the_rows_after_it_are_published(
    kafka_bootstrap: str, database_url: str
) -> None:
    n = ForcedNetwork(f"park-{uuid.uuid4().hex[:8]}")
    events = n.registered(3)
    engine = create_engine(database_url)
    await migrate(engine)
    big = rejection(n.network_id)
    try:
        async with session_factory(engine)() as session, session.begin():
            # First in the outbox, and bigger than the producer may send (valid JSON, padded): before, every
            # later row waited behind it for ever.
            await session.exec(
                insert(table_of(OutboxRow)).values(
                    event_id=big.id,
                    event_type=big.type,
                    topic_role="rejected",
                    key=n.network_id,
                    payload=encode_event(big).decode() + " " * 200_000,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
    finally:
        await engine.dispose()

    settings = settings_for(kafka_bootstrap, database_url, relay_max_request_size=65_536, relay_max_attempts=2)
    async with run_matcher(settings, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        await produce_events(kafka_bootstrap, events)
        records = await consume(
            kafka_bootstrap,
            topic("assignments"),
            until=lambda rs: fold(deduplicated(events_of(rs, {n.network_id}))).get(n.network_id) == n.expected(),
            timeout=90,
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.health_port}") as http:
            ready = await http.get("/readyz")
            metrics = (await http.get("/metrics")).text

    assert fold(deduplicated(events_of(records, {n.network_id})))[n.network_id] == n.expected()
    check = create_async_engine(database_url)
    try:
        async with check.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT attempts, last_error, parked_at, sent_at FROM outbox WHERE event_id = :id"),
                    {"id": big.id},
                )
            ).one()
            unsent = (
                await conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL"))
            ).scalar_one()
    finally:
        await check.dispose()
    attempts, last_error, parked_at, sent_at = row
    assert parked_at is not None and sent_at is None, row
    assert attempts == 2
    assert "MessageSizeTooLarge" in last_error
    assert unsent == 0, "every row after the parked one went out"
    assert ready.status_code == 200, ready.text
    assert "parked: 1 outbox events" in ready.text
    assert gauge(metrics, "verbund_matcher_outbox_parked") == 1.0
    assert gauge(metrics, "verbund_matcher_outbox_lag") == 0.0
    assert gauge(metrics, re.escape('verbund_matcher_relay_failures_total{kind="refused"}')) >= 2


async def test_a_relay_held_up_makes_readiness_fail_with_the_unsent_rows_and_it_recovers_by_itself(
    kafka_bootstrap: str, fresh_postgres_url: str
) -> None:
    n = ForcedNetwork(f"stuck-{uuid.uuid4().hex[:8]}")
    settings = settings_for(kafka_bootstrap, fresh_postgres_url, ready_max_outbox_age_seconds=1.0)
    holder = create_async_engine(fresh_postgres_url)
    async with run_matcher(settings, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        base = f"http://127.0.0.1:{settings.health_port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            assert (await http.get("/readyz")).status_code == 200
            # Another relay holds the lease and hangs: this one waits on it, as behind a hung replica.
            conn = await holder.connect()
            transaction = await conn.begin()
            await conn.execute(text("SELECT * FROM relay_lease WHERE id = 1 FOR UPDATE"))
            try:
                await produce_events(kafka_bootstrap, n.registered())

                async def not_ready() -> bool:
                    return (await http.get("/readyz")).status_code == 503

                await until(not_ready, timeout=60, every=0.3)
                stuck = (await http.get("/readyz")).text
                metrics = (await http.get("/metrics")).text
            finally:
                await transaction.rollback()
                await conn.close()

            async def ready_again() -> bool:
                return (await http.get("/readyz")).status_code == 200

            await until(ready_again, timeout=60, every=0.3)
            recovered = (await http.get("/readyz")).text
            after = (await http.get("/metrics")).text
    await holder.dispose()

    assert "relay: stuck:" in stuck and "outbox events unsent" in stuck, stuck
    assert "database: ok" in stuck and "kafka: ok" in stuck
    assert gauge(metrics, "verbund_matcher_outbox_lag") >= 1
    assert gauge(metrics, "verbund_matcher_outbox_oldest_unsent_seconds") > 1.0
    assert recovered.startswith("ready partitions=") and "relay: ok" in recovered, recovered
    assert gauge(after, "verbund_matcher_outbox_lag") == 0.0
