"""The generated AsyncAPI document shows the inbound contract and every outbound publisher, the parked topic too."""

from __future__ import annotations

import json

from verbund_matcher.app import app
from verbund_schemas import INBOUND_TYPES, topic
from verbund_schemas.topics import firm_inbound, inbound_pattern


def test_the_asyncapi_document_has_the_inbound_payload_and_the_outbound_channels() -> None:
    doc = json.loads(app.schema.to_specification().to_json())
    channels = doc["channels"]
    assert {c["address"] for c in channels.values()} == {
        # The shared inbound topic and the firms' own ones (infra/topics.toml, families.firm_inbound).
        inbound_pattern(),
        topic("assignments"),
        topic("shortfalls"),
        topic("rejected"),
        topic("parked"),
    }
    schemas = doc["components"]["schemas"]
    inbound = json.dumps(schemas["inbound:Message:Payload"])
    for event in INBOUND_TYPES:
        assert f'"const": "{event.EVENT_TYPE}"' in inbound, f"{event.EVENT_TYPE} missing from the inbound payload"
    for name in ("AssignmentMade", "AssignmentChanged", "PlanPublished", "ShortfallDetected", "EventRejected"):
        assert name in schemas
    assert doc["operations"]["inbound"]["action"] == "receive"
    assert {doc["operations"][role]["action"] for role in ("assignments", "shortfalls", "rejected", "parked")} == {
        "send"
    }
    assert f"{firm_inbound().prefix}<firm id>" in channels["inbound"]["description"]
    parked = channels["parked"]["description"]
    assert "verbund parked replay" in parked and "verbund.parked.reason" in parked
