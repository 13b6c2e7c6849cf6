"""A firm's or network's record sealed under an erased contact's key opens without the contact, not at all."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_sealed_personal_data import FIRM, LEARNER, NETWORK, MemoryKeyring
from verbund_schemas import (
    INBOUND_TYPES,
    ContactErased,
    FirmRegistered,
    NetworkConfigured,
    PersonalDataErased,
    load_event,
    open_event,
    seal_event,
)


@pytest.mark.parametrize("event", [FIRM, NETWORK], ids=lambda e: e["type"])
async def test_a_record_under_a_destroyed_contact_key_opens_without_the_contact_and_names_nobody(
    event: dict[str, Any],
) -> None:
    keyring = MemoryKeyring()
    sealed = await seal_event(event, keyring)
    keyring.destroyed.add(sealed["data"]["personal"]["key_id"])

    opened = load_event(await open_event(sealed, keyring), INBOUND_TYPES)

    text = json.dumps(opened.model_dump(mode="json"), ensure_ascii=False)
    assert not any(s in text for s in ("Haberkorn", "haberkorn@", "Feldkamp", "zora@"))
    if isinstance(opened, FirmRegistered):
        assert opened.data.name == "RKT Aachen" and opened.data.training_contact is None
    else:
        assert isinstance(opened, NetworkConfigured)
        assert opened.data.name == "Kunststoff" and opened.data.coordinators == []


async def test_a_learner_under_a_destroyed_key_still_does_not_open() -> None:
    keyring = MemoryKeyring()
    sealed = await seal_event(LEARNER, keyring)
    keyring.destroyed.add(sealed["data"]["personal"]["key_id"])
    with pytest.raises(PersonalDataErased):
        await open_event(sealed, keyring)


def test_contact_erased_names_the_firms_key_holder_or_the_coordinators() -> None:
    base = {"type": "ContactErased", "id": "e-1", "time": "2027-01-04T08:00:00Z", "subject": "net-1"}
    firm = load_event({**base, "data": {"firm_id": "rkt"}}, INBOUND_TYPES)
    coordinators = load_event({**base, "data": {}}, INBOUND_TYPES)
    assert isinstance(firm, ContactErased) and firm.holder == "firm:rkt"
    assert isinstance(coordinators, ContactErased) and coordinators.holder == "network"
