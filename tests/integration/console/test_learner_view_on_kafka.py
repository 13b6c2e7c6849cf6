"""Learners on the console with the real broker: each sees only their own plan and calendar feed, a revoked
feed is refused, preferences leave stamped with the learner, and a sign-in starts a fresh session."""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from console_on_kafka import (
    PASSWORD,
    assignment_made,
    client_of,
    console_on_kafka,
    console_settings,
    csrf_of,
    sign_in,
)
from kafka_tools import consume
from verbund_console.app import Console
from verbund_console.store.accounts import LEARNER
from verbund_schemas import topic

pytestmark = [pytest.mark.kafka]


@dataclass
class Learners:
    console: Console
    network: str


@pytest.fixture
async def learners(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Learners]:
    async with console_on_kafka(console_settings(kafka_bootstrap, tmp_path)) as console:
        network = f"learners-{uuid.uuid4().hex[:8]}"
        for email, learner in (("anna@example.org", "anna"), ("ben@example.org", "ben")):
            await console.accounts.add_user(email, PASSWORD, [])
            await console.accounts.add_member(email, network, LEARNER, learner)
        for event in (
            assignment_made(network, "anna", "Anna Arndt", "cnc", "firm-a", "2027-W10", "2027-W13"),
            assignment_made(network, "anna", "Anna Arndt", "weld", "firm-b", "2027-W20", "2027-W23"),
            assignment_made(network, "ben", "Ben Brück", "paint", "firm-c", "2027-W12", "2027-W15"),
        ):
            await console.ingest.event(event)
        yield Learners(console, network)


async def test_a_learner_sees_their_own_plan_and_nothing_of_another_learner(learners: Learners) -> None:
    n = learners.network
    async with client_of(learners.console) as client:
        await sign_in(client, "anna@example.org")
        own = await client.get("/", follow_redirects=True)
        token = await csrf_of(client, f"/l/{n}/anna/")
        refused = {
            "ben's page": (await client.get(f"/l/{n}/ben/")).status_code,
            "ben's page in another network": (await client.get(f"/l/other-{n}/ben/")).status_code,
            "a link to ben's calendar": (await client.post(f"/l/{n}/ben/feeds", data={"csrf": token})).status_code,
            "revoking ben's links": (await client.post(f"/l/{n}/ben/feeds/revoke", data={"csrf": token})).status_code,
            "ben's preferences": (
                await client.post(f"/l/{n}/ben/preferences", data={"csrf": token, "firm:firm-c": "-10"})
            ).status_code,
            "the coordinators' calendar of ben": (await client.get(f"/n/{n}/learners/ben.ics")).status_code,
            "the coordinators' overview": (await client.get(f"/n/{n}/")).status_code,
            "a firm page": (await client.get(f"/f/{n}/firm-c/")).status_code,
        }
    assert str(own.url).endswith(f"/l/{n}/anna/")
    assert "Anna Arndt" in own.text and "Module cnc" in own.text and "Module weld" in own.text
    plan = re.search(r'<section id="plan">.*?</section>', own.text, re.S)
    assert plan and "Module cnc" in plan.group(0)
    # The network's modules and firms are on the preferences form; nothing of Ben's is anywhere.
    assert "Ben" not in own.text and "paint" not in plan.group(0) and "firm-c" not in plan.group(0)
    assert refused == dict.fromkeys(refused, 403)


async def test_a_calendar_link_works_without_signing_in_until_revoked_and_opens_only_its_learner(
    learners: Learners,
) -> None:
    n = learners.network
    async with client_of(learners.console) as anna:
        await sign_in(anna, "anna@example.org")
        token = await csrf_of(anna, f"/l/{n}/anna/")
        page = await anna.post(f"/l/{n}/anna/feeds", data={"csrf": token})
        found = re.search(
            r'id="feed-url" readonly size="80" value="http://console\.test(/calendar/[^"]+\.ics)"', page.text
        )
        assert found, page.text
        link = found.group(1)
        again = await anna.get(f"/l/{n}/anna/")
        async with client_of(learners.console) as calendar_app:
            subscribed = await calendar_app.get(link)
            guessed = await calendar_app.get("/calendar/vbc_" + "A" * 43 + ".ics")
            await anna.post(f"/l/{n}/anna/feeds/revoke", data={"csrf": token})
            revoked = await calendar_app.get(link)

    assert link not in again.text, "the link is shown once"
    assert subscribed.status_code == 200 and subscribed.headers["content-type"].startswith("text/calendar")
    assert "Module cnc" in subscribed.text and "Module weld" in subscribed.text and "paint" not in subscribed.text
    assert (guessed.status_code, revoked.status_code) == (404, 404)
    assert "BEGIN:VCALENDAR" not in revoked.text


async def test_preferences_leave_stamped_with_the_learner_and_are_checked_against_the_contract(
    learners: Learners, kafka_bootstrap: str
) -> None:
    n = learners.network
    async with client_of(learners.console) as client:
        await sign_in(client, "anna@example.org")
        token = await csrf_of(client, f"/l/{n}/anna/")
        too_much = await client.post(f"/l/{n}/anna/preferences", data={"csrf": token, "firm:firm-a": "11"})
        forged = await client.post(f"/l/{n}/anna/preferences", data={"firm:firm-a": "5"})
        sent = await client.post(
            f"/l/{n}/anna/preferences", data={"csrf": token, "firm:firm-a": "5", "module:weld": "-3", "firm:firm-b": ""}
        )

    assert too_much.status_code == 422 and "firm preference for 'firm-a' is 11" in html.unescape(too_much.text)
    assert forged.status_code == 403
    assert sent.status_code == 303

    def arrived(records: list[Any]) -> bool:
        return any(r.key == n.encode() for r in records)

    records = await consume(kafka_bootstrap, topic("inbound"), until=arrived, timeout=30)
    events = [json.loads(r.value or b"{}") for r in records if r.key == n.encode()]
    assert [e["type"] for e in events] == ["LearnerPreferencesStated"]
    assert events[0]["data"] == {
        "learner_id": "anna",
        "module_preferences": {"weld": -3},
        "firm_preferences": {"firm-a": 5},
    }
    assert events[0]["authcontext"] == {
        "authtype": "user",
        "principalid": "anna@example.org",
        "role": "learner",
        "network_id": n,
        "firm_id": None,
        "learner_id": "anna",
    }


async def test_a_session_cookie_set_before_signing_in_does_not_carry_the_sign_in(learners: Learners) -> None:
    async with client_of(learners.console) as victim:
        await victim.get("/signin")
        planted = victim.cookies["verbund_session"]
        assert (await sign_in(victim, "anna@example.org")).status_code == 303
        after = victim.cookies["verbund_session"]
        async with client_of(learners.console) as attacker:
            attacker.cookies.set("verbund_session", planted, domain="console.test")
            fixed = await attacker.get("/learner/")

    assert after != planted
    assert fixed.status_code == 303 and fixed.headers["location"].startswith("/signin")
