"""Firm users on the console with the real broker: each sees and changes only their own firm, every change
leaves as a contract event stamped with the signed-in firm user, and coordinators' pages stay closed to them."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from console_on_kafka import (
    PASSWORD,
    TIME,
    assignment_made,
    client_of,
    console_on_kafka,
    console_settings,
    csrf_of,
    sign_in,
)
from kafka_tools import consume
from verbund_console.app import Console
from verbund_console.store.accounts import FIRM, LEARNER
from verbund_schemas import Envelope, load_event, topic

pytestmark = [pytest.mark.kafka]


@dataclass
class Desk:
    console: Console
    network: str


def inbound(network: str, event_type: str, data: dict[str, Any], **envelope: Any) -> Envelope:
    body = {"type": event_type, "id": f"e-{uuid.uuid4().hex}", "time": TIME, "subject": network, "data": data}
    return load_event({**body, **envelope})


def made(network: str, learner: str, name: str, firm: str, start: str, end: str) -> Envelope:
    return assignment_made(network, learner, name, "cnc", firm, start, end, module_name="CNC machining")


@pytest.fixture
async def desk(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Desk]:
    async with console_on_kafka(console_settings(kafka_bootstrap, tmp_path)) as console:
        network = f"portal-{uuid.uuid4().hex[:8]}"
        accounts = console.accounts
        await accounts.add_user("coord@example.org", PASSWORD, [network])
        for email, role, subject in (
            ("hr@firm-a.example.org", FIRM, "firm-a"),
            ("hr@firm-b.example.org", FIRM, "firm-b"),
            ("anna@example.org", LEARNER, "anna"),
        ):
            await accounts.add_user(email, PASSWORD, [])
            await accounts.add_member(email, network, role, subject)
        offer = {"module_id": "cnc", "first_week": "2027-W10", "last_week": "2027-W35", "max_seats": 2}
        firm_a = {"firm_id": "firm-a", "name": "Anker Kunststoff", "location": {"city": "Aachen"}}
        firm_b = {"firm_id": "firm-b", "name": "Brandt Formenbau", "location": {"city": "Köln"}}
        for event in (
            inbound(network, "FirmRegistered", firm_a),
            inbound(network, "FirmRegistered", firm_b),
            inbound(
                network,
                "CurriculumPublished",
                {
                    "curriculum_id": "c1",
                    "name": "Plan",
                    "modules": [{"module_id": "cnc", "name": "CNC machining", "duration_weeks": 4}],
                    "groups": [{"group_id": "g", "name": "G", "module_ids": ["cnc"], "required": 1}],
                },
            ),
            inbound(network, "CapacityOffered", {"offer_id": "a-cnc", "firm_id": "firm-a", **offer, "min_seats": 1}),
            inbound(network, "CapacityOffered", {"offer_id": "b-cnc", "firm_id": "firm-b", **offer}),
            made(network, "anna", "Anna Arndt", "firm-a", "2027-W10", "2027-W13"),
            made(network, "ben", "Ben Brück", "firm-b", "2027-W12", "2027-W15"),
        ):
            await console.ingest.event(event)
        yield Desk(console, network)


async def signed_in(client: httpx.AsyncClient, email: str) -> str:
    answer = await sign_in(client, email)
    assert answer.status_code == 303, answer.text
    return await csrf_of(client, "/firm/" if "firm" in email else "/")


async def offer_posted(client: httpx.AsyncClient, page: str, token: str, **offer: str) -> httpx.Response:
    """The new-offer form of a firm's page (`page` ends without a slash) sent with the given fields."""
    return await client.post(f"{page}/offers", data={"csrf": token, "module_id": "cnc", **offer})


async def placement_answered(
    client: httpx.AsyncClient, page: str, token: str, learner: str, start_week: str, **answer: str
) -> httpx.Response:
    """A placement's answer form of a firm's page (`page` ends without a slash) sent with the given fields."""
    placement = {"learner_id": learner, "module_id": "cnc", "start_week": start_week}
    return await client.post(f"{page}/placements", data={"csrf": token, **placement, **answer})


async def on_topic(bootstrap: str, network: str, count: int) -> list[dict[str, Any]]:
    def enough(records: list[Any]) -> bool:
        return bool(sum(r.key == network.encode() for r in records) >= count)

    records = await consume(bootstrap, topic("inbound"), until=enough, timeout=30)
    return [json.loads(r.value or b"{}") for r in records if r.key == network.encode()]


async def test_a_firm_user_sees_only_their_own_firm_and_no_coordinator_page(desk: Desk) -> None:
    n = desk.network
    async with client_of(desk.console) as client:
        await signed_in(client, "hr@firm-a.example.org")
        home = await client.get("/", follow_redirects=True)
        own = await client.get(f"/f/{n}/firm-a/")
        closed = {
            path: (await client.get(path)).status_code
            for path in (
                f"/f/{n}/firm-b/",
                f"/f/other-{n}/firm-a/",
                f"/n/{n}/",
                f"/n/{n}/timeline",
                f"/n/{n}/firms",
                f"/n/{n}/problems",
                f"/n/{n}/learners/ben.ics",
                f"/n/{n}/firms/firm-b.ics",
                f"/n/{n}/events",
                "/mail",
            )
        }
        token = await csrf_of(client, f"/f/{n}/firm-a/")
        # Another firm's offer through the user's own firm, and a placement at another firm: as if unknown.
        other_offer = await client.post(f"/f/{n}/firm-a/offers/b-cnc/withdraw", data={"csrf": token, "reason": "x"})
        other_placement = await placement_answered(
            client, f"/f/{n}/firm-a", token, "ben", "2027-W12", answer="declined", reason="x"
        )

    assert str(home.url).endswith(f"/f/{n}/firm-a/"), home.url
    assert own.status_code == 200
    assert "Anker Kunststoff" in own.text and "Anna Arndt" in own.text and "2027-W10–2027-W35" in own.text
    assert "2027-W13" in own.text  # the per-week table runs to the placement's last week
    assert "Ben Brück" not in own.text and "Brandt" not in own.text and "b-cnc" not in own.text
    assert set(closed.values()) == {403}, closed
    assert (other_offer.status_code, other_placement.status_code) == (404, 404)


