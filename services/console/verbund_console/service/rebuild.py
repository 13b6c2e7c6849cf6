"""`verbund console rebuild`: drop the read model and fold every topic in again, from its first record to its end."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from verbund_runtime.kafka import client_options
from verbund_schemas import load_topics, topic

from ..store.readmodel import ReadModel
from .ingest import Ingest

ROLES = ("inbound", "assignments", "shortfalls", "rejected")


async def rebuild(read_model: ReadModel, ingest: Ingest, bootstrap: str) -> dict[str, int]:
    """Events applied per topic. Reads to the end each topic had when the rebuild began; a running console's
    consumers go on from their own offsets (what both apply is deduplicated, and an older plan version never
    overwrites a newer one)."""
    await read_model.clear()
    applied: dict[str, int] = {}
    for role in ROLES:
        applied[role] = await _replay(ingest, bootstrap, role)
    return applied


async def _replay(ingest: Ingest, bootstrap: str, role: str) -> int:
    name = topic(role)
    consumer = AIOKafkaConsumer(**client_options(bootstrap), group_id=None, enable_auto_commit=False)
    await consumer.start()
    count = 0
    try:
        partitions = [TopicPartition(name, p) for p in range(load_topics()[role].partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=500)
            # Each fetched batch in one transaction, as the consumers do: one per record took half an hour
            # for a network of 10,000 learners.
            count += await ingest.records(
                [
                    (record.value, f"{record.topic}:{record.partition}:{record.offset}")
                    for tp, records in batches.items()
                    for record in records
                    if record.offset < ends[tp] and record.value is not None
                ]
            )
            for tp, records in batches.items():
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return count
