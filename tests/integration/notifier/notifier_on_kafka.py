"""Running the notifier against the real broker: its consumer groups start at the topics' ends."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from notifier_harness import free_port, notifier_settings
from verbund_matcher.runner import run_matcher
from verbund_matcher.settings import MatcherSettings
from verbund_notifier.app import NotifierApp, build
from verbund_notifier.clock import Clock
from verbund_notifier.settings import NotifierSettings
from verbund_runtime.kafka import client_options
from verbund_runtime.keyring import HttpKeyring
from verbund_schemas import Envelope, load_topics, topic

from verbund.mailsink import MailSink
from verbund.publish import send_events

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


def in_network(event: Envelope, network: str) -> Envelope:
    """The event moved into a network of the test's own, so what it reads back from the topics is its own."""
    return event.model_copy(update={"subject": network})


def mentioning(tables: dict[str, list[str]], names: tuple[str, ...]) -> dict[str, int]:
    """For each table with rows naming any of `names` (case aside), how many rows do."""
    found = {
        table: sum(any(n.casefold() in row.casefold() for n in names) for row in rows) for table, rows in tables.items()
    }
    return {table: count for table, count in found.items() if count}


@dataclass(frozen=True)
class KeyServingMatcher:
    """A matcher serving the data keys on its health port, and a notifier opening sealed contacts through it."""

    matcher: MatcherSettings
    notifier: NotifierSettings
    keys_url: str
    token: str


async def key_serving_matcher(
    bootstrap: str,
    matcher_database_url: str,
    notifier_database_url: str,
    mail_sink: MailSink,
    master_key_file: str,
    **notifier_overrides: Any,
) -> KeyServingMatcher:
    """The matcher's settings with its key endpoint open to a fresh token, and the notifier's settings for a fresh
    group started at the topics' ends that read keys from that endpoint."""
    token = secrets.token_urlsafe(32)
    port = free_port()
    keys_url = f"http://127.0.0.1:{port}"
    matcher = MatcherSettings(
        database_url=matcher_database_url,
        kafka_bootstrap_servers=bootstrap,
        group_id=f"matcher-test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="latest",
        health_port=port,
        key_service_token=token,
        master_key_file=master_key_file,
        full_reoptimise_interval=0,
        solver_workers=1,
        log_json=False,
    )
    group = fresh_group()
    await start_groups_at_end(bootstrap, group)
    notifier = notifier_settings(
        notifier_database_url,
        mail_sink,
        kafka_bootstrap_servers=bootstrap,
        notifier_group_id=group,
        key_service_url=keys_url,
        key_service_token=token,
        **notifier_overrides,
    )
    return KeyServingMatcher(matcher, notifier, keys_url, token)


async def registered_and_placed(
    bootstrap: str, keyring: HttpKeyring, registrations: Sequence[Envelope], placement: Envelope, mail_sink: MailSink
) -> None:
    """The registrations sent sealed through `keyring`, then the placement as the matcher publishes it; returns once
    the notifier has mailed the learner and the host firm's contact about it."""
    await send_events(list(registrations), bootstrap, topic("inbound"), keyring)
    await send_events([placement], bootstrap, topic("assignments"))
    await mail_sink.until(2, within=60)


@asynccontextmanager
async def matcher_serving_keys(pair: KeyServingMatcher) -> AsyncIterator[HttpKeyring]:
    """The matcher running and consuming, with a keyring on its key endpoint; the keyring closed afterwards."""
    keyring = HttpKeyring(pair.keys_url, pair.token)
    try:
        async with run_matcher(pair.matcher) as running:
            await running.until_consuming()
            yield keyring
    finally:
        await keyring.close()