async def test_a_learner_account_opens_neither_coordinator_nor_firm_pages(desk: Desk) -> None:
    n = desk.network
    async with client_of(desk.console) as client:
        await sign_in(client, "anna@example.org")
        statuses = {
            p: (await client.get(p)).status_code for p in (f"/n/{n}/", f"/f/{n}/firm-a/", f"/n/{n}/learners/anna.ics")
        }
    assert set(statuses.values()) == {403}, statuses


async def test_offers_and_answers_sent_from_the_page_reach_the_topic_stamped_with_the_firm_user(
    desk: Desk, kafka_bootstrap: str
) -> None:
    n = desk.network
    async with client_of(desk.console) as client:
        token = await signed_in(client, "hr@firm-a.example.org")
        base = f"/f/{n}/firm-a"
        posted = await offer_posted(
            client, base, token, first_week="2027-W40", last_week="2027-W50", max_seats="3", min_seats="1"
        )
        changed = await client.post(
            f"{base}/offers/a-cnc/change",
            data={"csrf": token, "first_week": "2027-W10", "last_week": "2027-W35", "max_seats": "4", "min_seats": "1"},
        )
        withdrawn = await client.post(f"{base}/offers/a-cnc/withdraw", data={"csrf": token, "reason": "machine sold"})
        declined = await placement_answered(
            client, base, token, "anna", "2027-W10", answer="declined", reason="no trainer in March"
        )
        sent = await client.get(withdrawn.headers["location"])
    assert [r.status_code for r in (posted, changed, withdrawn, declined)] == [303] * 4
    assert "Sent" in sent.text or "Gesendet" in sent.text

    events = await on_topic(kafka_bootstrap, n, 4)
    assert [e["type"] for e in events] == [
        "CapacityOffered",
        "CapacityChanged",
        "CapacityWithdrawn",
        "PlacementAnswered",
    ]
    for event in events:
        assert event["authcontext"] == {
            "authtype": "user",
            "principalid": "hr@firm-a.example.org",
            "role": "firm",
            "network_id": n,
            "firm_id": "firm-a",
            "learner_id": None,
        }
        assert event["subject"] == n
    offered, change, withdrawal, answer = (e["data"] for e in events)
    assert offered["firm_id"] == "firm-a" and offered["max_seats"] == 3 and offered["first_week"] == "2027-W40"
    assert change == {"offer_id": "a-cnc", "first_week": None, "last_week": None, "max_seats": 4, "min_seats": None}
    assert withdrawal == {"offer_id": "a-cnc", "reason": "machine sold"}
    assert answer == {
        "learner_id": "anna",
        "module_id": "cnc",
        "firm_id": "firm-a",
        "start_week": "2027-W10",
        "answer": "declined",
        "reason": "no trainer in March",
    }


async def test_an_invalid_offer_shows_the_contracts_message_and_a_form_without_its_token_is_refused(
    desk: Desk, kafka_bootstrap: str
) -> None:
    n = desk.network
    async with client_of(desk.console) as client:
        token = await signed_in(client, "hr@firm-a.example.org")
        page = f"/f/{n}/firm-a"
        backwards = await offer_posted(client, page, token, first_week="2027-W20", last_week="2027-W05", max_seats="2")
        too_few = await offer_posted(
            client, page, token, first_week="2027-W20", last_week="2027-W25", max_seats="1", min_seats="2"
        )
        no_reason = await placement_answered(client, page, token, "anna", "2027-W10", answer="declined")
        forged = await client.post(
            f"/f/{n}/firm-a/offers",
            data={"module_id": "cnc", "first_week": "2027-W20", "last_week": "2027-W25", "max_seats": "2"},
        )
        # Sent last: once it is on the topic, everything before it was either produced or not.
        marker = await client.post(f"/f/{n}/firm-a/offers/a-cnc/withdraw", data={"csrf": token})

    assert backwards.status_code == 422 and "last_week 2027-W05 is before first_week 2027-W20" in backwards.text
    assert too_few.status_code == 422 and "min_seats 2 is more than max_seats 1" in too_few.text
    assert no_reason.status_code == 422 and "a declined placement needs a reason" in no_reason.text
    assert forged.status_code == 403
    assert marker.status_code == 303
    events = await on_topic(kafka_bootstrap, n, 1)
    assert [e["type"] for e in events] == ["CapacityWithdrawn"]


async def test_an_answer_on_the_topic_shows_beside_the_placement(desk: Desk) -> None:
    n = desk.network
    sender = {
        "authtype": "user",
        "principalid": "hr@firm-a.example.org",
        "role": "firm",
        "network_id": n,
        "firm_id": "firm-a",
    }
    answer = {
        "learner_id": "anna",
        "module_id": "cnc",
        "firm_id": "firm-a",
        "start_week": "2027-W10",
        "answer": "accepted",
    }
    await desk.console.ingest.event(inbound(n, "PlacementAnswered", answer, authcontext=sender))
    async with client_of(desk.console) as client:
        await signed_in(client, "hr@firm-a.example.org")
        page = await client.get(f"/f/{n}/firm-a/")
    row = re.search(r'<tr class="placement" data-learner="anna">.*?</tr>', page.text, re.S)
    assert row and ("accepted" in row.group(0) or "angenommen" in row.group(0)), page.text
