"""Over HTTP with the console's own app: a coordinator adds and removes their network's firm users and learner
accounts on /n/NETWORK/people, and nobody else can."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from console_events import assignment_made, learner_registered
from test_console_web import PASSWORD, client_of, csrf_of, settings_for, sign_in
from verbund_console.app import Console, build
from verbund_console.store.accounts import FIRM
from verbund_console.store.database import migrate

PEOPLE = "/n/n1/people"


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    settings = settings_for(tmp_path)
    await migrate(settings.database_url)
    built = build(settings)
    await built.accounts.add_user("coord@example.org", PASSWORD, ["n1"])
    await built.accounts.add_user("other@example.org", PASSWORD, ["n2"])
    for event in (
        learner_registered("n1", "anna", "Anna Berg"),
        assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W13", firm_name="Kunststoff Rhein"),
        assignment_made("n1", "anna", "M2", "f2", "2027-W14", "2027-W17", firm_name="Werkzeugbau Ost"),
        learner_registered("n2", "ben", "Ben Ott"),
        assignment_made("n2", "ben", "M1", "f9", "2027-W10", "2027-W13", firm_name="Fremdfirma"),
    ):
        await built.ingest.event(event)
    yield built
    await built.engine.dispose()


async def coordinator_client(console: Console, email: str = "coord@example.org") -> httpx.AsyncClient:
    client = client_of(console, **{"accept-language": "en"})
    assert (await sign_in(client, email)).status_code == 303
    return client


async def add(client: httpx.AsyncClient, network: str = "n1", **form: str) -> httpx.Response:
    token = await csrf_of(client, f"/n/{network}/people")
    return await client.post(f"/n/{network}/people", data={"csrf": token, "do": "add", **form})


def shown_password(page: httpx.Response) -> str:
    found = re.search(r'id="initial-password">([^<]+)<', page.text)
    assert found, page.text
    return found.group(1)


async def test_a_firm_user_added_on_the_page_signs_in_with_the_password_shown_once_and_reaches_only_their_firm(
    console: Console,
) -> None:
    coordinator = await coordinator_client(console)
    page = await coordinator.get(PEOPLE)
    assert page.status_code == 200
    assert "Kunststoff Rhein (f1)" in page.text and "Fremdfirma" not in page.text, "only the network's firms"
    assert 'href="/n/n1/people"' in (await coordinator.get("/n/n1/")).text, "linked from the network's pages"

    added = await add(coordinator, role="firm", email=" HR@Kunststoff.example ", firm="f1")
    assert added.status_code == 201, added.text
    password = shown_password(added)
    assert len(password) >= 12
    listed = await coordinator.get(PEOPLE)
    assert 'data-email="hr@kunststoff.example" data-role="firm" data-subject="f1"' in listed.text
    assert password not in listed.text and "argon2" not in listed.text, "shown once, and never a hash"
    assert "data-events" not in listed.text, "no live refresh that would take the shown password away"

    firm_user = client_of(console)
    assert (await sign_in(firm_user, "hr@kunststoff.example", password)).status_code == 303
    assert (await firm_user.get("/firm/")).headers["location"] == "/f/n1/f1/"
    assert (await firm_user.get("/f/n1/f1/")).status_code == 200
    assert (await firm_user.get("/f/n1/f2/")).status_code in (403, 404), "not another firm of the network"
    for path in ("/n/n1/", PEOPLE):
        assert (await firm_user.get(path)).status_code == 403, path
    for client in (coordinator, firm_user):
        await client.aclose()


async def test_a_removed_firm_user_is_sent_to_sign_in_at_their_next_request(console: Console) -> None:
    coordinator = await coordinator_client(console)
    password = shown_password(await add(coordinator, role="firm", email="hr@kunststoff.example", firm="f1"))
    firm_user = client_of(console)
    await sign_in(firm_user, "hr@kunststoff.example", password)
    assert (await firm_user.get("/f/n1/f1/")).status_code == 200

    token = await csrf_of(coordinator, PEOPLE)
    form = {"csrf": token, "do": "remove", "email": "hr@kunststoff.example", "role": "firm", "subject": "f1"}
    removed = await coordinator.post(PEOPLE, data=form)
    assert removed.status_code == 200 and "hr@kunststoff.example is removed here." in removed.text
    assert 'data-email="hr@kunststoff.example"' not in removed.text

    ended = await firm_user.get("/f/n1/f1/")
    assert ended.status_code == 303 and ended.headers["location"].startswith("/signin")
    assert not await console.accounts.exists("hr@kunststoff.example"), "an account left with nothing is gone"
    assert (await sign_in(firm_user, "hr@kunststoff.example", password)).status_code == 401
    for client in (coordinator, firm_user):
        await client.aclose()


async def test_another_networks_coordinator_gets_403_and_changes_nobody(console: Console) -> None:
    await console.accounts.add_user("hr@kunststoff.example", PASSWORD, [])
    await console.accounts.add_member("hr@kunststoff.example", "n1", FIRM, "f1")
    stranger = await coordinator_client(console, "other@example.org")
    token = await csrf_of(stranger, "/n/n2/people")
    assert (await stranger.get(PEOPLE)).status_code == 403
    added = await stranger.post(
        PEOPLE, data={"csrf": token, "do": "add", "role": "firm", "email": "new@x.example", "firm": "f1"}
    )
    removed = await stranger.post(
        PEOPLE,
        data={"csrf": token, "do": "remove", "role": "firm", "email": "hr@kunststoff.example", "subject": "f1"},
    )
    assert (added.status_code, removed.status_code) == (403, 403)
    assert not await console.accounts.exists("new@x.example")
    assert await console.accounts.is_member("hr@kunststoff.example", "n1", FIRM, "f1")
    # Through their own network's page, neither another network's firm nor its people can be reached.
    elsewhere = await stranger.post(
        "/n/n2/people", data={"csrf": token, "do": "add", "role": "firm", "email": "new@x.example", "firm": "f1"}
    )
    assert elsewhere.status_code == 400 and not await console.accounts.exists("new@x.example")
    await stranger.post(
        "/n/n2/people",
        data={"csrf": token, "do": "remove", "role": "firm", "email": "hr@kunststoff.example", "subject": "f1"},
    )
    assert await console.accounts.is_member("hr@kunststoff.example", "n1", FIRM, "f1")
    await stranger.aclose()


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(console: Console) -> None:
    await console.accounts.add_user("hr@kunststoff.example", PASSWORD, [])
    await console.accounts.add_member("hr@kunststoff.example", "n1", FIRM, "f1")
    coordinator = await coordinator_client(console)
    for token in ({}, {"csrf": "not-the-sessions-token"}):
        added = await coordinator.post(
            PEOPLE, data={**token, "do": "add", "role": "firm", "email": "new@x.example", "firm": "f1"}
        )
        removed = await coordinator.post(
            PEOPLE,
            data={**token, "do": "remove", "role": "firm", "email": "hr@kunststoff.example", "subject": "f1"},
        )
        assert (added.status_code, removed.status_code) == (403, 403)
    assert not await console.accounts.exists("new@x.example")
    assert await console.accounts.is_member("hr@kunststoff.example", "n1", FIRM, "f1")
    await coordinator.aclose()


async def test_an_email_that_already_has_an_account_is_left_as_it_is(console: Console) -> None:
    coordinator = await coordinator_client(console)
    taken = await add(coordinator, role="firm", email="Other@example.org", firm="f1")
    assert taken.status_code == 409 and "There already is an account for other@example.org" in taken.text
    assert 'id="initial-password"' not in taken.text
    assert await console.accounts.verify("other@example.org", PASSWORD), "its password is not replaced"
    assert await console.accounts.members("other@example.org") == [], "nor is it given the firm"

    first = await add(coordinator, role="firm", email="hr@kunststoff.example", firm="f1")
    again = await add(coordinator, role="firm", email="hr@kunststoff.example", firm="f2")
    assert (first.status_code, again.status_code) == (201, 409)
    assert await console.accounts.verify("hr@kunststoff.example", shown_password(first))
    await coordinator.aclose()


async def test_a_coordinator_adds_a_learner_of_the_network_but_never_a_coordinator_or_an_unknown_firm_or_learner(
    console: Console,
) -> None:
    coordinator = await coordinator_client(console)
    for form, status in (
        ({"role": "coordinator", "email": "boss@x.example", "firm": "f1"}, 400),
        ({"role": "firm", "email": "boss@x.example", "firm": "f9"}, 400),  # a firm of another network
        ({"role": "learner", "email": "boss@x.example", "learner": "ben"}, 400),  # a learner of another network
        ({"role": "firm", "email": "not an address", "firm": "f1"}, 400),
    ):
        refused = await add(coordinator, **form)
        assert refused.status_code == status, form
    assert not await console.accounts.exists("boss@x.example")
    assert await console.accounts.grants("boss@x.example") == []

    added = await add(coordinator, role="learner", email="anna@example.org", learner="anna")
    assert added.status_code == 201
    learner = client_of(console)
    await sign_in(learner, "anna@example.org", shown_password(added))
    assert (await learner.get("/learner/")).headers["location"] == "/l/n1/anna/"
    assert (await learner.get(PEOPLE)).status_code == 403
    listed = await coordinator.get(PEOPLE)
    assert 'data-role="learner" data-subject="anna"' in listed.text and "Anna Berg (anna)" in listed.text
    for client in (coordinator, learner):
        await client.aclose()


async def test_the_people_page_speaks_german(console: Console) -> None:
    client = client_of(console, **{"accept-language": "de"})
    await sign_in(client)
    page = await client.get(PEOPLE)
    assert "Konto für einen Betrieb anlegen" in page.text and "Konten der Betriebe und Lernenden" in page.text
    await client.aclose()
