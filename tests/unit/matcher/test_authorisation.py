"""Who may send what: every inbound event type against every kind of sender, allowed or refused."""

from __future__ import annotations

from typing import Any

import pytest
from verbund_matcher.domain.authorisation import authorise
from verbund_matcher.domain.network import NetworkState
from verbund_schemas import INBOUND_TYPES, CapacityOfferedData, Envelope, FirmData, load_event

NETWORK = "net-1"
TIME = "2027-01-04T08:00:00Z"
CONTACT = {"name": "Ada", "email": "ada@example.org"}
FIRM = {"name": "Firm", "location": {"city": "Aachen"}}
OFFER = {"module_id": "cnc", "first_week": "2027-W10", "last_week": "2027-W20", "max_seats": 2}
LEARNER = {
    "learner_id": "l-1",
    "name": "Lea",
    "contact": CONTACT,
    "curriculum_id": "c-1",
    "first_week": "2027-W01",
    "last_week": "2029-W52",
}

PLACEMENT = {"learner_id": "l-1", "module_id": "cnc", "start_week": "2027-W10", "answer": "declined", "reason": "full"}

# (label, type, data): for the firm events, one about the sending firm's own things and one about another's.
EVENTS: list[tuple[str, str, dict[str, Any]]] = [
    ("NetworkConfigured", "NetworkConfigured", {"name": "Verbund"}),
    (
        "CurriculumPublished",
        "CurriculumPublished",
        {
            "curriculum_id": "c-1",
            "name": "Plan",
            "modules": [{"module_id": "cnc", "name": "CNC", "duration_weeks": 4}],
            "groups": [{"group_id": "g", "name": "G", "module_ids": ["cnc"], "required": 1}],
        },
    ),
    ("FirmRegistered", "FirmRegistered", {"firm_id": "own", **FIRM}),
    ("FirmUpdated own", "FirmUpdated", {"firm_id": "own", **FIRM}),
    ("FirmUpdated other", "FirmUpdated", {"firm_id": "other", **FIRM}),
    ("FirmLeft own", "FirmLeft", {"firm_id": "own"}),
    ("CapacityOffered own", "CapacityOffered", {"offer_id": "new", "firm_id": "own", **OFFER}),
    ("CapacityOffered other", "CapacityOffered", {"offer_id": "new", "firm_id": "other", **OFFER}),
    ("CapacityOffered own, other's id", "CapacityOffered", {"offer_id": "other-offer", "firm_id": "own", **OFFER}),
    ("CapacityChanged own", "CapacityChanged", {"offer_id": "own-offer", "max_seats": 3}),
    ("CapacityChanged other", "CapacityChanged", {"offer_id": "other-offer", "max_seats": 3}),
    ("CapacityWithdrawn own", "CapacityWithdrawn", {"offer_id": "own-offer"}),
    ("CapacityWithdrawn other", "CapacityWithdrawn", {"offer_id": "other-offer"}),
    ("LearnerRegistered", "LearnerRegistered", LEARNER),
    ("LearnerUpdated", "LearnerUpdated", LEARNER),
    ("LearnerWithdrawn", "LearnerWithdrawn", {"learner_id": "l-1"}),
    ("LearnerErased", "LearnerErased", {"learner_id": "l-1"}),
    ("ContactErased own firm", "ContactErased", {"firm_id": "own"}),
    ("ContactErased coordinators", "ContactErased", {}),
    ("LearnerPreferencesStated own", "LearnerPreferencesStated", {"learner_id": "l-1", "firm_preferences": {"own": 3}}),
    (
        "LearnerPreferencesStated other",
        "LearnerPreferencesStated",
        {"learner_id": "l-2", "module_preferences": {"cnc": 1}},
    ),
    ("PlacementAnswered own", "PlacementAnswered", {"firm_id": "own", **PLACEMENT}),
    ("PlacementAnswered other", "PlacementAnswered", {"firm_id": "other", **PLACEMENT}),
]

