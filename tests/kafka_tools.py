"""Producing to and consuming from a real Kafka topic in tests, with timeouts that say what was missing."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.structs import RecordMetadata
from verbund_runtime.kafka import KafkaSecurity, client_options

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
    security: KafkaSecurity | None = None,
) -> RecordMetadata:
    """Send one record (str as UTF-8, a mapping as JSON) and wait until the broker has it.

    `security`: who sends it (None: as VERBUND_KAFKA_* say, the session broker's super user).
    """
    producer = AIOKafkaProducer(**client_options(bootstrap, security), acks="all", enable_idempotence=True)
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
    security: KafkaSecurity | None = None,
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
        **client_options(bootstrap, security),
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


def librdkafka_scram_works_with_kafka_4(kcat: str) -> bool:
    """librdkafka before 2.6.1 sends a SCRAM proof Kafka 4 rejects (confluentinc/librdkafka#4895)."""
    version = subprocess.run([kcat, "-V"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"librdkafka (\d+)\.(\d+)\.(\d+)", version)
    return found is not None and tuple(int(p) for p in found.groups()) >= (2, 6, 1)


def kcat_security_args(security: KafkaSecurity | None = None, kcat: str = "kcat") -> list[str]:
    """kcat's -X options for the same security as the Python clients (None: as VERBUND_KAFKA_* say).

    With an older librdkafka the local broker's PLAIN login for its own principals stands in for SCRAM.
    """
    chosen = security if security is not None else KafkaSecurity.from_env()
    args = ["-X", f"security.protocol={chosen.protocol}"]
    if chosen.sasl:
        mechanism = chosen.mechanism
        if mechanism.startswith("SCRAM") and not librdkafka_scram_works_with_kafka_4(kcat):
            mechanism = "PLAIN"
        args += [
            "-X",
            f"sasl.mechanisms={mechanism}",
            "-X",
            f"sasl.username={chosen.username}",
            "-X",
            f"sasl.password={chosen.password}",
        ]
    if chosen.ssl_cafile:
        args += ["-X", f"ssl.ca.location={chosen.ssl_cafile}"]
    return args
