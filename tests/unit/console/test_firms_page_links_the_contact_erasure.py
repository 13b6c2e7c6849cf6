"""The firms timeline links each firm's contact erasure for the network's coordinators only, guarded by CSRF and a
typed confirmation before anything is produced."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from console_events import capacity_offered
from test_console_web import PASSWORD, client_of, settings_for, sign_in
from verbund_console.app import Console, build
from verbund_console.store.accounts import FIRM
from verbund_console.store.database import migrate


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    settings = settings_for(tmp_path)
    await migrate(settings.database_url)
    built = build(settings)
    await built.accounts.add_user("coord@example.org", PASSWORD, ["n1"])
    await built.accounts.add_user("firm@example.org", PASSWORD, [])
    await built.accounts.add_member("firm@example.org", "n1", FIRM, "f1")
    for event in (
        capacity_offered("n1", "o1", "f1", "M1", "2027-W01", "2027-W20", 2),
        capacity_offered("n1", "o2", "f.2", "M1", "2027-W01", "2027-W20", 1),
    ):
        await built.ingest.event(event)
    yield built
    await built.engine.dispose()


async def test_each_firm_row_of_the_firms_timeline_links_its_contact_page_with_the_erase_form(
    console: Console,
) -> None:
    async with client_of(console, **{"accept-language": "en"}) as client:
        await sign_in(client)
        firms = await client.get("/n/n1/firms")
        links = re.findall(r'href="(/n/n1/firms/[^"]+/contact)"', firms.text)
        page = await client.get("/n/n1/firms/f1/contact")

    assert firms.status_code == 200
    assert sorted(set(links)) == ["/n/n1/firms/f.2/contact", "/n/n1/firms/f1/contact"]
    assert page.status_code == 200 and 'id="erase-contact"' in page.text
    assert 'action="/n/n1/firms/f1/contact/erase"' in page.text


async def test_without_the_csrf_token_or_with_a_wrong_firm_id_typed_the_contact_is_not_erased(console: Console) -> None:
    async with client_of(console, **{"accept-language": "en"}) as client:
        await sign_in(client)
        page = await client.get("/n/n1/firms/f1/contact")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        no_csrf = await client.post("/n/n1/firms/f1/contact/erase", data={"confirm": "f1"})
        wrong = await client.post("/n/n1/firms/f1/contact/erase", data={"csrf": csrf.group(1), "confirm": "f.2"})

    assert no_csrf.status_code == 403 and "expired" in no_csrf.text
    assert wrong.status_code == 400 and "does not match f1" in wrong.text


async def test_a_firm_user_may_neither_open_nor_erase_a_firms_contact(console: Console) -> None:
    async with client_of(console, **{"accept-language": "en"}) as client:
        await sign_in(client, "firm@example.org")
        page = await client.get("/n/n1/firms/f1/contact")
        erase = await client.post("/n/n1/firms/f1/contact/erase", data={"confirm": "f1"})

    assert page.status_code == 403 and 'id="erase-contact"' not in page.text
    assert erase.status_code == 403
