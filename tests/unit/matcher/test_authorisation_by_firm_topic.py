"""A record on a firm's own inbound topic is sent by that firm: every event type against every claimed sender."""

from __future__ import annotations

from typing import Any

import pytest
from test_authorisation import EVENTS, FIRM_MAY, NETWORK, event, sender, state
from verbund_matcher.domain.authorisation import authorise
from verbund_schemas import FIRM_EVENT_TYPES
from verbund_schemas.topics import firm_inbound

# The broker lets only firm-own write the topic `firm_inbound().member("own")`; the record may claim anything.
# (label, authcontext on the record or None, the events it may send)
CLAIMS: list[tuple[str, dict[str, Any] | None, set[str]]] = [
    ("no authcontext: the topic's firm", None, FIRM_MAY),
    ("firm A for its own firm", sender("firm", firm_id="own"), FIRM_MAY),
    ("firm A for firm B", sender("firm", firm_id="other"), set()),
    ("firm A of another network", sender("firm", "net-2", firm_id="own"), set()),
    ("coordinator of the network", sender("coordinator"), set()),
    ("coordinator of another network", sender("coordinator", "net-2"), set()),
    ("learner", sender("learner", learner_id="l-1"), set()),
    ("system", sender("system"), set()),
]


@pytest.mark.parametrize(
    ("claim", "authcontext", "allowed", "label", "event_type", "data"),
    [(*c, *e) for c in CLAIMS for e in EVENTS],
    ids=[f"on firm A's topic, {c[0]} | {e[0]}" for c in CLAIMS for e in EVENTS],
)
@pytest.mark.parametrize("require_sender", [False, True])
def test_a_firm_topic_record_may_do_what_the_topics_firm_may_and_nothing_else(
    claim: str,
    authcontext: dict[str, Any] | None,
    allowed: set[str],
    label: str,
    event_type: str,
    data: dict[str, Any],
    require_sender: bool,
) -> None:
    network = state()
    before = repr(network)
    refusal = authorise(event(event_type, data, authcontext), network, require_sender=require_sender, firm_topic="own")
    if label in allowed:
        assert refusal is None, f"{claim} should be allowed {label}: {refusal}"
    else:
        assert refusal is not None and refusal.startswith("not authorised: "), f"{claim} should be refused {label}"
    assert repr(network) == before


def test_a_firm_not_of_the_network_may_send_nothing_there_from_its_topic() -> None:
    offer = event(
        "CapacityOffered",
        {
            "offer_id": "new",
            "firm_id": "stranger",
            "module_id": "cnc",
            "first_week": "2027-W10",
            "last_week": "2027-W20",
            "max_seats": 2,
        },
        None,
    )
    refusal = authorise(offer, state(), require_sender=True, firm_topic="stranger")
    assert refusal == f"not authorised: firm principal 'firm-stranger': 'stranger' is not a firm of network {NETWORK!r}"


def test_a_claim_that_disagrees_with_the_topic_names_both() -> None:
    withdraw = event("CapacityWithdrawn", {"offer_id": "other-offer"}, sender("firm", firm_id="other"))
    refusal = authorise(withdraw, state(), require_sender=False, firm_topic="own")
    assert refusal == (
        "not authorised: CapacityWithdrawn came on the inbound topic of firm 'own', which only firm principal "
        "'firm-own' may write, but its authcontext names firm 'firm@net-1' of network 'net-1' acting for firm "
        "'other'; a firm's system sends as its own firm only"
    )


def test_the_firm_is_read_from_the_topic_name_of_the_family_only() -> None:
    family = firm_inbound()
    # topics.toml documents what a firm may send on its topic: what the contracts let a firm principal send.
    assert set(family.events) == FIRM_EVENT_TYPES
    assert family.member_of(family.member("rkt-aachen").name) == "rkt-aachen"
    assert family.member_of(family.like.name) is None
    assert family.member_of(family.prefix) is None
    assert family.member_of("elsewhere." + family.member("rkt-aachen").name) is None
    with pytest.raises(ValueError, match="cannot name a topic"):
        family.member("Firm B")
