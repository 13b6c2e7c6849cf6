"""The notifier on a database that went away: retried, parked, moves on; a replay applies each event once.

Real broker and PostgreSQL; the database stops accepting connections and its open ones are ended.
"""

from __future__ import annotations

import json

import notifier_factories as f
import pytest
from kafka_tools import consume, produce
from notifier_harness import START, deliveries, eventually, free_port, http_get, notifier_settings
from notifier_on_kafka import fresh_group, notifier_on_kafka, start_groups_at_end
from sqlalchemy import func, make_url, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_notifier.clock import Clock
from verbund_notifier.store.tables import ProcessedEvent
from verbund_schemas import Envelope, encode_event, topic

from verbund.mailsink import MailSink
from verbund.parked import read_parked_topic, replay
from verbund.stack.selection import PostgresEndpoint

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


async def accepting_connections(admin_url: str, database: str, accepting: bool) -> None:
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


async def publish(bootstrap: str, role: str, *events: Envelope) -> None:
    for event in events:
        await produce(bootstrap, topic(role), event.network_id, encode_event(event))


async def test_directory_events_on_a_database_gone_are_parked_and_a_replay_applies_them_once(
    kafka_bootstrap: str, fresh_postgres_url: str, postgres_server: PostgresEndpoint, mail_sink: MailSink
) -> None:
    database = make_url(fresh_postgres_url).database
    assert database is not None
    group = fresh_group()
    await start_groups_at_end(kafka_bootstrap, group)
    port = free_port()
    settings = notifier_settings(
        fresh_postgres_url,
        mail_sink,
        kafka_bootstrap_servers=kafka_bootstrap,
        notifier_group_id=group,
        health_port=port,
        notifier_consume_retry_attempts=3,
        notifier_consume_retry_backoff_seconds=0.1,
    )
    directory = f.directory()
    ids = {e.id for e in directory}
    async with notifier_on_kafka(settings, Clock(START)) as app:

        async def ready() -> bool:
            return (await http_get(port, "/readyz"))[0] == 200

        await eventually(ready, within=30, what="/readyz answering 200")

        await accepting_connections(postgres_server.admin_url, database, False)
        try:
            await publish(kafka_bootstrap, "inbound", *directory)
            parked = await consume(
                kafka_bootstrap,
                topic("parked"),
                until=lambda rs: len([r for r in rs if json.loads(r.value or b"{}").get("id") in ids]) >= len(ids),
                timeout=90,
            )
            unready = await http_get(port, "/readyz")
        finally:
            await accepting_connections(postgres_server.admin_url, database, True)

        # The consumer moved on: the next event is applied as soon as the database is back.
        later = f.firm("F-LATER", "Später GmbH", None)
        await publish(kafka_bootstrap, "inbound", later)

        async def processed(event_ids: set[str]) -> bool:
            async with app.notifier.sessions() as session:
                found = await session.execute(
                    select(ProcessedEvent.event_id).where(ProcessedEvent.event_id.in_(event_ids))  # type: ignore[attr-defined]
                )
                return set(found.scalars().all()) == event_ids

        await eventually(lambda: processed({later.id}), within=60, what="the event after the parked ones applied")

        ours = [e for e in await read_parked_topic(kafka_bootstrap) if json.loads(e.value or b"{}").get("id") in ids]
        first = await replay(kafka_bootstrap, [e.id for e in ours], everything=False)
        await eventually(lambda: processed(ids | {later.id}), within=60, what="the replayed directory applied")
        await publish(kafka_bootstrap, "assignments", f.made())
        await mail_sink.until(3, within=60)

        second = await replay(kafka_bootstrap, [e.id for e in ours], everything=False)
        sentinel = f.firm("F-SENTINEL", "Wächter AG", None)  # same key, same partition: read after the replay
        await publish(kafka_bootstrap, "inbound", sentinel)
        await eventually(lambda: processed(ids | {later.id, sentinel.id}), within=60, what="the sentinel applied")
        async with app.notifier.sessions() as session:
            rows = (
                await session.execute(
                    select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.event_id.in_(ids))  # type: ignore[attr-defined]
                )
            ).scalar_one()
        sent = await deliveries(app)
        _, metrics = await http_get(port, "/metrics")

    headers = [{k: v.decode() for k, v in r.headers} for r in parked if json.loads(r.value or b"{}").get("id") in ids]
    assert {h["verbund.parked.by"] for h in headers} == {"notifier"}
    assert {h["verbund.parked.topic"] for h in headers} == {topic("inbound")}
    assert {h["verbund.parked.attempts"] for h in headers} == {"3"}
    assert unready[0] == 503 and "database:" in unready[1] and "database: ok" not in unready[1], unready
    assert len(first.replayed) == len(ids) and not first.skipped
    assert len(second.replayed) == len(ids)
    assert rows == len(ids), "each replayed event applied once"
    assert len(sent) == 3 and len(mail_sink.messages) == 3, "no message twice"
    assert "verbund_notifier_parked_total" in metrics
