"""The directory reads firms' own inbound topics: there a firm updates its own contact, and nothing else."""

from __future__ import annotations

import notifier_factories as f
from prometheus_client import REGISTRY
from verbund_notifier.app import NotifierApp
from verbund_notifier.store.tables import Party
from verbund_schemas import Contact, Envelope, FirmUpdated, LearnerErased, LearnerErasedData, encode_event, topic
from verbund_schemas.topics import firm_inbound

OWN, OTHER = "meier-spritzguss", "huber-stammwerk"


def update(firm_id: str, email: str) -> FirmUpdated:
    registered = f.firm(firm_id, f"Firm {firm_id}", Contact(name="Kontakt", email=email))
    return FirmUpdated(**f.stated(), subject=f.NETWORK, data=registered.data)


async def send(app: NotifierApp, topic_name: str, event: Envelope) -> None:
    await app.broker.publish(encode_event(event), topic_name, key=f.NETWORK.encode())


async def email_of(app: NotifierApp, role: str, party_id: str) -> str | None:
    async with app.notifier.sessions() as session:
        party = await session.get(Party, (f.NETWORK, role, party_id))
        return None if party is None else party.email


def unauthorised(topic_name: str) -> float:
    sample = REGISTRY.get_sample_value(
        "verbund_notifier_rejected_total", {"topic": topic_name, "cause": "unauthorised"}
    )
    return sample or 0.0


async def test_a_firm_updates_its_own_contact_on_its_topic_but_not_another_firms_nor_erases_a_learner(
    running: NotifierApp,
) -> None:
    for event in (
        f.network(),
        f.firm(OWN, "Meier", Contact(name="Herr Meier", email="meier@example.org")),
        f.firm(OTHER, "Huber", Contact(name="Frau Huber", email="huber@example.org")),
        f.learner(),
    ):
        await send(running, topic("inbound"), event)
    own_topic = firm_inbound().member(OWN).name
    before = unauthorised(own_topic)

    await send(running, own_topic, update(OWN, "ausbildung@meier.example.org"))
    await send(running, own_topic, update(OTHER, "phish@meier.example.org"))
    await send(
        running, own_topic, LearnerErased(**f.stated(), subject=f.NETWORK, data=LearnerErasedData(learner_id=f.LEARNER))
    )

    assert await email_of(running, "firm", OWN) == "ausbildung@meier.example.org"
    assert await email_of(running, "firm", OTHER) == "huber@example.org"
    assert await email_of(running, "learner", f.LEARNER) == f.LEARNER_EMAIL
    assert unauthorised(own_topic) == before + 2
