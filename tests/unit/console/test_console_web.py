"""The console's pages over HTTP on a SQLite read model: sign-in, CSRF, rate limit, access per network, language."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from console_events import assignment_made, plan_published, rejected, shortfall_detected
from verbund_console.app import Console, build
from verbund_console.settings import ConsoleSettings
from verbund_console.store.database import migrate

PASSWORD = "correct horse battery staple"


def settings_for(tmp_path: Path, **extra: Any) -> ConsoleSettings:
    return ConsoleSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'console.db'}",
        session_secret="s" * 40,
        consume=False,
        signin_attempts=3,
        **extra,
    )


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    settings = settings_for(tmp_path)
    await migrate(settings.database_url)
    built = build(settings)
    await built.accounts.add_user("Coord@Example.org", PASSWORD, ["n1"])
    await built.accounts.add_user("other@example.org", PASSWORD, ["n2"])
    yield built
    await built.engine.dispose()


def client_of(console: Console, **headers: str) -> httpx.AsyncClient:
    assert console.web is not None
    transport = httpx.ASGITransport(app=console.web)
    return httpx.AsyncClient(transport=transport, base_url="http://console.test", headers=headers)


async def csrf_of(client: httpx.AsyncClient, path: str = "/signin") -> str:
    page = await client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str = "coord@example.org", password: str = PASSWORD
) -> httpx.Response:
    token = await csrf_of(client)
    return await client.post("/signin", data={"csrf": token, "email": email, "password": password, "next": "/"})


async def test_nothing_but_healthz_and_the_signin_page_answers_without_signing_in(console: Console) -> None:
    async with client_of(console) as client:
        assert (await client.get("/healthz")).status_code == 200
        for path in ("/", "/n/n1/", "/n/n1/problems", "/n/n1/timeline", "/n/n1/events"):
            response = await client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/signin")


async def test_a_signin_without_the_forms_csrf_token_is_refused(console: Console) -> None:
    async with client_of(console) as client:
        await client.get("/signin")
        response = await client.post("/signin", data={"email": "coord@example.org", "password": PASSWORD})

        assert response.status_code == 400
        assert (await client.get("/")).status_code == 303


async def test_signin_sets_an_httponly_samesite_cookie_and_shows_the_granted_networks(console: Console) -> None:
    async with client_of(console) as client:
        response = await sign_in(client)

        assert response.status_code == 303
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
        home = await client.get("/")
        assert home.status_code == 200 and "/n/n1/" in home.text and "/n/n2/" not in home.text


async def test_the_cookie_is_secure_when_the_console_is_served_over_https(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, public_url="https://console.example.org")
    await migrate(settings.database_url)
    console = build(settings)
    await console.accounts.add_user("coord@example.org", PASSWORD, ["n1"])
    async with client_of(console) as client:
        response = await sign_in(client)
    await console.engine.dispose()

    assert "secure" in response.headers["set-cookie"].lower()


async def test_a_coordinator_gets_403_for_a_network_not_granted(console: Console) -> None:
    async with client_of(console) as client:
        await sign_in(client, "other@example.org")
        for path in ("/n/n1/", "/n/n1/problems", "/n/n1/timeline", "/n/n1/events"):
            assert (await client.get(path)).status_code == 403, path


async def test_failed_signins_are_limited_per_account_and_address(console: Console) -> None:
    async with client_of(console) as client:
        for _ in range(3):
            assert (await sign_in(client, password="wrong password!")).status_code == 401
        limited = await sign_in(client)

        assert limited.status_code == 429
        assert "Bitte warten Sie 15 Minuten" in limited.text


async def test_overview_and_problems_show_the_folded_events(console: Console) -> None:
    await console.ingest.event(assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W19"))
    await console.ingest.event(plan_published("n1", 1, complete=False))
    await console.ingest.event(shortfall_detected("n1", "ben", "M2"))
    await console.ingest.event(rejected("n1"))
    async with client_of(console, **{"accept-language": "en-GB,en;q=0.9"}) as client:
        await sign_in(client)
        overview = await client.get("/n/n1/")
        problems = await client.get("/n/n1/problems")
        timeline = await client.get("/n/n1/timeline")

    assert re.search(r'id="placed">1<', overview.text) and re.search(r'id="unplaced">1<', overview.text)
    assert re.search(r'id="open-shortfalls">1<', overview.text) and re.search(r'id="rejected">1<', overview.text)
    assert "version 1" in overview.text and "incomplete" in overview.text
    assert "No firm offers this module within the learner" in problems.text
    assert 'data-module="M1"' in timeline.text and "2027-W10" in timeline.text


async def test_a_redelivered_event_changes_nothing(console: Console) -> None:
    event = assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W19")

    first = await console.ingest.event(event)
    again = await console.ingest.event(event)

    assert (first, again) == (1, None)
    assert [c.seq for c in await console.read_model.changes_since("n1", 0)] == [1]


async def test_the_language_switch_overrides_the_browsers_language(console: Console) -> None:
    async with client_of(console, **{"accept-language": "en"}) as client:
        await sign_in(client)
        assert "Overview" in (await client.get("/n/n1/")).text
        token = await csrf_of(client, "/n/n1/")
        switched = await client.post("/language", data={"csrf": token, "language": "de", "back": "/n/n1/"})

        assert switched.headers["location"] == "/n/n1/"
        assert "Übersicht" in (await client.get("/n/n1/")).text
