"""On the real broker, with the matcher's key endpoint: a coordinator erases a firm's training contact from the
console, with CSRF and the firm's id typed; the console produces ContactErased stamped with them, and the matcher
destroys the contact's key."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka import ConsumerRecord
from console_on_kafka import console_settings, key_serving_matcher
from kafka_tools import consume
from verbund_console.app import build
from verbund_console.store.database import migrate
from verbund_matcher.runner import run_matcher
from verbund_runtime.keyring import HttpKeyring
from verbund_schemas import load_event, topic

from verbund.contact_cli import current_key_id
from verbund.publish import send_events

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]

TOKEN = "a-token-for-the-console-contact-erasure-test"
PASSWORD = "a long enough password"
CONTACT, EMAIL = "Heidemarie Quastenberg", "quastenberg@firms.example"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page[:2000]
    return found.group(1)


async def _sign_in(http: httpx.AsyncClient, email: str) -> None:
    form = await http.get("/signin")
    answer = await http.post(
        "/signin", data={"csrf": _csrf(form.text), "email": email, "password": PASSWORD, "next": "/"}
    )
    assert answer.status_code == 303, answer.text[:2000]


def _events(network: str) -> list[dict[str, object]]:
    def event(kind: str, data: dict[str, object]) -> dict[str, object]:
        return {
            "type": kind,
            "id": f"{network}-{kind}",
            "time": "2030-11-04T08:00:00Z",
            "subject": network,
            "data": data,
        }

    return [
        event("NetworkConfigured", {"name": "Network"}),
        event(
            "FirmRegistered",
            {
                "firm_id": "F-1",
                "name": "Formenbau Quast GmbH",
                "location": {"city": "Lüdenscheid"},
                "training_contact": {"name": CONTACT, "email": EMAIL},
            },
        ),
    ]


async def test_a_coordinator_erases_a_firms_contact_from_the_console_and_the_matcher_destroys_its_key(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    network, other = f"contact-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    matcher = key_serving_matcher(kafka_bootstrap, tmp_path, TOKEN, batch_timeout_ms=100, relay_poll_seconds=0.1)
    url = f"http://127.0.0.1:{matcher.health_port}"
    settings = console_settings(kafka_bootstrap, tmp_path, key_service_url=url, key_service_token=TOKEN)
    async with run_matcher(matcher) as running:
        await running.until_consuming()
        keyring = HttpKeyring(url, TOKEN)
        await send_events([load_event(e) for e in _events(network)], kafka_bootstrap, topic("inbound"), keyring)
        key_id = await current_key_id(keyring, network, "firm:F-1")
        assert key_id is not None and await keyring.key(network, key_id) is not None
        await migrate(settings.database_url)
        console = build(settings)
        assert console.web is not None
        await console.accounts.add_user("coord@example.org", PASSWORD, [network])
        await console.accounts.add_user("elsewhere@example.org", PASSWORD, [other])
        transport = httpx.ASGITransport(app=console.web)
        base = f"/n/{network}/firms/F-1/contact"
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://console") as stranger:
                # Signed out: sent to sign in. A coordinator of another network: refused, nothing produced.
                assert (await stranger.get(base)).status_code == 303
                await _sign_in(stranger, "elsewhere@example.org")
                assert (await stranger.get(base)).status_code == 403
                page = await stranger.get(f"/n/{other}/firms/F-1/contact")
                refused = await stranger.post(f"{base}/erase", data={"csrf": _csrf(page.text), "confirm": "F-1"})
                assert refused.status_code == 403

            async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
                await _sign_in(http, "coord@example.org")
                page = await http.get(base)
                assert page.status_code == 200 and 'id="erase-contact"' in page.text
                no_csrf = await http.post(f"{base}/erase", data={"confirm": "F-1"})
                assert no_csrf.status_code == 403
                wrong = await http.post(f"{base}/erase", data={"csrf": _csrf(page.text), "confirm": "F-2"})
                assert wrong.status_code == 400
                erased = await http.post(f"{base}/erase", data={"csrf": _csrf(page.text), "confirm": "F-1"})
                assert erased.status_code == 202, erased.text[:2000]
                assert 'id="contact-erasure-requested"' in erased.text

            def erasures(records: list[ConsumerRecord[bytes, bytes]]) -> list[dict[str, object]]:
                found = [json.loads(r.value or b"{}") for r in records if r.key == network.encode()]
                return [e for e in found if e.get("type") == "ContactErased"]

            inbound = await consume(kafka_bootstrap, topic("inbound"), until=lambda rs: bool(erasures(rs)))
            (request,) = erasures(inbound)
            assert request["data"] == {"firm_id": "F-1"}
            sender = request["authcontext"]
            assert isinstance(sender, dict)
            assert (sender["role"], sender["principalid"], sender["network_id"]) == (
                "coordinator",
                "coord@example.org",
                network,
            )

            # The matcher applies it: the contact's key is gone, so the registration's contact reads nowhere.
            for _ in range(150):
                if await keyring.key(network, key_id) is None:
                    break
                await asyncio.sleep(0.2)
            else:
                pytest.fail("the matcher did not destroy the firm contact's key")
        finally:
            await keyring.close()
            await console.broker.stop()
            await console.engine.dispose()
