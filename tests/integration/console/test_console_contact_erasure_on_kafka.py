"""On the real broker, with the matcher's key endpoint: a coordinator erases a firm's training contact from the
console, with CSRF and the firm's id typed; the console produces ContactErased stamped with them, and the matcher
destroys the contact's key."""

from __future__ import annotations

import asyncio
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
from verbund_schemas import topic

from verbund.contact_cli import current_key_id

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]

TOKEN = "a-token-for-the-console-contact-erasure-test"
CONTACT, EMAIL = "Heidemarie Quastenberg", "quastenberg@firms.example"


def _events(network: str) -> list[dict[str, object]]:
    return [
        inbound_record(network, "NetworkConfigured", {"name": "Network"}),
        inbound_record(
            network,
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
    records = _events(network)
    async with console_beside_a_key_serving_matcher(
        kafka_bootstrap, tmp_path, TOKEN, records, network, other
    ) as beside:
        console, keyring = beside.console, beside.keyring
        key_id = await current_key_id(keyring, network, "firm:F-1")
        assert key_id is not None and await keyring.key(network, key_id) is not None
        base = f"/n/{network}/firms/F-1/contact"
        async with client_of(console) as stranger:
            # Signed out: sent to sign in. A coordinator of another network: refused, nothing produced.
            assert (await stranger.get(base)).status_code == 303
            assert (await sign_in(stranger, ELSEWHERE)).status_code == 303
            assert (await stranger.get(base)).status_code == 403
            page = await stranger.get(f"/n/{other}/firms/F-1/contact")
            refused = await stranger.post(f"{base}/erase", data={"csrf": csrf_in(page.text), "confirm": "F-1"})
            assert refused.status_code == 403

        async with client_of(console) as http:
            assert (await sign_in(http, COORDINATOR)).status_code == 303
            page = await http.get(base)
            assert page.status_code == 200 and 'id="erase-contact"' in page.text
            no_csrf = await http.post(f"{base}/erase", data={"confirm": "F-1"})
            assert no_csrf.status_code == 403
            wrong = await http.post(f"{base}/erase", data={"csrf": csrf_in(page.text), "confirm": "F-2"})
            assert wrong.status_code == 400
            erased = await http.post(f"{base}/erase", data={"csrf": csrf_in(page.text), "confirm": "F-1"})
            assert erased.status_code == 202, erased.text[:2000]
            assert 'id="contact-erasure-requested"' in erased.text

        inbound = await consume(
            kafka_bootstrap, topic("inbound"), until=lambda rs: bool(requests_of(rs, network, "ContactErased"))
        )
        (request,) = requests_of(inbound, network, "ContactErased")
        assert request["data"] == {"firm_id": "F-1"}
        assert sender_of(request) == ("coordinator", COORDINATOR, network)

        # The matcher applies it: the contact's key is gone, so the registration's contact reads nowhere.
        for _ in range(150):
            if await keyring.key(network, key_id) is None:
                break
            await asyncio.sleep(0.2)
        else:
            pytest.fail("the matcher did not destroy the firm contact's key")
