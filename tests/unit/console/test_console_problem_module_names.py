"""A shortfall names its module only by id: the problems page names it from the network's curricula."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from console_events import curriculum_published, learner_registered, shortfall_detected
from test_console_web import PASSWORD, client_of, settings_for, sign_in
from verbund_console.app import Console, build
from verbund_console.domain.folding import fold
from verbund_console.domain.language import texts
from verbund_console.domain.views import problem_views
from verbund_console.store.database import migrate


class Row:
    """A read-model row as the views see it."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def shortfall_row(learner: str, module: str) -> Row:
    upsert: Any = fold(shortfall_detected("n1", learner, module)).effects[0]
    return Row({**upsert.key, **upsert.values})


def test_a_shortfall_and_the_seats_that_would_resolve_it_name_the_module_and_fall_back_to_its_id() -> None:
    rows = [shortfall_row("anna", "M1"), shortfall_row("ben", "M2")]

    views = {v.problem_id: v for v in problem_views(rows, "en", texts("en"), {"M1": "CNC-Fräsen"})}

    named, unnamed = views["n1:anna:g1:M1"], views["n1:ben:g1:M2"]
    assert named.who == "Anna · Module CNC-Fräsen"
    assert named.remedies == ["any firm: 1 seats Module CNC-Fräsen, 2027-W10–2027-W20"]
    assert unnamed.who == "Ben · Module M2"
    assert unnamed.remedies == ["any firm: 1 seats Module M2, 2027-W10–2027-W20"]


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    settings = settings_for(tmp_path)
    await migrate(settings.database_url)
    built = build(settings)
    await built.accounts.add_user("coord@example.org", PASSWORD, ["n1"])
    for event in (
        curriculum_published("n1", {"M1": "CNC-Fräsen"}),
        curriculum_published("n2", {"M2": "Schweißen"}),  # another network's name for its module
        learner_registered("n1", "anna", "Anna Berg"),
        shortfall_detected("n1", "anna", "M1"),
        shortfall_detected("n1", "anna", "M2"),
    ):
        await built.ingest.event(event)
    yield built
    await built.engine.dispose()


async def test_the_problems_page_and_its_csv_show_the_modules_name_from_the_networks_curricula(
    console: Console,
) -> None:
    async with client_of(console, **{"accept-language": "en"}) as client:
        await sign_in(client)
        page = (await client.get("/n/n1/problems")).text
        exported = (await client.get("/n/n1/problems?format=csv")).content.decode("utf-8-sig")

    for shown in (page, exported):
        assert "Module CNC-Fräsen" in shown
        assert "Module M2" in shown and "Schweißen" not in shown
