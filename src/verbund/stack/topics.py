"""Creating Verbund's topics (infra/topics.toml) on a Kafka cluster; existing topics are left as they are."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import for_code
from verbund_runtime.kafka import KafkaSecurity, client_options
from verbund_schemas.topics import Topic, load_topics

_TOPIC_ALREADY_EXISTS = 36
_MAX_REPLICATION = 3


class TopicSetupError(RuntimeError):
    """A topic could not be created or did not become usable."""


@dataclass(frozen=True)
class TopicReport:
    """What ensure_topics found and did."""

    created: tuple[str, ...]
    existing: tuple[str, ...]
    # Existing topics whose partition count differs from topics.toml (Kafka cannot shrink them; growing
    # them would move keys to other partitions, so it is left to the operator).
    partition_mismatches: tuple[tuple[str, int, int], ...]


def _partition_counts(described: list[dict[str, Any]]) -> dict[str, int]:
    return {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0 and t["partitions"]}


def _all_leaders_known(described: list[dict[str, Any]], names: set[str]) -> bool:
    usable = {
        t["topic"]
        for t in described
        if t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
    }
    return names <= usable


async def _describe(admin: AIOKafkaAdminClient, names: set[str]) -> list[dict[str, Any]]:
    # Asking for named topics would let a broker with auto.create.topics.enable create them on the spot
    # with default partitions; asking for all topics never creates any.
    described: list[dict[str, Any]] = await admin.describe_topics(None)
    return [t for t in described if t["topic"] in names]


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[Topic] | None = None,
    *,
    timeout_s: float = 60.0,
    security: KafkaSecurity | None = None,
) -> TopicReport:
    """Create the topics that do not exist yet (partitions, retention.ms, cleanup.policy from topics.toml).

    Waits until every topic has a leader for each partition, so producers can use them at once. The
    replication factor is the number of brokers, at most 3. `security` needs the right to create topics
    (None: as VERBUND_KAFKA_* say).
    """
    wanted = list(topics) if topics is not None else list(load_topics().values())
    names = {t.name for t in wanted}
    admin = AIOKafkaAdminClient(**client_options(bootstrap_servers, security), request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        cluster = await admin.describe_cluster()
        replication = max(1, min(_MAX_REPLICATION, len(cluster["brokers"])))
        present = _partition_counts(await _describe(admin, names))
        missing = [t for t in wanted if t.name not in present]
        created: list[str] = []
        if missing:
            response = await admin.create_topics(
                [
                    NewTopic(
                        name=t.name,
                        num_partitions=t.partitions,
                        replication_factor=replication,
                        topic_configs={"retention.ms": str(t.retention_ms), "cleanup.policy": t.cleanup_policy},
                    )
                    for t in missing
                ],
                timeout_ms=int(timeout_s * 1000),
            )
            for entry in response.topic_errors:
                name, code = entry[0], entry[1]
                message = entry[2] if len(entry) > 2 else None
                if code == 0:
                    created.append(name)
                elif code != _TOPIC_ALREADY_EXISTS:  # someone else created it meanwhile: fine
                    raise TopicSetupError(
                        f"Kafka at {bootstrap_servers} refused to create topic {name!r}: "
                        f"{for_code(code).__name__} {message or ''}".rstrip()
                        + ". Check the broker's permissions (ACLs) and limits, or create it by hand "
                        "as infra/topics.toml describes."
                    )
        deadline = time.monotonic() + timeout_s
        while True:
            described = await _describe(admin, names)
            if _all_leaders_known(described, names):
                break
            if time.monotonic() > deadline:
                raise TopicSetupError(
                    f"Topics {sorted(names)} did not get partition leaders on {bootstrap_servers} within "
                    f"{timeout_s:.0f} s; check the brokers' logs."
                )
            await asyncio.sleep(0.2)
        counts = _partition_counts(described)
        mismatches = tuple(
            (t.name, t.partitions, counts[t.name])
            for t in wanted
            if t.name not in created and counts.get(t.name, t.partitions) != t.partitions
        )
        existing = tuple(sorted(names - set(created)))
        return TopicReport(created=tuple(sorted(created)), existing=existing, partition_mismatches=mismatches)
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


async def delete_topics(
    bootstrap_servers: str, names: Iterable[str], *, timeout_s: float = 60.0, security: KafkaSecurity | None = None
) -> None:
    """Delete topics that exist (missing ones are ignored): how a test run cleans up on a shared cluster."""
    wanted = set(names)
    admin = AIOKafkaAdminClient(**client_options(bootstrap_servers, security), request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        present = [t["topic"] for t in await _describe(admin, wanted)]
        if present:
            await admin.delete_topics(present, timeout_ms=int(timeout_s * 1000))
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
