"""The console's HTTP API on the real broker seals a firm's training contact through the matcher's key endpoint."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from console_on_kafka import console_on_kafka, console_settings, key_serving_matcher
from kafka_tools import consume
from verbund_console.store.api_tokens import ApiTokens
from verbund_console.store.database import session_factory
from verbund_matcher.runner import run_matcher
from verbund_runtime.keyring import HttpKeyring
from verbund_schemas import open_event, topic

pytestmark = [pytest.mark.kafka]

TOKEN = "a-token-for-the-console-api-test"


async def test_a_firm_update_sent_to_the_api_reaches_the_topic_with_its_contact_sealed(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    matcher = key_serving_matcher(kafka_bootstrap, tmp_path, TOKEN)
    url = f"http://127.0.0.1:{matcher.health_port}"
    settings = console_settings(kafka_bootstrap, tmp_path, key_service_url=url, key_service_token=TOKEN)
    network = f"api-seal-{uuid.uuid4().hex[:8]}"
    update = {
        "type": "FirmUpdated",
        "id": f"e-{uuid.uuid4().hex[:10]}",
        "time": "2027-01-04T08:00:00Z",
        "subject": network,
        "data": {
            "firm_id": "firm-a",
            "name": "Firm A",
            "location": {"city": "Aachen"},
            "training_contact": {"name": "Reinhild Ostermeyer", "email": "ostermeyer@firm-a.example"},
        },
    }
    async with run_matcher(matcher), console_on_kafka(settings) as console:
        assert console.web is not None
        _, token = await ApiTokens(session_factory(console.engine)).issue(network, "firm-a", "HR system", 30)
        transport = httpx.ASGITransport(app=console.web)
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
            answer = await http.post(
                "/api/v1/events", content=json.dumps(update), headers={"authorization": f"Bearer {token}"}
            )
        assert answer.status_code == 202, answer.text
        records = await consume(
            kafka_bootstrap, topic("inbound"), until=lambda rs: any(r.key == network.encode() for r in rs)
        )
        sent = next(r.value for r in records if r.key == network.encode() and r.value)
        keyring = HttpKeyring(url, TOKEN)
        opened = await open_event(json.loads(sent), keyring)
        await keyring.close()

    assert b"Ostermeyer" not in sent and b"ostermeyer@" not in sent and b'"personal"' in sent
    contact = opened["data"]["training_contact"]
    assert (contact["name"], contact["email"]) == ("Reinhild Ostermeyer", "ostermeyer@firm-a.example")
