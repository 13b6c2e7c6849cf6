"""The whole network's CSV exports, streamed a slice at a time, are byte for byte the files built whole."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from console_events import (
    assignment_cancelled,
    assignment_changed,
    assignment_made,
    capacity_offered,
    learner_registered,
    plan_published,
)
from test_console_web import PASSWORD, client_of, settings_for, sign_in
from verbund_console.app import Console, build
from verbund_console.domain.exports import (
    csv_text,
    firm_table,
    heatmap_table,
    history_table,
    timeline_table,
)
from verbund_console.domain.history import history_views
from verbund_console.domain.utilisation import heatmap
from verbund_console.domain.views import TimelineFilter
from verbund_console.store.database import migrate
from verbund_console.web import csv_streams

LEARNERS = 23  # several slices of 4, the last one short
FIRMS = ("f1", "f2", "f3", "f4", "f5")
MODULES = ("M1", "M2", "M3")


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    settings = settings_for(tmp_path)
    await migrate(settings.database_url)
    built = build(settings)
    await built.accounts.add_user("coord@example.org", PASSWORD, ["n1"])
    events: list[object] = []
    for f, firm in enumerate(FIRMS):
        for m, module in enumerate(MODULES):
            events.append(capacity_offered("n1", f"o{f}{m}", firm, module, "2027-W01", "2027-W40", max_seats=9))
    first_plan = []
    for i in range(LEARNERS):
        # Every third learner shares a name with another, and a few have none of their phases placed.
        name = "Anna Berg" if i % 3 == 0 else f"=Learner {i:02d} Groß"
        learner = f"l{i:02d}"
        events.append(learner_registered("n1", learner, name))
        if i % 7 == 6:
            continue
        for m, module in enumerate(MODULES):
            start = 1 + 6 * m + (i % 4)
            first_plan.append(
                assignment_made(
                    "n1",
                    learner,
                    module,
                    FIRMS[(i + m) % len(FIRMS)],
                    f"2027-W{start:02d}",
                    f"2027-W{start + 4:02d}",
                    learner_name=name,
                )
            )
    events += [*first_plan, plan_published("n1", 1, made=len(first_plan))]
    moved = first_plan[::4]
    events += [assignment_changed(made, 2, firm="f1", start="2027-W30", end="2027-W33") for made in moved]
    events += [assignment_cancelled(made, 2) for made in first_plan[1::9]]
    events.append(plan_published("n1", 2, changed=len(moved)))
    for event in events:
        await built.ingest.event(event)  # type: ignore[arg-type]
    yield built
    await built.engine.dispose()


async def _joined(chunks: AsyncIterator[str]) -> str:
    return "".join([chunk async for chunk in chunks])


async def _whole_files(console: Console, wanted: TimelineFilter) -> dict[str, str]:
    """Each export as it was built before it was streamed: everything read at once, then written."""
    read = console.read_model
    learners, _, assignments, _ = await read.learner_timeline("n1", wanted, None)
    pairs, _, firm_assignments, _ = await read.firm_timeline("n1", wanted, None)
    rows, _, offers, placed, span = await read.utilisation("n1", wanted.firm, wanted.module, 0, None)
    versions, _, plans, lines, counts = await read.history("n1", 0, None, None)
    return {
        "timeline": csv_text(*timeline_table(learners, assignments)),
        "firms": csv_text(*firm_table(pairs, firm_assignments)),
        "utilisation": csv_text(*heatmap_table(heatmap(rows, offers, placed, span=span))),
        "history": csv_text(*history_table(history_views(versions, plans, lines, counts, "en"))),
    }


async def test_each_export_read_in_slices_adds_up_to_the_file_read_whole(console: Console) -> None:
    wanted = TimelineFilter()
    whole = await _whole_files(console, wanted)
    read = console.read_model

    # (first read, most a read): the same size each time, and reads growing from one row to four.
    for first, per_slice in ((1, 1), (4, 4), (1000, 1000), (1, 4)):
        streamed = {
            "timeline": await _joined(csv_streams.timeline_rows(read, "n1", wanted, None, per_slice, first)),
            "firms": await _joined(csv_streams.firm_rows(read, "n1", wanted, per_slice, first)),
            "utilisation": await _joined(csv_streams.heatmap_rows(read, "n1", "", "", per_slice, first)),
            "history": await _joined(csv_streams.history_rows(read, "n1", "en", per_slice)),
        }
        for name, text in whole.items():
            body = text.split("\r\n", 1)[1]
            assert body.count("\r\n") > 3 * 4, name  # the network spans several slices of every export
            assert streamed[name] == body, (name, first, per_slice)


def test_an_exports_reads_grow_from_the_first_to_the_most_each_starting_where_the_one_before_ended() -> None:
    for first, most in ((1, 1), (1, 4), (3, 20), (64, 2048), (50, 2000), (8, 256), (5, 3)):
        reads = list(itertools.islice(csv_streams.slices(first, most), 40))
        starts = [page * size for page, size in reads]
        ends = [(page + 1) * size for page, size in reads]
        assert starts[0] == 0 and starts[1:] == ends[:-1], (first, most)
        sizes = [size for _, size in reads]
        assert sizes[0] == min(first, most) and sizes == sorted(sizes) and max(sizes) <= most, (first, most)
        assert max(sizes) * 2 > most, (first, most)  # they grow as far as doubling allows


def test_the_first_read_of_a_big_export_is_small_and_the_reads_reach_the_whole_slice() -> None:
    sizes = [
        size for _, size in itertools.islice(csv_streams.slices(csv_streams.FIRST_SLICE, csv_streams.EXPORT_SLICE), 8)
    ]
    assert sizes == [64, 64, 128, 256, 512, 1024, 2048, 2048]


async def test_the_streamed_exports_over_http_are_byte_identical_to_the_files_built_whole(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_streams, "EXPORT_SLICE", 4)
    whole = await _whole_files(console, TimelineFilter())

    async with client_of(console, **{"accept-language": "en"}) as client:
        await sign_in(client)
        for name, path in (
            ("timeline", "timeline"),
            ("firms", "firms"),
            ("utilisation", "utilisation"),
            ("history", "history"),
        ):
            response = await client.get(f"/n/n1/{path}?format=csv")
            assert response.status_code == 200, name
            assert response.headers["content-type"] == "text/csv; charset=utf-8"
            assert response.headers["content-disposition"] == f'attachment; filename="n1-{name}.csv"'
            assert response.content == ("\ufeff" + whole[name]).encode("utf-8"), name
