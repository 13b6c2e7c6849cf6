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

import httpx
import pytest
from kafka_tools import consume
from verbund_console.app import Console, build
from verbund_console.settings import ConsoleSettings
from verbund_console.store.accounts import LEARNER
from verbund_console.store.database import migrate
from verbund_schemas import Envelope, load_event, topic, week_monday, week_sunday

pytestmark = [pytest.mark.kafka]

PASSWORD = "correct horse battery staple"
TIME = "2027-01-04T08:00:00Z"


@dataclass
class Learners:
    console: Console
    network: str


def made(network: str, learner: str, name: str, module: str, firm: str, start: str, end: str) -> Envelope:
    data = {
        "assignment_id": f"{network}:{learner}:{module}",
        "learner_id": learner,
        "learner_name": name,
        "module_id": module,
        "module_name": f"Module {module}",
        "firm_id": firm,
        "firm_name": f"Firm {firm}",
        "start_week": start,
        "end_week": end,
        "start_date": week_monday(start).isoformat(),
        "end_date": week_sunday(end).isoformat(),
        "plan_version": 1,
    }
    body = {"type": "AssignmentMade", "id": f"m-{uuid.uuid4().hex}", "time": TIME, "subject": network, "data": data}
    return load_event(body)


@pytest.fixture
async def learners(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Learners]:
    settings = ConsoleSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'console.db'}",
        consume=False,
        session_secret="s" * 40,
        kafka_bootstrap_servers=kafka_bootstrap,
    )
    await migrate(settings.database_url)
    console = build(settings)
    network = f"learners-{uuid.uuid4().hex[:8]}"
    for email, learner in (("anna@example.org", "anna"), ("ben@example.org", "ben")):
        await console.accounts.add_user(email, PASSWORD, [])
        await console.accounts.add_member(email, network, LEARNER, learner)
    for event in (
        made(network, "anna", "Anna Arndt", "cnc", "firm-a", "2027-W10", "2027-W13"),
        made(network, "anna", "Anna Arndt", "weld", "firm-b", "2027-W20", "2027-W23"),
        made(network, "ben", "Ben Brück", "paint", "firm-c", "2027-W12", "2027-W15"),
    ):
        await console.ingest.event(event)
    yield Learners(console, network)
    await console.broker.stop()
    await console.engine.dispose()


def client_of(console: Console) -> httpx.AsyncClient:
    assert console.web is not None
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=console.web), base_url="http://console.test")


async def csrf_of(client: httpx.AsyncClient, path: str = "/signin") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', (await client.get(path, follow_redirects=True)).text)
    assert found
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, email: str) -> httpx.Response:
    token = await csrf_of(client)
    return await client.post("/signin", data={"csrf": token, "email": email, "password": PASSWORD, "next": "/"})


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
