"""The console's HTTP API on the real broker seals a firm's training contact through the matcher's key endpoint."""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path

import httpx
import pytest
from kafka_tools import consume
from verbund_console.app import build
from verbund_console.settings import ConsoleSettings
from verbund_console.store.api_tokens import ApiTokens
from verbund_console.store.database import migrate, session_factory
from verbund_matcher.runner import run_matcher
from verbund_matcher.settings import MatcherSettings
from verbund_runtime.keyring import HttpKeyring
from verbund_schemas import open_event, topic

pytestmark = [pytest.mark.kafka]

TOKEN = "a-token-for-the-console-api-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_firm_update_sent_to_the_api_reaches_the_topic_with_its_contact_sealed(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    matcher = MatcherSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'matcher.db'}",
        kafka_bootstrap_servers=kafka_bootstrap,
        group_id=f"matcher-test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="latest",
        health_port=port,
        key_service_token=TOKEN,
        master_key_file=str(tmp_path / "master.key"),
        full_reoptimise_interval=0,
        log_json=False,
    )
    settings = ConsoleSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'console.db'}",
        consume=False,
        session_secret="s" * 40,
        kafka_bootstrap_servers=kafka_bootstrap,
        key_service_url=url,
        key_service_token=TOKEN,
    )
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
    async with run_matcher(matcher):
        await migrate(settings.database_url)
        console = build(settings)
        assert console.web is not None
        _, token = await ApiTokens(session_factory(console.engine)).issue(network, "firm-a", "HR system", 30)
        transport = httpx.ASGITransport(app=console.web)
        try:
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
        finally:
            await console.broker.stop()
            await console.engine.dispose()

    assert b"Ostermeyer" not in sent and b"ostermeyer@" not in sent and b'"personal"' in sent
    contact = opened["data"]["training_contact"]
    assert (contact["name"], contact["email"]) == ("Reinhild Ostermeyer", "ostermeyer@firm-a.example")
