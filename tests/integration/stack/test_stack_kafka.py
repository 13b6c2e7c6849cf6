"""The Kafka part of the local stack: the session broker, Verbund's topics on it, and LocalKafka itself."""

from __future__ import annotations

import socket
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from kafka_tools import consume, produce
from verbund_runtime.kafka import client_options
from verbund_schemas.topics import load_topics

from verbund.stack.kafka_local import (
    KafkaStartError,
    LocalKafka,
    broker_answers,
    fetch_kafka_jars,
    kafka_libs_dir,
)
from verbund.stack.processes import pid_alive
from verbund.stack.topics import ensure_topics

pytestmark = pytest.mark.kafka


async def test_every_topic_of_topics_toml_exists_with_its_partitions_retention_and_cleanup_policy(
    kafka_bootstrap: str,
) -> None:
    wanted = load_topics()
    admin = AIOKafkaAdminClient(**client_options(kafka_bootstrap))
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics(None)}
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t.name) for t in wanted.values()]
        )
    finally:
        await admin.close()
    configs: dict[str, dict[str, str]] = {}
    for response in responses:
        for _code, _message, _type, name, entries in response.resources:
            configs[name] = {entry[0]: entry[1] for entry in entries}
    for topic in wanted.values():
        assert topic.name.startswith("test-"), "the session prefix isolates this run's topics"
        assert len(described[topic.name]["partitions"]) == topic.partitions, topic.name
        assert configs[topic.name]["retention.ms"] == str(topic.retention_ms), topic.name
        assert configs[topic.name]["cleanup.policy"] == topic.cleanup_policy, topic.name


async def test_creating_the_topics_again_changes_nothing(kafka_bootstrap: str) -> None:
    report = await ensure_topics(kafka_bootstrap)

    assert report.created == ()
    assert set(report.existing) == {t.name for t in load_topics().values()}
    assert report.partition_mismatches == ()


async def test_a_produced_record_is_consumed_with_its_key_and_value(kafka_bootstrap: str) -> None:
    topic = load_topics()["inbound"].name
    marker = uuid.uuid4().hex

    sent = await produce(kafka_bootstrap, topic, "network-stack-test", {"marker": marker})
    records = await consume(
        kafka_bootstrap, topic, until=lambda rs: any(marker.encode() in (r.value or b"") for r in rs), timeout=30
    )

    mine = [r for r in records if marker.encode() in (r.value or b"")]
    assert len(mine) == 1
    assert mine[0].key == b"network-stack-test"
    assert (mine[0].partition, mine[0].offset) == (sent.partition, sent.offset)


async def test_local_broker_answers_metadata_and_leaves_nothing_behind_when_stopped() -> None:
    async with LocalKafka() as kafka:
        pid = kafka.pid
        run_dir = kafka.run_dir
        assert await broker_answers(kafka.bootstrap_servers, security=kafka.admin_security)
        assert (run_dir / "kafka.log").is_file()

    assert pid is not None and not pid_alive(pid)
    assert not run_dir.exists()


def test_local_broker_on_a_taken_port_fails_with_the_log_tail_and_what_to_check() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        kafka = LocalKafka(port=taken)
        with pytest.raises(KafkaStartError) as failure:
            kafka.start(timeout=90)
    try:
        message = str(failure.value)
        assert "exited during start" in message
        assert str(kafka.log_file) in message
        assert "port the broker wanted is in use" in message
        assert kafka.pid is None, "the failed process is reaped"
    finally:
        kafka.stop()


def test_cached_jars_are_used_without_maven(monkeypatch: pytest.MonkeyPatch) -> None:
    libs = fetch_kafka_jars()
    monkeypatch.setenv("PATH", "/nonexistent")  # no mvn (nor anything else) can be found now

    assert fetch_kafka_jars() == libs == kafka_libs_dir()
    assert any(libs.glob("kafka_2.13-*.jar"))
