"""The plan history says after which inbound event each version came, as the matcher's PlanPublished names it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from console_events import assignment_changed, assignment_made, learner_registered, plan_published
from test_console_web import PASSWORD, client_of, settings_for, sign_in
from verbund_console.app import Console, build
from verbund_console.domain.history import cause_in_words
from verbund_console.store.database import migrate
from verbund_schemas import InboundCause, PlanPublished

WITHDRAWN = "0b7e3c1e-7d1c-4c1e-9f57-2f1d1e0a9a01"


def caused(plan: PlanPublished, *causes: tuple[str, str], count: int | None = None) -> PlanPublished:
    data = plan.data.model_copy(
        update={
            "caused_by": [InboundCause(event_id=i, type=t) for i, t in causes],
            "caused_by_count": len(causes) if count is None else count,
        }
    )
    return plan.model_copy(update={"data": data})


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    settings = settings_for(tmp_path)
    await migrate(settings.database_url)
    built = build(settings)
    await built.accounts.add_user("coord@example.org", PASSWORD, ["n1"])
    made = assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W13", learner_name="Anna Berg")
    first = [("11111111-aaaa-4aaa-8aaa-000000000001", "NetworkConfigured")]
    first += [(f"11111111-aaaa-4aaa-8aaa-00000000000{i}", "LearnerRegistered") for i in range(2, 6)]
    for event in (
        learner_registered("n1", "anna", "Anna Berg"),
        made,
        caused(plan_published("n1", 1, made=1), *first, count=12),
        assignment_changed(made, 2, firm="f2", start="2027-W14", end="2027-W17"),
        caused(plan_published("n1", 2, changed=1), (WITHDRAWN, "CapacityWithdrawn")),
        assignment_changed(made, 3, firm="f1", start="2027-W20", end="2027-W23"),
        plan_published("n1", 3, changed=1),  # the scheduled re-optimisation's: no inbound cause
    ):
        await built.ingest.event(event)
    yield built
    await built.engine.dispose()


async def test_each_version_of_the_history_names_the_inbound_event_it_followed(console: Console) -> None:
    async with client_of(console, **{"accept-language": "en"}) as client:
        await sign_in(client)
        page = await client.get("/n/n1/history")
        exported = await client.get("/n/n1/history?format=csv")

    assert page.status_code == 200
    causes = dict(re.findall(r'data-version="(\d)">.*?(?:<p class="cause">([^<]*)</p>|</section>)', page.text, re.S))
    assert causes["2"] == f"after CapacityWithdrawn {WITHDRAWN}"
    assert causes["1"] == (
        "after NetworkConfigured 11111111-aaaa-4aaa-8aaa-000000000001, LearnerRegistered "
        "11111111-aaaa-4aaa-8aaa-000000000002, LearnerRegistered 11111111-aaaa-4aaa-8aaa-000000000003 and 9 more"
    )
    assert causes["3"] == ""
    # The CSV names the same cause on each line of its version (a spreadsheet has no page headings).
    lines = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert exported.status_code == 200 and lines
    assert {line["caused_by"] for line in lines if line["plan_version"] == "2"} == {
        f"after CapacityWithdrawn {WITHDRAWN}"
    }
    assert {line["caused_by"] for line in lines if line["plan_version"] == "3"} == {""}


async def test_the_history_names_the_cause_in_german_too(console: Console) -> None:
    async with client_of(console, **{"accept-language": "de"}) as client:
        await sign_in(client)
        page = await client.get("/n/n1/history")

    assert f'<p class="cause">nach CapacityWithdrawn {WITHDRAWN}</p>' in page.text


def test_a_few_causes_are_listed_and_the_rest_counted() -> None:
    one = [{"event_id": "e1", "type": "CapacityOffered"}]
    two = [*one, {"event_id": "e2", "type": "CapacityChanged"}]
    assert cause_in_words([], 0, "en") == ""
    assert cause_in_words(one, 1, "en") == "after CapacityOffered e1"
    assert cause_in_words(two, 2, "de") == "nach CapacityOffered e1 und CapacityChanged e2"
    assert cause_in_words(two, 7, "en") == "after CapacityOffered e1, CapacityChanged e2 and 5 more"