FIRM_MAY = {
    "FirmUpdated own",
    "CapacityOffered own",
    "CapacityChanged own",
    "CapacityWithdrawn own",
    "PlacementAnswered own",
}
EVERYTHING = {label for label, _, _ in EVENTS}


def sender(role: str, network: str = NETWORK, **ids: str) -> dict[str, Any]:
    return {"authtype": "user", "principalid": f"{role}@{network}", "role": role, "network_id": network, **ids}


# (label, authcontext or None, require_sender, the events it may send)
SENDERS: list[tuple[str, dict[str, Any] | None, bool, set[str]]] = [
    ("system", sender("system", "elsewhere"), True, EVERYTHING),
    ("coordinator of the network", sender("coordinator"), True, EVERYTHING),
    ("coordinator of another network", sender("coordinator", "net-2"), True, set()),
    ("firm of the network", sender("firm", firm_id="own"), True, FIRM_MAY),
    ("the same firm id in another network", sender("firm", "net-2", firm_id="own"), True, set()),
    ("firm principal without a firm", sender("firm"), True, set()),
    ("learner", sender("learner", learner_id="l-1"), True, {"LearnerPreferencesStated own"}),
    ("learner of another network", sender("learner", "net-2", learner_id="l-1"), True, set()),
    ("learner principal without a learner", sender("learner"), True, set()),
    ("no sender, not required", None, False, EVERYTHING),
    ("no sender, required", None, True, set()),
]


def state() -> NetworkState:
    network = NetworkState(NETWORK)
    for firm in ("own", "other"):
        network.firms[firm] = FirmData.model_validate({"firm_id": firm, **FIRM})
        network.offers[f"{firm}-offer"] = CapacityOfferedData.model_validate(
            {"offer_id": f"{firm}-offer", "firm_id": firm, **OFFER}
        )
    return network


def event(event_type: str, data: dict[str, Any], authcontext: dict[str, Any] | None) -> Envelope:
    body: dict[str, Any] = {"type": event_type, "id": "e-1", "time": TIME, "subject": NETWORK, "data": data}
    if authcontext is not None:
        body["authcontext"] = authcontext
    return load_event(body, INBOUND_TYPES)


def test_the_table_covers_every_inbound_event_type() -> None:
    assert {event_type for _, event_type, _ in EVENTS} == {t.EVENT_TYPE for t in INBOUND_TYPES}


@pytest.mark.parametrize(
    ("who", "authcontext", "require_sender", "allowed", "label", "event_type", "data"),
    [(*s, *e) for s in SENDERS for e in EVENTS],
    ids=[f"{s[0]} | {e[0]}" for s in SENDERS for e in EVENTS],
)
def test_each_sender_may_send_exactly_its_events(
    who: str,
    authcontext: dict[str, Any] | None,
    require_sender: bool,
    allowed: set[str],
    label: str,
    event_type: str,
    data: dict[str, Any],
) -> None:
    network = state()
    before = repr(network)
    refusal = authorise(event(event_type, data, authcontext), network, require_sender=require_sender)
    if label in allowed:
        assert refusal is None, f"{who} should be allowed {label}: {refusal}"
    else:
        assert refusal is not None and refusal.startswith("not authorised: "), f"{who} should be refused {label}"
    assert repr(network) == before  # authorising changes nothing


def test_a_refusal_names_the_principal_and_what_it_may_not_touch() -> None:
    refusal = authorise(
        event("CapacityWithdrawn", {"offer_id": "other-offer"}, sender("firm", firm_id="own")),
        state(),
        require_sender=False,
    )
    assert refusal == (
        "not authorised: firm 'firm@net-1' acts for firm 'own' and may not withdraw offer 'other-offer' of another firm"
    )
    missing = authorise(event("FirmLeft", {"firm_id": "own"}, None), state(), require_sender=True)
    assert missing is not None and missing.startswith("not authorised: no sender")


def test_an_offer_not_known_yet_is_left_to_the_state_to_refuse() -> None:
    change = event("CapacityChanged", {"offer_id": "nobody-knows", "max_seats": 1}, sender("firm", firm_id="own"))
    assert authorise(change, state(), require_sender=True) is None
