"""An outbox event Kafka refused is listed and replayed by `verbund parked` through the topics alone, and goes out once.

Real broker and PostgreSQL. The operator's command gets no database URL: it reads the relay's notice on the parked
topic and answers with a replay request there, which the matcher turns into another try of its outbox row.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from kafka_tools import consume
from matcher_harness import settings_for, until
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_matcher.runner import run_matcher
from verbund_matcher.store.database import create_engine, migrate, session_factory
from verbund_matcher.store.tables import OutboxRow, table_of
from verbund_runtime.kafka import client_options
from verbund_schemas import EventRejected, ParkedHeader, encode_event, load_topics, topic

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TODAY = dt.date(2030, 12, 2)


async def operator(*args: str) -> subprocess.CompletedProcess[str]:
    """The `verbund` command as an operator without the matcher's database runs it."""
    cli = str(Path(sys.executable).with_name("verbund"))
    env = {k: v for k, v in os.environ.items() if k != "VERBUND_DATABASE_URL"} | {"COLUMNS": "250"}
    return await asyncio.to_thread(subprocess.run, [cli, *args], capture_output=True, text=True, env=env, timeout=120)


async def everything_on(bootstrap: str, role: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of a topic up to its end as of now."""
    consumer = AIOKafkaConsumer(**client_options(bootstrap), group_id=None, enable_auto_commit=False)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        tps = [TopicPartition(topic(role), p) for p in range(load_topics()[role].partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        async with asyncio.timeout(30):
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def outbox_row(database_url: str, event_id: str) -> tuple[int, dt.datetime | None, dt.datetime | None]:
    check = create_async_engine(database_url)
    try:
        async with check.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT attempts, parked_at, sent_at FROM outbox WHERE event_id = :id"), {"id": event_id}
                )
            ).one()
    finally:
        await check.dispose()
    return int(row.attempts), row.parked_at, row.sent_at


async def test_an_outbox_event_kafka_refused_is_listed_and_replayed_without_a_database_url_and_arrives_once(
    kafka_bootstrap: str, fresh_postgres_url: str
) -> None:
    network_id = f"replay-{uuid.uuid4().hex[:8]}"
    big = EventRejected.of_record(
        service="matcher", topic=topic("inbound"), partition=0, offset=0, key=network_id, raw=b"x", reason="not JSON"
    )
    engine = create_engine(fresh_postgres_url)
    await migrate(engine)
    try:
        async with session_factory(engine)() as session, session.begin():
            # Bigger than the first matcher's producer may send (valid JSON, padded), within what the broker takes.
            await session.exec(
                insert(table_of(OutboxRow)).values(
                    event_id=big.id,
                    event_type=big.type,
                    topic_role="rejected",
                    key=network_id,
                    payload=encode_event(big).decode() + " " * 200_000,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
    finally:
        await engine.dispose()

    def notice_of_big(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        return any((ParkedHeader.EVENT_ID, big.id.encode()) in (r.headers or ()) for r in records)

    refusing = settings_for(kafka_bootstrap, fresh_postgres_url, relay_max_request_size=65_536, relay_max_attempts=2)
    async with run_matcher(refusing, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        notices = await consume(kafka_bootstrap, topic("parked"), until=notice_of_big, timeout=90)
    attempts, parked_at, _ = await outbox_row(fresh_postgres_url, big.id)
    assert attempts == 2 and parked_at is not None

    listing = await operator("parked", "list", "--bootstrap", kafka_bootstrap)
    assert listing.returncode == 0, listing.stderr
    (notice,) = [r for r in notices if notice_of_big([r])]
    parked_id = f"parked:{notice.partition}:{notice.offset}"
    (line,) = [line for line in listing.stdout.splitlines() if parked_id in line]
    assert "matcher relay" in line and network_id in line and "MessageSizeTooLarge" in line
    assert big.id in listing.stdout and "│ yes" not in line, "listed with its event id, not replayed yet"

    # The operator fixed the cause (here: a producer allowed larger requests) and replays it.
    fixed = settings_for(kafka_bootstrap, fresh_postgres_url)
    async with run_matcher(fixed, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        replayed = await operator("parked", "replay", "--id", parked_id, "--bootstrap", kafka_bootstrap)
        assert replayed.returncode == 0, replayed.stderr
        assert f"replayed {parked_id}" in replayed.stdout

        async def sent() -> bool:
            return (await outbox_row(fresh_postgres_url, big.id))[2] is not None

        await until(sent, timeout=90, every=0.3)
        again = await operator("parked", "replay", "--id", parked_id, "--bootstrap", kafka_bootstrap)
        assert again.returncode == 0, again.stderr
        await asyncio.sleep(2.0)  # time for the second request to be read: it must change nothing
    attempts, parked_at, sent_at = await outbox_row(fresh_postgres_url, big.id)
    on_topic = [r for r in await everything_on(kafka_bootstrap, "rejected") if big.id.encode() in r.value]
    after = await operator("parked", "list", "--bootstrap", kafka_bootstrap)

    assert parked_at is None and sent_at is not None and attempts == 0
    assert len(on_topic) == 1, f"the replayed event went out {len(on_topic)} times"
    assert on_topic[0].key == network_id.encode()
    (line,) = [line for line in after.stdout.splitlines() if parked_id in line]
    assert "│ yes" in line, line
