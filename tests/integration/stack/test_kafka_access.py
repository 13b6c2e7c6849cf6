"""The local broker lets no one in without a SCRAM password, and each principal only onto the topics its ACLs name."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from kafka_tools import consume, kcat_security_args, produce
from verbund_runtime.kafka import KafkaSecurity, client_options
from verbund_schemas.topics import firm_inbound, load_topics

from verbund.stack.access import alter_scram_user, grant, grants_for, new_password
from verbund.stack.kafka_local import broker_answers, fetch_kafka_jars, find_java, run_coroutine
from verbund.stack.topics import ensure_topics

pytestmark = [pytest.mark.kafka]

# Every test here fails first with an error of the kind it expects, then must not succeed by waiting.
_REFUSED_WITHIN = 20.0


def _kcat() -> str:
    found = shutil.which("kcat")
    assert found, "kcat is not on PATH; `make tools` installs it (Debian package kcat)"
    return found


def _principal(kafka_bootstrap: str, role: str, tmp_path: Path) -> KafkaSecurity:
    """A fresh SCRAM user on the session broker with the ACLs of `role` (the session runs as the super user)."""
    admin = KafkaSecurity.from_env()
    assert admin.sasl, "the session broker is expected to ask for SASL (tests/conftest.py sets VERBUND_KAFKA_*)"
    name = role if role.startswith("firm-") else f"{role}-{uuid.uuid4().hex[:8]}"
    password = new_password()
    alter_scram_user(find_java(), fetch_kafka_jars(), kafka_bootstrap, admin, name, password, tmp_path)
    run_coroutine(grant(kafka_bootstrap, admin, name, grants_for(role, load_topics())))
    return KafkaSecurity(protocol="SASL_PLAINTEXT", mechanism="SCRAM-SHA-512", username=name, password=password)


async def _produce_error(bootstrap: str, topic: str, security: KafkaSecurity) -> BaseException | None:
    producer = AIOKafkaProducer(
        **client_options(bootstrap, security), acks="all", enable_idempotence=True, request_timeout_ms=10_000
    )
    try:
        await producer.start()
        await producer.send_and_wait(topic, value=b"{}", key=b"network-acl")
    except KafkaError as exc:
        return exc
    finally:
        await producer.stop()
    return None


async def _read_error(bootstrap: str, topic: str, security: KafkaSecurity) -> BaseException | None:
    consumer = AIOKafkaConsumer(
        topic, **client_options(bootstrap, security), group_id=None, auto_offset_reset="earliest"
    )
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=int(_REFUSED_WITHIN * 1000))
    except KafkaError as exc:
        return exc
    finally:
        await consumer.stop()
    return None


async def test_a_client_without_credentials_is_refused(kafka_bootstrap: str) -> None:
    # The same check with the session's credentials answers: the refusal is about the credentials.
    assert await broker_answers(kafka_bootstrap)
    assert not await broker_answers(kafka_bootstrap, security=KafkaSecurity(), timeout_s=5.0)
    producer = AIOKafkaProducer(**client_options(kafka_bootstrap, KafkaSecurity()), request_timeout_ms=5000)
    with pytest.raises(KafkaConnectionError):
        await producer.start()
    await producer.stop()


def test_plain_kcat_is_refused_and_kcat_with_credentials_lists_the_topics(kafka_bootstrap: str) -> None:
    plain = subprocess.run(
        [_kcat(), "-b", kafka_bootstrap, "-L", "-m", "5"], capture_output=True, text=True, timeout=60, check=False
    )
    assert plain.returncode != 0, plain.stdout
    inbound = load_topics()["inbound"].name
    assert inbound not in plain.stdout
    signed_in = subprocess.run(
        [_kcat(), "-b", kafka_bootstrap, *kcat_security_args(kcat=_kcat()), "-L", "-m", "15"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert signed_in.returncode == 0, signed_in.stderr
    assert inbound in signed_in.stdout


async def test_a_wrong_password_is_refused(kafka_bootstrap: str) -> None:
    session = KafkaSecurity.from_env()
    wrong = KafkaSecurity(
        protocol=session.protocol, mechanism=session.mechanism, username=session.username, password="not-the-password"
    )
    assert not await broker_answers(kafka_bootstrap, security=wrong, timeout_s=5.0)
    producer = AIOKafkaProducer(**client_options(kafka_bootstrap, wrong), request_timeout_ms=5000)
    with pytest.raises(KafkaError):
        await producer.start()
    await producer.stop()


async def test_the_notifier_principal_cannot_produce_to_the_inbound_topic(kafka_bootstrap: str, tmp_path: Path) -> None:
    notifier = _principal(kafka_bootstrap, "notifier", tmp_path)
    topics = load_topics()
    # What its ACLs allow works: it writes its delivery log.
    assert await _produce_error(kafka_bootstrap, topics["notifications"].name, notifier) is None
    refused = await _produce_error(kafka_bootstrap, topics["inbound"].name, notifier)
    assert isinstance(refused, TopicAuthorizationFailedError), refused


async def test_a_firm_principal_produces_to_its_own_inbound_topic_only(kafka_bootstrap: str, tmp_path: Path) -> None:
    firm_id = f"acl-{uuid.uuid4().hex[:8]}"
    own_topic = firm_inbound().member(firm_id).name
    await ensure_topics(kafka_bootstrap, [firm_inbound().member(firm_id)])
    firm = _principal(kafka_bootstrap, f"firm-{firm_id}", tmp_path)
    topics = load_topics()
    marker = uuid.uuid4().hex
    await produce(kafka_bootstrap, own_topic, "network-acl", marker, security=firm)
    records = await consume(kafka_bootstrap, own_topic, until=lambda rs: any(r.value == marker.encode() for r in rs))
    assert records
    # Not the shared inbound topic: there the record would not say which firm sent it.
    refused = await _produce_error(kafka_bootstrap, topics["inbound"].name, firm)
    assert isinstance(refused, TopicAuthorizationFailedError), refused

    for outbound in ("assignments", "shortfalls", "rejected"):
        refused = await _produce_error(kafka_bootstrap, topics[outbound].name, firm)
        assert isinstance(refused, TopicAuthorizationFailedError), (outbound, refused)
        unread = await _read_error(kafka_bootstrap, topics[outbound].name, firm)
        assert isinstance(unread, (TopicAuthorizationFailedError, ClusterAuthorizationFailedError)), (outbound, unread)
    # Not even what it wrote itself: reading inbound is the matcher's and the console's right.
    for inbound in (topics["inbound"].name, own_topic):
        unread = await _read_error(kafka_bootstrap, inbound, firm)
        assert isinstance(unread, TopicAuthorizationFailedError), (inbound, unread)
