"""The authcontext extension: optional on inbound events, bounded, tolerant of fields it does not know."""

from __future__ import annotations

import json
from typing import Any

import pytest
from verbund_schemas import (
    INBOUND_TYPES,
    AuthType,
    CapacityOffered,
    InvalidEvent,
    Role,
    decode_event,
    encode_event,
)
from verbund_schemas.generate import render_json_schemas


def offer(**envelope: Any) -> dict[str, Any]:
    return {
        "type": "CapacityOffered",
        "id": "o-1",
        "time": "2027-01-04T08:00:00Z",
        "subject": "net-1",
        "data": {
            "offer_id": "o-1",
            "firm_id": "f-1",
            "module_id": "cnc",
            "first_week": "2027-W10",
            "last_week": "2027-W35",
            "max_seats": 2,
        },
        **envelope,
    }


SENDER = {
    "authtype": "service_account",
    "principalid": "token:7",
    "role": "firm",
    "network_id": "net-1",
    "firm_id": "f-1",
}


def test_an_event_without_authcontext_still_reads() -> None:
    event = decode_event(json.dumps(offer()))
    assert isinstance(event, CapacityOffered) and event.authcontext is None


def test_authcontext_reads_and_travels_on_with_fields_it_does_not_know() -> None:
    event = decode_event(json.dumps(offer(authcontext={**SENDER, "issuer": "console-2"})))
    assert isinstance(event, CapacityOffered) and event.authcontext is not None
    assert event.authcontext.role is Role.FIRM and event.authcontext.authtype is AuthType.SERVICE_ACCOUNT
    assert event.authcontext.firm_id == "f-1" and event.authcontext.learner_id is None
    again = json.loads(encode_event(event))
    assert again["authcontext"]["issuer"] == "console-2" and again["authcontext"]["principalid"] == "token:7"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("role", "admin"),
        ("authtype", "anonymous"),
        ("principalid", "x" * 257),
        ("principalid", ""),
        ("network_id", "n" * 129),
        ("firm_id", "no spaces allowed"),
    ],
)
def test_an_authcontext_outside_its_contract_is_refused_with_the_field(field: str, value: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode_event(json.dumps(offer(authcontext={**SENDER, field: value})))
    assert any(line.startswith(f"authcontext.{field}:") for line in caught.value.errors), caught.value.errors


def test_every_inbound_json_schema_documents_the_optional_bounded_authcontext() -> None:
    documents = render_json_schemas()
    for cls in INBOUND_TYPES:
        schema = json.loads(documents[f"{cls.EVENT_TYPE}.json"])
        assert "authcontext" in schema["properties"] and "authcontext" not in schema["required"]
        sender = schema["$defs"]["AuthContext"]
        assert sender["properties"]["principalid"]["maxLength"] == 256
        assert set(sender["required"]) == {"authtype", "principalid", "role", "network_id"}


def test_an_event_without_a_sender_is_written_as_before_the_extension() -> None:
    event = decode_event(json.dumps(offer()))
    assert "authcontext" not in json.loads(encode_event(event))
