"""The learner timeline links each learner's data page (export, erasure) for the network's coordinators only."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from console_events import assignment_made, learner_registered
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
        learner_registered("n1", "anna", "Anna Berg", first_week="2027-W01"),
        learner_registered("n1", "ben.2", "Ben Ott", first_week="2027-W01"),
        assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W13", learner_name="Anna Berg"),
    ):
        await built.ingest.event(event)
    yield built
    await built.engine.dispose()


async def test_each_learner_row_of_the_timeline_links_their_data_page_and_the_link_opens_it(console: Console) -> None:
    async with client_of(console, **{"accept-language": "en"}) as client:
        await sign_in(client)
        timeline = await client.get("/n/n1/timeline")
        links = re.findall(r'href="(/n/n1/learners/[^"]+/data)"', timeline.text)
        page = await client.get(links[0])

    assert timeline.status_code == 200
    assert sorted(links) == ["/n/n1/learners/anna/data", "/n/n1/learners/ben.2/data"]
    assert page.status_code == 200 and "export.json" in page.text


async def test_a_firm_user_sees_no_timeline_and_so_no_link_to_a_learners_data(console: Console) -> None:
    async with client_of(console, **{"accept-language": "en"}) as client:
        await sign_in(client, "firm@example.org")
        timeline = await client.get("/n/n1/timeline")
        data = await client.get("/n/n1/learners/anna/data")

    assert timeline.status_code in (303, 403) and "/learners/anna/data" not in timeline.text
    assert data.status_code in (303, 403)
