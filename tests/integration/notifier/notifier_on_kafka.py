"""Running the notifier against the real broker: its consumer groups start at the topics' ends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from verbund_notifier.app import NotifierApp, build
from verbund_notifier.clock import Clock
from verbund_notifier.settings import NotifierSettings
from verbund_runtime.kafka import client_options
from verbund_schemas import load_topics, topic

FAMILIES = ("inbound", "assignments", "shortfalls")


def fresh_group() -> str:
    return f"notifier-test-{uuid.uuid4().hex[:8]}"


async def start_groups_at_end(bootstrap: str, group_prefix: str) -> None:
    """Commit the current end offsets for each of the notifier's groups: a test reads only its own events."""
    for role in FAMILIES:
        consumer = AIOKafkaConsumer(
            **client_options(bootstrap), group_id=f"{group_prefix}.{role}", enable_auto_commit=False
        )
        await consumer.start()
        try:
            partitions = [TopicPartition(topic(role), p) for p in range(load_topics()[role].partitions)]
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in ends.items()})
        finally:
            await consumer.stop()


@asynccontextmanager
async def notifier_on_kafka(settings: NotifierSettings, clock: Clock) -> AsyncIterator[NotifierApp]:
    """The app as `python -m verbund_notifier` runs it: migrate, scheduler, broker, delivery worker."""
    built = build(settings, clock=clock)
    await built.notifier.prepare()
    await built.broker.start()
    await built.notifier.start_worker()
    try:
        yield built
    finally:
        await built.notifier.stop_worker()
        await built.broker.stop()
        await built.notifier.close()
