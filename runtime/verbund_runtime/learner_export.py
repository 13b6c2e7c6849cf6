"""What Verbund holds about one learner, gathered through the topics and the matcher's endpoint into one file.

`verbund learner export` writes it; the console offers the same file for download on a learner's page.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from verbund_schemas import Keyring, PersonalDataErased, open_event, topic

from verbund_runtime.kafka import KafkaSecurity, client_options

EXPORT_VERSION = 1

# Where each part of the file comes from; the inbound topic keeps 30 days, so the matcher's record is the
# registration as it stands, the topics add its history as far as they reach.
TOPIC_ROLES = ("inbound", "assignments", "shortfalls", "notifications")

NO_NOTIFIER = (
    "The texts of the messages sent are held by the notifier, whose endpoint was not configured for this export "
    "(VERBUND_NOTIFIER_URL); the delivery log says what was sent when and how. "
)


def concerns(event: dict[str, Any], learner_id: str) -> bool:
    """Whether an event read from a topic is about the learner (their own id, never a name)."""
    data = event.get("data")
    if not isinstance(data, dict):
        return False
    return data.get("learner_id") == learner_id or data.get("recipient") == f"learner:{learner_id}"


async def read_topic(
    bootstrap: str, topic_name: str, network_id: str, security: KafkaSecurity | None = None
) -> list[dict[str, Any]]:
    """Every event of the network on the topic, from its first offset to the end as it is now (as `security`
    says, else as VERBUND_KAFKA_* do)."""
    consumer = AIOKafkaConsumer(
        topic_name,
        **client_options(bootstrap, security),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        # Without a group the consumer takes every partition of the topic once it has the topic's metadata.
        for _ in range(100):
            partitions = sorted(consumer.assignment(), key=lambda tp: tp.partition)
            if partitions:
                break
            await asyncio.sleep(0.1)
        else:
            raise KafkaError(f"no partitions of {topic_name} were assigned within 10 s")
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        events: list[dict[str, Any]] = []

        async def behind() -> bool:
            for partition, end in ends.items():
                if await consumer.position(partition) < end:
                    return True
            return False

        while await behind():
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    if record.key != network_id.encode() or record.value is None:
                        continue
                    try:
                        event = json.loads(record.value)
                    except ValueError:
                        continue
                    if isinstance(event, dict):
                        events.append(event)
        return events
    finally:
        await consumer.stop()


async def matcher_record(url: str, token: str, network_id: str, learner_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=15) as client:
        response = await client.get(
            f"/learners/{network_id}/{learner_id}", headers={"authorization": f"Bearer {token}"}
        )
    response.raise_for_status()
    record: dict[str, Any] = response.json()
    return record


async def notifier_messages(url: str, token: str, network_id: str, learner_id: str) -> list[dict[str, Any]]:
    """The messages the notifier holds for the learner (subject, text, calendar entry, when sent, delivery state),
    from its machine endpoint `GET /messages/{network}/{learner}`, never from its tables."""
    async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=15) as client:
        response = await client.get(
            f"/messages/{network_id}/{learner_id}", headers={"authorization": f"Bearer {token}"}
        )
    response.raise_for_status()
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


async def opened(event: dict[str, Any], keyring: Keyring) -> dict[str, Any]:
    """The event with its personal fields in clear text, or marked unreadable when the learner was erased."""
    try:
        return await open_event(event, keyring)
    except PersonalDataErased:
        data = {k: v for k, v in event.get("data", {}).items() if k != "personal"}
        return {**event, "data": {**data, "personal": "erased: the key is destroyed"}}


async def gather(
    bootstrap: str,
    keyring: Keyring,
    url: str,
    token: str,
    network_id: str,
    learner_id: str,
    security: KafkaSecurity | None = None,
    notifier_url: str | None = None,
) -> dict[str, Any]:
    """The export: the matcher's record of the learner, the messages the notifier holds for them (from
    `notifier_url`, with the same token), and every event about them that the topics still hold."""
    record = await matcher_record(url, token, network_id, learner_id)
    held_messages = (
        await notifier_messages(notifier_url, token, network_id, learner_id) if notifier_url is not None else None
    )
    history: dict[str, list[dict[str, Any]]] = {}
    for role in TOPIC_ROLES:
        found = await read_topic(bootstrap, topic(role), network_id, security)
        events = [e for e in found if concerns(e, learner_id)]
        history[role] = [await opened(e, keyring) for e in events]
    return {
        "export_version": EXPORT_VERSION,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "network_id": network_id,
        "learner_id": learner_id,
        "held_by_the_matcher": record,
        "registrations": history["inbound"],
        "plan_history": history["assignments"],
        "shortfalls": history["shortfalls"],
        "messages": history["notifications"],
        "messages_held_by_the_notifier": held_messages,
        "not_included": (
            ("" if held_messages is not None else NO_NOTIFIER)
            + "Events older than each topic's retention, and messages older than the notifier's delivery retention, "
            "are no longer held anywhere."
        ),
    }
