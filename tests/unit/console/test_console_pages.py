"""The console's further pages over HTTP on a SQLite read model: per-firm timeline, filters and zoom, utilisation,
plan history, rejected events, the CSV exports and the calendars."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import icalendar
import pytest
from console_events import (
    assignment_cancelled,
    assignment_changed,
    assignment_made,
    capacity_offered,
    curriculum_published,
    learner_registered,
    plan_published,
    rejected,
    shortfall_detected,
)
from test_console_web import PASSWORD, client_of, settings_for, sign_in
from verbund_console.app import Console, build
from verbund_console.domain.views import overview
from verbund_console.store.database import migrate

PAGES = ("firms", "utilisation", "history", "rejected")


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    settings = settings_for(tmp_path)
    await migrate(settings.database_url)
    built = build(settings)
    await built.accounts.add_user("coord@example.org", PASSWORD, ["n1"])
    await built.accounts.add_user("other@example.org", PASSWORD, ["n2"])
    made = assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W13", learner_name="Anna Berg")
    for event in (
        learner_registered("n1", "anna", "Anna Berg", first_week="2027-W01"),
        learner_registered("n1", "ben", "Ben Ott", first_week="2026-W30"),
        learner_registered("n1", "cem", "=Cem Aydin", first_week="2027-W01"),
        capacity_offered("n1", "o1", "f1", "M1", "2027-W08", "2027-W13", max_seats=2, min_seats=2),
        capacity_offered("n1", "o2", "f2", "M2", "2027-W10", "2027-W20", max_seats=1),
        made,
        assignment_made("n1", "ben", "M1", "f1", "2027-W12", "2027-W13", learner_name="Ben Ott"),
        plan_published("n1", 1, made=2),
        assignment_changed(made, 2, firm="f2", start="2027-W14", end="2027-W17"),
        assignment_made("n1", "anna", "M2", "f2", "2027-W18", "2027-W20", version=2, learner_name="Anna Berg"),
        plan_published("n1", 2, changed=1, made=1),
        shortfall_detected("n1", "ben", "M2", version=2),
        rejected("n1", b'{"type": "CapacityOffered", "x": "<script>alert(1)</script>"}'),
    ):
        await built.ingest.event(event)
    yield built
    await built.engine.dispose()


@asynccontextmanager
async def signed_in(console: Console, language: str = "en") -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(console, **{"accept-language": language}) as client:
        await sign_in(client)
        yield client


def rows_of(response: httpx.Response) -> list[list[str]]:
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8, marked for spreadsheets
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_the_new_pages_need_a_signin_and_a_grant(console: Console) -> None:
    async with client_of(console) as client:
        for page in PAGES:
            assert (await client.get(f"/n/n1/{page}")).status_code == 303, page
        assert (await client.get("/n/n1/learners/anna.ics")).status_code == 303
    async with client_of(console) as client:
        await sign_in(client, "other@example.org")
        for path in [*(f"/n/n1/{p}" for p in PAGES), "/n/n1/learners/anna.ics", "/n/n1/firms/f1.ics"]:
            assert (await client.get(path)).status_code == 403, path
        assert (await client.get("/n/n1/history?format=csv")).status_code == 403


async def test_every_page_links_every_other_page_in_both_languages(console: Console) -> None:
    for language, word in (("de", "Auslastung"), ("en", "Utilisation")):
        async with signed_in(console, language) as client:
            for page in ("", "problems", "timeline", *PAGES):
                shown = await client.get(f"/n/n1/{page}")
                assert shown.status_code == 200, page
                for other in ("problems", "timeline", *PAGES):
                    assert f'href="/n/n1/{other}"' in shown.text, (page, other)
                assert word in shown.text


async def test_the_learner_timeline_filters_by_firm_module_cohort_status_and_name(console: Console) -> None:
    async with signed_in(console) as client:

        async def learners(query: str) -> list[str]:
            page = await client.get(f"/n/n1/timeline{query}")
            return re.findall(r'class="row" data-learner="([^"]+)"', page.text)

        assert await learners("") == ["cem", "anna", "ben"]  # by name: "=Cem Aydin" sorts first
        assert await learners("?search=ann") == ["anna"]
        assert await learners("?search=%25") == []  # a wildcard is searched for, not matched
        assert await learners("?cohort=2026") == ["ben"]
        assert await learners("?status=placed") == ["anna"]
        assert await learners("?status=partial") == ["ben"]
        assert await learners("?status=unplaced") == ["cem"]
        assert await learners("?firm=f2") == ["anna"]
        assert await learners("?module=M1&firm=f1") == ["ben"]  # Anna moved away from f1
        focused = await client.get("/n/n1/timeline?firm=f2")
        assert focused.text.count("bar dimmed") == 0 and focused.text.count('class="bar"') == 2
        nothing = await client.get("/n/n1/timeline?search=nobody")
        assert "Nothing matches this filter." in nothing.text


async def test_zoom_changes_the_scale_and_is_kept_by_the_filters(console: Console) -> None:
    async with signed_in(console) as client:
        week = await client.get("/n/n1/timeline?zoom=week&status=placed")
        year = await client.get("/n/n1/timeline?zoom=year")

    assert "zoom-week" in week.text and "min-width: calc(14rem + " in week.text
    assert ">W11<" in week.text
    assert 'name="zoom" value="week"' in week.text
    assert 'href="?status=placed&amp;zoom=year"' in week.text
    assert "zoom-year" in year.text and "min-width" not in year.text


async def test_the_firm_timeline_has_a_row_per_firm_and_module_with_a_bar_per_learner(console: Console) -> None:
    async with signed_in(console) as client:
        page = await client.get("/n/n1/firms")
        only_ben = await client.get("/n/n1/firms?search=ben")
        exported = rows_of(await client.get("/n/n1/firms?format=csv"))

    rows = re.findall(r'class="row" data-firm="([^"]+)" data-module="([^"]+)"', page.text)
    assert rows == [("f1", "M1"), ("f2", "M1"), ("f2", "M2")]  # Anna moved M1 to f2
    assert 'data-learner="ben"' in page.text and page.text.count('data-learner="anna"') == 2
    assert re.findall(r'class="row" data-firm="([^"]+)"', only_ben.text) == ["f1"]
    assert exported[0][:6] == ["firm_id", "firm_name", "module_id", "module_name", "learner_id", "learner_name"]
    assert [(r[0], r[4], r[6]) for r in exported[1:]] == [
        ("f1", "ben", "2027-W12"),
        ("f2", "anna", "2027-W14"),
        ("f2", "anna", "2027-W18"),
    ]


async def test_the_heatmap_marks_weeks_below_the_minimum_and_full_weeks_and_a_cell_names_who_is_there(
    console: Console,
) -> None:
    async with signed_in(console) as client:
        page = await client.get("/n/n1/utilisation")
        there = await client.get("/n/n1/utilisation/week?firm=f1&module=M1&week=2027-W13")
        bad_week = await client.get("/n/n1/utilisation/week?firm=f1&module=M1&week=soon")
        exported = rows_of(await client.get("/n/n1/utilisation?format=csv&firm=f1"))

    f1 = page.text[page.text.index('data-firm="f1"') : page.text.index('data-firm="f2"')]
    assert re.search(r'data-week="2027-W10" data-state="under">.*?>0▾</a>', f1, re.S)  # Anna moved away
    assert re.search(r'data-week="2027-W12" data-state="full">.*?>1●</a>', f1, re.S) is None  # 1 of max 2
    assert re.search(r'data-week="2027-W12" data-state="under">.*?>1▾</a>', f1, re.S)
    assert "week=2027-W13" in f1
    assert there.status_code == 200 and "Ben Ott" in there.text and "Anna Berg" not in there.text
    assert bad_week.status_code == 404
    header, *cells = exported
    assert header == [
        "firm_id",
        "firm_name",
        "module_id",
        "module_name",
        "week",
        "planned",
        "min_seats",
        "max_seats",
        "state",
    ]
    assert ["f1", "Firm f1", "M1", "Module M1", "2027-W13", "1", "2", "2", "under"] in cells
    assert all(c[0] == "f1" for c in cells)


async def test_the_overview_counted_by_the_database_is_the_overview_of_the_rows(console: Console) -> None:
    rows = await console.read_model.overview_rows("n1")

    counted = await console.read_model.overview("n1")

    assert counted == overview(rows.learners, rows.offers, rows.assignments, rows.problems, rows.rejected_24h)
    assert (counted.placed, counted.partial, counted.unplaced) == (1, 1, 1)
    assert (counted.seats_offered, counted.seats_used, counted.open_shortfalls) == (23, 9, 1)


async def test_an_offered_module_nobody_is_assigned_to_is_shown_by_its_name_from_the_curriculum(
    console: Console,
) -> None:
    await console.ingest.event(curriculum_published("n1", {"M1": "Grundlagen", "M3": "Spritzgießen"}))
    await console.ingest.event(capacity_offered("n1", "o3", "f1", "M3", "2027-W10", "2027-W20", max_seats=2))

    async with signed_in(console) as client:
        heatmap = await client.get("/n/n1/utilisation")
        firms = await client.get("/n/n1/firms")
        exported = rows_of(await client.get("/n/n1/utilisation?format=csv&module=M3"))

    unused = heatmap.text[heatmap.text.index('data-module="M3"') :]
    assert "Firm f1 · Spritzgießen" in unused[: unused.index("</th>")]
    assert re.search(r'data-module="M3">.*?Spritzgießen', firms.text, re.S)
    assert re.search(r'<option value="M3"[^>]*>Spritzgießen</option>', heatmap.text)
    assert {(c[2], c[3]) for c in exported[1:]} == {("M3", "Spritzgießen")}
    # The assignments' own names stay where no curriculum names a module.
    assert "Module M2" in heatmap.text


async def test_the_history_shows_who_moved_from_where_to_where_and_why_in_the_readers_language(
    console: Console,
) -> None:
    async with signed_in(console, "de") as client:
        page = await client.get("/n/n1/history")
        exported = rows_of(await client.get("/n/n1/history?format=csv"))

    versions = re.findall(r'class="version" data-version="(\d+)"', page.text)
    assert versions == ["2", "1"]
    moved = page.text[page.text.index('data-kind="changed"') :]
    assert "Firm f1 2027-W10–2027-W13" in moved and "Firm f2 2027-W14–2027-W17" in moved
    assert "Ein Angebot für Module M1 wurde geändert (Wochen oder Plätze)." in moved
    assert "verschoben" in page.text
    assert exported[0] == [
        "plan_version",
        "published_at",
        "caused_by",
        "kind",
        "learner_id",
        "learner_name",
        "module_name",
        "before",
        "now",
        "why",
        "sentence",
    ]
    assert [r[0] for r in exported[1:]] == ["2", "2", "1", "1"]


async def test_a_cancelled_assignment_is_in_the_history_with_its_reason(console: Console) -> None:
    made = assignment_made("n1", "ben", "M1", "f1", "2027-W12", "2027-W13", learner_name="Ben Ott")
    await console.ingest.event(assignment_cancelled(made, 3))
    async with signed_in(console) as client:
        page = await client.get("/n/n1/history")

    cancelled = page.text[page.text.index('data-kind="cancelled"') :]
    assert "An offer for Module M1 was withdrawn." in cancelled and "<s>Firm f1 2027-W12–2027-W13</s>" in cancelled
    assert "not published yet" in page.text


async def test_a_rejected_payload_is_shown_as_text_never_as_markup(console: Console) -> None:
    async with signed_in(console) as client:
        page = await client.get("/n/n1/rejected")
        exported = rows_of(await client.get("/n/n1/rejected?format=csv"))

    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "verbund.inbound/0/7" in page.text and "the event has no &#39;id&#39;" in page.text
    assert re.search(r'class="sha256"><code>[0-9a-f]{64}</code>', page.text)
    assert exported[1][2:5] == ["verbund.inbound", "0", "7"]
    assert exported[1][13] == '{"type": "CapacityOffered", "x": "<script>alert(1)</script>"}'


async def test_csv_exports_guard_cells_a_spreadsheet_would_run(console: Console) -> None:
    async with signed_in(console) as client:
        timeline = rows_of(await client.get("/n/n1/timeline?format=csv"))
        problems = rows_of(await client.get("/n/n1/problems?format=csv"))
        problems_page = await client.get("/n/n1/problems")

    assert timeline[0][:2] == ["learner_id", "learner_name"]
    assert ["cem", "'=Cem Aydin", "", "", "", "", "", "", "", ""] in timeline  # unplaced, and no formula
    assert ("anna", "M2", "f2") in {(r[0], r[2], r[4]) for r in timeline}
    assert problems[0][0] == "problem_id" and problems[1][1:3] == ["shortfall", "open"]
    assert 'href="?format=csv"' in problems_page.text


async def test_a_learner_and_a_firm_get_their_phases_as_a_calendar(console: Console) -> None:
    async with signed_in(console) as client:
        learner = await client.get("/n/n1/learners/anna.ics")
        firm = await client.get("/n/n1/firms/f2.ics")
        unknown = await client.get("/n/n1/learners/nobody.ics")

    assert learner.headers["content-type"] == "text/calendar; charset=utf-8"
    events = icalendar.Calendar.from_ical(learner.content).walk("VEVENT")
    assert sorted(str(e["summary"]) for e in events) == ["Module M1 · Firm f2", "Module M2 · Firm f2"]
    assert {str(e["summary"]) for e in icalendar.Calendar.from_ical(firm.content).walk("VEVENT")} == {
        "Module M1 · Anna Berg",
        "Module M2 · Anna Berg",
    }
    assert unknown.status_code == 404
