"""Producing to and consuming from a real Kafka topic in tests, with timeouts that say what was missing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.structs import RecordMetadata

Payload = bytes | str | Mapping[str, Any]


def _encode(value: Payload | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


async def produce(
    bootstrap: str,
    topic: str,
    key: bytes | str | None,
    value: Payload | None,
    *,
    headers: Sequence[tuple[str, bytes]] = (),
) -> RecordMetadata:
    """Send one record (str as UTF-8, a mapping as JSON) and wait until the broker has it."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        metadata: RecordMetadata = await producer.send_and_wait(
            topic, value=_encode(value), key=_encode(key), headers=list(headers)
        )
        return metadata
    finally:
        await producer.stop()


async def consume(
    bootstrap: str,
    topic: str,
    *,
    until: int | Callable[[list[ConsumerRecord[bytes, bytes]]], bool] = 1,
    timeout: float = 30.0,  # noqa: ASYNC109 - the one knob tests need; raising with the records read is the point
    from_beginning: bool = True,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read a topic (all partitions, no consumer group) until `until` records arrived or `until(records)` holds.

    Raises AssertionError after `timeout` seconds, listing what did arrive. With from_beginning=False only
    records produced after the consumer got its partitions count, so start it before producing.
    """
    done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool] = (
        (lambda records: len(records) >= until) if isinstance(until, int) else until
    )
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(timeout):
            while not done(records):
                batches = await consumer.getmany(timeout_ms=200)
                for partition_records in batches.values():
                    records.extend(partition_records)
    except TimeoutError:
        seen = [(r.key, (r.value or b"")[:200]) for r in records]
        raise AssertionError(
            f"waited {timeout} s on topic {topic!r} at {bootstrap}; the condition did not hold. "
            f"{len(records)} record(s) arrived (key, value): {seen}"
        ) from None
    finally:
        await consumer.stop()
    return records
