"""Sealed personal fields: what leaves a producer holds no name or address, opens only with the holder's key."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from verbund_schemas import (
    INBOUND_TYPES,
    DataKey,
    LearnerRegistered,
    PersonalDataErased,
    PlaintextPersonalData,
    load_event,
    open_event,
    seal_event,
)
from verbund_schemas.personal import seal_with

LEARNER: dict[str, Any] = {
    "type": "LearnerRegistered",
    "id": "l-1",
    "time": "2027-01-04T08:00:00Z",
    "subject": "net-1",
    "data": {
        "learner_id": "L-001",
        "name": "Jördis Üxküll-Wendtorf",
        "contact": {"name": "Jördis Üxküll-Wendtorf", "email": "joerdis@example.org"},
        "curriculum_id": "vm",
        "first_week": "2027-W10",
        "last_week": "2029-W30",
    },
}
FIRM: dict[str, Any] = {
    "type": "FirmRegistered",
    "id": "f-1",
    "time": "2027-01-04T08:00:00Z",
    "subject": "net-1",
    "data": {
        "firm_id": "rkt",
        "name": "RKT Aachen",
        "location": {"city": "Aachen"},
        "training_contact": {"name": "Quirin Haberkorn", "email": "haberkorn@rkt.example"},
    },
}
NETWORK: dict[str, Any] = {
    "type": "NetworkConfigured",
    "id": "n-1",
    "time": "2027-01-04T08:00:00Z",
    "subject": "net-1",
    "data": {"name": "Kunststoff", "coordinators": [{"name": "Zora Feldkamp", "email": "zora@verbund.example"}]},
}


class MemoryKeyring:
    """Data keys in a dict: the key table's behaviour without its database."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], DataKey] = {}
        self.destroyed: set[str] = set()

    async def key_for(self, network_id: str, holder: str) -> DataKey:
        found = self.keys.get((network_id, holder))
        if found is None:
            found = DataKey(f"k-{len(self.keys) + 1}", secrets.token_bytes(32))
            self.keys[(network_id, holder)] = found
        if found.key_id in self.destroyed:
            raise PersonalDataErased(network_id, holder)
        return found

    async def key(self, network_id: str, key_id: str) -> DataKey | None:
        for (network, _), key in self.keys.items():
            if network == network_id and key.key_id == key_id and key_id not in self.destroyed:
                return key
        return None


@pytest.mark.parametrize("event", [LEARNER, FIRM, NETWORK], ids=lambda e: e["type"])
async def test_sealed_event_holds_no_name_or_address_and_opens_to_the_original(event: dict[str, Any]) -> None:
    keyring = MemoryKeyring()
    wire = json.dumps(await seal_event(event, keyring), ensure_ascii=False)
    for secret in ("Jördis", "Üxküll", "joerdis@", "Haberkorn", "haberkorn@", "Feldkamp", "zora@"):
        assert secret not in wire
    opened = await open_event(json.loads(wire), keyring)
    assert opened == event
    load_event(opened, INBOUND_TYPES)


async def test_learner_event_sealed_and_opened_validates_as_its_contract() -> None:
    keyring = MemoryKeyring()
    opened = await open_event(await seal_event(LEARNER, keyring), keyring)
    event = load_event(opened, INBOUND_TYPES)
    assert isinstance(event, LearnerRegistered)
    assert event.data.name == "Jördis Üxküll-Wendtorf"
    assert event.data.contact.email == "joerdis@example.org"


async def test_a_destroyed_key_makes_every_sealed_copy_unreadable() -> None:
    keyring = MemoryKeyring()
    first = await seal_event(LEARNER, keyring)
    second = await seal_event({**LEARNER, "type": "LearnerUpdated", "id": "l-2"}, keyring)
    keyring.destroyed.add(first["data"]["personal"]["key_id"])
    for copy in (first, second):
        with pytest.raises(PersonalDataErased, match="learner:L-001"):
            await open_event(copy, keyring)
    with pytest.raises(PersonalDataErased):
        await seal_event(LEARNER, keyring)


async def test_a_sealed_block_moved_to_another_learner_does_not_open() -> None:
    keyring = MemoryKeyring()
    sealed = await seal_event(LEARNER, keyring)
    other = {**sealed, "data": {**sealed["data"], "learner_id": "L-002"}}
    # The other learner's key would not even be asked for: the block names L-001's key, but is bound to L-002.
    with pytest.raises(ValueError, match="does not open"):
        await open_event(other, keyring)


async def test_a_sealed_block_from_another_network_does_not_open() -> None:
    keyring = MemoryKeyring()
    sealed = await seal_event(LEARNER, keyring)
    keyring.keys[("net-2", "learner:L-001")] = keyring.keys[("net-1", "learner:L-001")]
    with pytest.raises(ValueError, match="does not open"):
        await open_event({**sealed, "subject": "net-2"}, keyring)


async def test_an_old_plaintext_event_is_accepted_as_it_is_unless_the_consumer_refuses_plaintext() -> None:
    keyring = MemoryKeyring()
    assert await open_event(LEARNER, keyring) == LEARNER
    with pytest.raises(PlaintextPersonalData, match=r"clear text.*verbund publish"):
        await open_event(LEARNER, keyring, accept_plaintext=False)


async def test_events_without_personal_fields_pass_unchanged_and_ask_for_no_key() -> None:
    keyring = MemoryKeyring()
    withdrawn = {"type": "LearnerWithdrawn", "id": "w-1", "time": "2027-01-04T08:00:00Z", "subject": "net-1",
                 "data": {"learner_id": "L-001"}}  # fmt: skip
    assert await seal_event(withdrawn, keyring) == withdrawn
    assert await open_event(withdrawn, keyring, accept_plaintext=False) == withdrawn
    firm_without_contact = {**FIRM, "data": {k: v for k, v in FIRM["data"].items() if k != "training_contact"}}
    assert await seal_event(firm_without_contact, keyring) == firm_without_contact
    assert keyring.keys == {}


async def test_sealing_twice_changes_nothing() -> None:
    keyring = MemoryKeyring()
    sealed = await seal_event(LEARNER, keyring)
    assert await seal_event(sealed, keyring) == sealed


async def test_a_published_assignment_and_shortfall_carry_the_learners_name_only_sealed() -> None:
    keyring = MemoryKeyring()
    key = await keyring.key_for("net-1", "learner:L-001")
    base = {"id": "a-1", "time": "2027-01-04T08:00:00Z", "subject": "net-1", "source": "verbund-matcher"}
    made = {**base, "type": "AssignmentMade", "data": {"learner_id": "L-001", "learner_name": "Jördis Üxküll"}}
    shortfall = {
        **base,
        "type": "ShortfallDetected",
        "data": {"learner_id": "L-001", "learner_name": "Jördis Üxküll", "message": "held by Zacharias Quellenfeld"},
    }
    for event in (made, shortfall):
        sealed = seal_with(event, key)
        wire = json.dumps(sealed, ensure_ascii=False)
        assert "Jördis" not in wire and "Zacharias" not in wire
        assert await open_event(sealed, keyring) == event
    # A learner's sealed registration block does not open as the name beside an assignment: another purpose.
    registration = await seal_event(LEARNER, keyring)
    swapped = {**made, "data": {"learner_id": "L-001", "personal": registration["data"]["personal"]}}
    with pytest.raises(ValueError, match="does not open"):
        await open_event(swapped, keyring)
