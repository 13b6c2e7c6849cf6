"""On the real broker, with the matcher's key endpoint: a coordinator downloads a learner's export from the console
and erases them there, with CSRF and a typed confirmation; only coordinators of the network may do either."""

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
from verbund_schemas import PersonalDataErased, load_event, topic

from verbund.publish import send_events

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]

TOKEN = "a-token-for-the-console-learner-data-test"
PASSWORD = "a long enough password"
NAME, EMAIL = "Wiebke Ahlgrimm-Tönnies", "ahlgrimm@learners.example"


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
            "CurriculumPublished",
            {
                "curriculum_id": "C",
                "name": "Curriculum",
                "modules": [{"module_id": "M1", "name": "Basics", "duration_weeks": 2}],
                "groups": [{"group_id": "G", "name": "Compulsory", "module_ids": ["M1"], "required": 1}],
            },
        ),
        event(
            "LearnerRegistered",
            {
                "learner_id": "L-1",
                "name": NAME,
                "contact": {"name": NAME, "email": EMAIL},
                "curriculum_id": "C",
                "first_week": "2031-W01",
                "last_week": "2031-W20",
            },
        ),
    ]


async def test_a_coordinator_downloads_a_learners_export_and_erases_them_from_the_console(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    network, other = f"data-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    matcher = key_serving_matcher(kafka_bootstrap, tmp_path, TOKEN, batch_timeout_ms=100, relay_poll_seconds=0.1)
    url = f"http://127.0.0.1:{matcher.health_port}"
    settings = console_settings(kafka_bootstrap, tmp_path, key_service_url=url, key_service_token=TOKEN)
    async with run_matcher(matcher) as running:
        await running.until_consuming()
        keyring = HttpKeyring(url, TOKEN)
        await send_events([load_event(e) for e in _events(network)], kafka_bootstrap, topic("inbound"), keyring)
        await migrate(settings.database_url)
        console = build(settings)
        assert console.web is not None
        await console.accounts.add_user("coord@example.org", PASSWORD, [network])
        await console.accounts.add_user("elsewhere@example.org", PASSWORD, [other])
        transport = httpx.ASGITransport(app=console.web)
        base = f"/n/{network}/learners/L-1"
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://console") as stranger:
                # Signed out: sent to sign in. A coordinator of another network: refused, nothing produced.
                assert (await stranger.get(f"{base}/export.json")).status_code == 303
                await _sign_in(stranger, "elsewhere@example.org")
                assert (await stranger.get(f"{base}/data")).status_code == 403
                assert (await stranger.get(f"{base}/export.json")).status_code == 403
                page = await stranger.get(f"/n/{other}/learners/L-1/data")
                refused = await stranger.post(f"{base}/erase", data={"csrf": _csrf(page.text), "confirm": "L-1"})
                assert refused.status_code == 403

            async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
                await _sign_in(http, "coord@example.org")
                page = await http.get(f"{base}/data")
                assert page.status_code == 200
                assert 'id="download-export"' in page.text and 'id="erase-learner"' in page.text

                # The download is `verbund learner export`'s file: the registration opened, from the matcher too.
                async def exported() -> dict[str, object]:
                    answer = await http.get(f"{base}/export.json")
                    assert answer.status_code == 200, answer.text[:2000]
                    assert "attachment" in answer.headers["content-disposition"]
                    body: dict[str, object] = answer.json()
                    return body

                held = await exported()
                for _ in range(100):
                    if NAME in json.dumps(held["held_by_the_matcher"], ensure_ascii=False):
                        break
                    await asyncio.sleep(0.2)
                    held = await exported()
                assert held["learner_id"] == "L-1" and held["export_version"] == 1
                assert NAME in json.dumps(held, ensure_ascii=False) and EMAIL in json.dumps(held)

                # Without the CSRF token, or with a wrong confirmation, nothing is erased.
                no_csrf = await http.post(f"{base}/erase", data={"confirm": "L-1"})
                assert no_csrf.status_code == 403
                wrong = await http.post(f"{base}/erase", data={"csrf": _csrf(page.text), "confirm": "L-2"})
                assert wrong.status_code == 400

                erased = await http.post(f"{base}/erase", data={"csrf": _csrf(page.text), "confirm": "L-1"})
                assert erased.status_code == 202, erased.text[:2000]
                assert 'id="erasure-requested"' in erased.text

            def erasures(records: list[ConsumerRecord[bytes, bytes]]) -> list[dict[str, object]]:
                found = [json.loads(r.value or b"{}") for r in records if r.key == network.encode()]
                return [e for e in found if e.get("type") == "LearnerErased"]

            inbound = await consume(kafka_bootstrap, topic("inbound"), until=lambda rs: bool(erasures(rs)))
            (request,) = erasures(inbound)
            assert request["id"] == "erase:L-1" and request["data"] == {"learner_id": "L-1"}
            sender = request["authcontext"]
            assert isinstance(sender, dict)
            assert (sender["role"], sender["principalid"], sender["network_id"]) == (
                "coordinator",
                "coord@example.org",
                network,
            )

            # The matcher applies it: the key goes, and the export now holds the id and "erased" only.
            for _ in range(100):
                try:
                    await keyring.key_for(network, "learner:L-1")
                except PersonalDataErased:
                    break
                await asyncio.sleep(0.2)
            else:
                pytest.fail("the matcher did not destroy the learner's key")
            async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
                await _sign_in(http, "coord@example.org")
                after = await http.get(f"{base}/export.json")
            assert after.status_code == 200
            assert NAME not in after.text and EMAIL not in after.text
        finally:
            await keyring.close()
            await console.broker.stop()
            await console.engine.dispose()
