"""On the real broker, with the matcher's key endpoint: a coordinator downloads a learner's export from the console
and erases them there, with CSRF and a typed confirmation; only coordinators of the network may do either."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from console_on_kafka import (
    COORDINATOR,
    ELSEWHERE,
    client_of,
    console_beside_a_key_serving_matcher,
    csrf_in,
    inbound_record,
    requests_of,
    sender_of,
    sign_in,
)
from kafka_tools import consume
from verbund_schemas import PersonalDataErased, topic

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]

TOKEN = "a-token-for-the-console-learner-data-test"
NAME, EMAIL = "Wiebke Ahlgrimm-Tönnies", "ahlgrimm@learners.example"


def _events(network: str) -> list[dict[str, object]]:
    return [
        inbound_record(network, "NetworkConfigured", {"name": "Network"}),
        inbound_record(
            network,
            "CurriculumPublished",
            {
                "curriculum_id": "C",
                "name": "Curriculum",
                "modules": [{"module_id": "M1", "name": "Basics", "duration_weeks": 2}],
                "groups": [{"group_id": "G", "name": "Compulsory", "module_ids": ["M1"], "required": 1}],
            },
        ),
        inbound_record(
            network,
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
    records = _events(network)
    async with console_beside_a_key_serving_matcher(
        kafka_bootstrap, tmp_path, TOKEN, records, network, other
    ) as beside:
        console, keyring = beside.console, beside.keyring
        base = f"/n/{network}/learners/L-1"
        async with client_of(console) as stranger:
            # Signed out: sent to sign in. A coordinator of another network: refused, nothing produced.
            assert (await stranger.get(f"{base}/export.json")).status_code == 303
            assert (await sign_in(stranger, ELSEWHERE)).status_code == 303
            assert (await stranger.get(f"{base}/data")).status_code == 403
            assert (await stranger.get(f"{base}/export.json")).status_code == 403
            page = await stranger.get(f"/n/{other}/learners/L-1/data")
            refused = await stranger.post(f"{base}/erase", data={"csrf": csrf_in(page.text), "confirm": "L-1"})
            assert refused.status_code == 403

        async with client_of(console) as http:
            assert (await sign_in(http, COORDINATOR)).status_code == 303
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
            wrong = await http.post(f"{base}/erase", data={"csrf": csrf_in(page.text), "confirm": "L-2"})
            assert wrong.status_code == 400

            erased = await http.post(f"{base}/erase", data={"csrf": csrf_in(page.text), "confirm": "L-1"})
            assert erased.status_code == 202, erased.text[:2000]
            assert 'id="erasure-requested"' in erased.text

        inbound = await consume(
            kafka_bootstrap, topic("inbound"), until=lambda rs: bool(requests_of(rs, network, "LearnerErased"))
        )
        (request,) = requests_of(inbound, network, "LearnerErased")
        assert request["id"] == "erase:L-1" and request["data"] == {"learner_id": "L-1"}
        assert sender_of(request) == ("coordinator", COORDINATOR, network)

        # The matcher applies it: the key goes, and the export now holds the id and "erased" only.
        for _ in range(100):
            try:
                await keyring.key_for(network, "learner:L-1")
            except PersonalDataErased:
                break
            await asyncio.sleep(0.2)
        else:
            pytest.fail("the matcher did not destroy the learner's key")
        async with client_of(console) as http:
            assert (await sign_in(http, COORDINATOR)).status_code == 303
            after = await http.get(f"{base}/export.json")
        assert after.status_code == 200
        assert NAME not in after.text and EMAIL not in after.text
