"""On the secured broker: a firm's system, with its own credentials, acts through its own topic for its firm only."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError
from forced_network import ForcedNetwork
from kafka_tools import consume
from matcher_harness import events_of, produce_events, settings_for, until
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_matcher.runner import run_matcher
from verbund_runtime.kafka import KafkaSecurity, client_options
from verbund_schemas import topic
from verbund_schemas.topics import firm_inbound, load_topics

from verbund.stack.access import alter_scram_user, grant, grants_for, new_password
from verbund.stack.kafka_local import fetch_kafka_jars, find_java, run_coroutine
from verbund.stack.topics import ensure_topics

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TODAY = dt.date(2030, 12, 2)


def _principal(bootstrap: str, name: str, role: str, tmp_path: Path) -> KafkaSecurity:
    """A SCRAM user on the session broker with the ACLs `verbund stack` gives `role` (the session is super user)."""
    admin = KafkaSecurity.from_env()
    assert admin.sasl, "the session broker is expected to ask for SASL (tests/conftest.py sets VERBUND_KAFKA_*)"
    password = new_password()
    alter_scram_user(find_java(), fetch_kafka_jars(), bootstrap, admin, name, password, tmp_path)
    run_coroutine(grant(bootstrap, admin, name, grants_for(role, load_topics())))
    return KafkaSecurity(protocol="SASL_PLAINTEXT", mechanism="SCRAM-SHA-512", username=name, password=password)


async def _send(bootstrap: str, topic_name: str, events: list[dict[str, Any]], security: KafkaSecurity) -> None:
    """Produce in order, as a firm's system does: keyed by network, with the firm's own credentials."""
    producer = AIOKafkaProducer(**client_options(bootstrap, security), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for e in events:
            await producer.send_and_wait(topic_name, value=json.dumps(e).encode(), key=e["subject"].encode())
    finally:
        await producer.stop()


async def _produce_refusal(bootstrap: str, topic_name: str, security: KafkaSecurity) -> BaseException | None:
    producer = AIOKafkaProducer(
        **client_options(bootstrap, security), acks="all", enable_idempotence=True, request_timeout_ms=10_000
    )
    try:
        await producer.start()
        await producer.send_and_wait(topic_name, value=b"{}", key=b"network-firm-topics")
    except KafkaError as exc:
        refusal: BaseException = exc
        return refusal
    finally:
        await producer.stop()
    return None


async def _offers(database_url: str, network: str) -> dict[str, dict[str, Any]]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT offer_id, payload FROM offers WHERE network_id = :n"), {"n": network}
            )
            return {
                offer_id: payload if isinstance(payload, dict) else json.loads(payload) for offer_id, payload in rows
            }
    finally:
        await engine.dispose()


def _claims(network: str, firm_id: str) -> dict[str, Any]:
    return {
        "authtype": "service_account",
        "principalid": f"firm-{firm_id}",
        "role": "firm",
        "network_id": network,
        "firm_id": firm_id,
    }


async def test_a_firms_system_acts_for_its_own_firm_through_its_topic_and_for_no_other(
    kafka_bootstrap: str, fresh_postgres_url: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    firm_a, firm_b = f"a{run}", f"b{run}"
    family = firm_inbound()
    a_topic, b_topic = family.member(firm_a), family.member(firm_b)
    # What `verbund stack add-client` does for each firm: its topic, its principal, its one WRITE grant.
    await ensure_topics(kafka_bootstrap, [a_topic, b_topic])
    firm_a_system = _principal(kafka_bootstrap, f"firm-{firm_a}", f"firm-{firm_a}", tmp_path)
    # The matcher runs as a principal with the matcher's grants: prefixed READ on the firms' topics.
    matcher = _principal(kafka_bootstrap, f"matcher-{run}", "matcher", tmp_path)

    n = ForcedNetwork(f"firm-topics-{run}")
    nid = n.network_id
    setup = [
        *n.setup(),
        n._event("FirmRegistered", {"firm_id": firm_a, "name": "Firm A", "location": {"city": "Aachen"}}),
        n._event("FirmRegistered", {"firm_id": firm_b, "name": "Firm B", "location": {"city": "Bonn"}}),
        n._event("CapacityOffered", n._offer("OB", firm_b, "M1")),
    ]
    own_offer = n._event("CapacityOffered", n._offer("OA", firm_a, "M1"))
    offer_for_b = n._event("CapacityOffered", n._offer("OX", firm_b, "M1"))
    own_payload_claiming_b = {
        **n._event("CapacityOffered", n._offer("OY", firm_a, "M1")),
        "authcontext": _claims(nid, firm_b),
    }
    change_bs_offer = {
        **n._event("CapacityChanged", {"offer_id": "OB", "max_seats": 9}),
        "authcontext": _claims(nid, firm_a),
    }
    register_learner = n._event(
        "LearnerRegistered",
        {
            "learner_id": "LX",
            "name": "Learner X",
            "contact": {"name": "Learner X", "email": "lx@example.org"},
            "curriculum_id": "C-FORCED",
            "first_week": "2031-W01",
            "last_week": "2031-W04",
        },
    )
    own_change = n._event("CapacityChanged", {"offer_id": "OA", "max_seats": 5})
    refused = [offer_for_b, own_payload_claiming_b, change_bs_offer, register_learner]

    settings = settings_for(
        kafka_bootstrap,
        fresh_postgres_url,
        group_id=f"verbund-matcher-firm-topics-{run}",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_username=matcher.username,
        kafka_password=matcher.password,
    )
    async with run_matcher(settings, today=lambda: TODAY) as running:
        await running.until_consuming()
        await produce_events(kafka_bootstrap, setup)

        async def set_up() -> bool:
            return "OB" in await _offers(fresh_postgres_url, nid)

        await until(set_up, timeout=60)
        await _send(kafka_bootstrap, a_topic.name, [own_offer, *refused, own_change], firm_a_system)

        async def own_change_applied() -> bool:
            return (await _offers(fresh_postgres_url, nid)).get("OA", {}).get("max_seats") == 5

        # One topic, one key, one partition: once the last is applied, the refused ones before it were handled.
        await until(own_change_applied, timeout=60)
        rejected = await consume(
            kafka_bootstrap, topic("rejected"), until=lambda rs: len(events_of(rs, {nid})) >= len(refused), timeout=60
        )
        offers = await _offers(fresh_postgres_url, nid)

    reasons = {r["data"]["original_event_id"]: r["data"]["reason"] for r in events_of(rejected, {nid})}
    assert set(reasons) == {e["id"] for e in refused}, reasons
    assert all(reason.startswith("not authorised: ") for reason in reasons.values()), reasons
    assert f"may not offer capacity of '{firm_b}'" in reasons[offer_for_b["id"]]
    assert f"authcontext names firm 'firm-{firm_b}'" in reasons[own_payload_claiming_b["id"]]
    assert "may not change offer 'OB' of another firm" in reasons[change_bs_offer["id"]]
    assert "may not send LearnerRegistered" in reasons[register_learner["id"]]
    # Firm A's own offer is there, as changed; firm B's is as its coordinator offered it; nothing else appeared.
    assert set(offers) == {"O1", "O2", "OA", "OB"}
    assert offers["OA"]["firm_id"] == firm_a and offers["OA"]["max_seats"] == 5
    assert offers["OB"]["max_seats"] == n._offer("OB", firm_b, "M1")["max_seats"]


async def test_a_firms_principal_cannot_write_another_firms_topic_or_the_shared_inbound_topic(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    firm_a, firm_b = f"a{run}", f"b{run}"
    family = firm_inbound()
    await ensure_topics(kafka_bootstrap, [family.member(firm_a), family.member(firm_b)])
    firm_a_system = _principal(kafka_bootstrap, f"firm-{firm_a}", f"firm-{firm_a}", tmp_path)

    # What its grant allows works: the refusals below are about the topic, not the credentials.
    assert await _produce_refusal(kafka_bootstrap, family.member(firm_a).name, firm_a_system) is None
    for elsewhere in (family.member(firm_b).name, topic("inbound")):
        refusal = await _produce_refusal(kafka_bootstrap, elsewhere, firm_a_system)
        assert isinstance(refusal, TopicAuthorizationFailedError), (elsewhere, refusal)
