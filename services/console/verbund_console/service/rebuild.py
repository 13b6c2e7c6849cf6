"""`verbund console rebuild`: drop the read model and fold every topic in again, from its first record to its end."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from verbund_runtime.kafka import client_options
from verbund_schemas import load_topics, topic
from verbund_schemas.topics import firm_inbound

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
        applied[role] = await _replay(ingest, bootstrap, topic(role), load_topics()[role].partitions)
        if role == "inbound":
            # The firms' own inbound topics after the shared one, whose registrations and offers their checks
            # read (services/console/verbund_console/domain/firm_topics.py).
            for name, partitions in (await _firm_topics(bootstrap)).items():
                applied[role] += await _replay(ingest, bootstrap, name, partitions)
    return applied


async def _firm_topics(bootstrap: str) -> dict[str, int]:
    """The firms' own inbound topics that exist, with their partition counts."""
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        # All topics this principal may see (asking for names would let a broker create missing ones).
        described: list[dict[str, Any]] = await admin.describe_topics(None)
    finally:
        await admin.close()
    return {
        t["topic"]: len(t["partitions"])
        for t in sorted(described, key=lambda t: str(t["topic"]))
        if t["error_code"] == 0 and t["partitions"] and firm_inbound().member_of(t["topic"]) is not None
    }


async def _replay(ingest: Ingest, bootstrap: str, name: str, partition_count: int) -> int:
    consumer = AIOKafkaConsumer(**client_options(bootstrap), group_id=None, enable_auto_commit=False)
    await consumer.start()
    count = 0
    try:
        partitions = [TopicPartition(name, p) for p in range(partition_count)]
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
