"""The whole network's CSV exports sent as they are read, a slice of rows at a time: the first byte leaves at once."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence

from starlette.responses import StreamingResponse

from ..domain.exports import Value, firm_table, guarded, heatmap_table, history_table, timeline_table
from ..domain.history import history_views
from ..domain.utilisation import heatmap
from ..domain.views import AssignmentLike, TimelineFilter
from ..store.readmodel import ReadModel

# How many learners one database read of an export takes at most; the other exports scale from it. Each read
# repeats the export's own queries (counts, the week span, the firm × module pairs) and a history slice sorts its
# version's lines again, so slices are big: at 10,000 learners, 500 a read made the exports 3 to 13 times as
# long as reading everything at once. A slice of 2,048 learners is some 13,000 assignments in memory.
EXPORT_SLICE = 2_048
# The first read is small, so the first line leaves at once (a whole slice took 0.4-0.9 s to the first line at
# 10,000 learners); each read after it is twice as big as the one before, up to the slice above.
FIRST_SLICE = 64  # × 2⁵ = EXPORT_SLICE: the reads grow to the whole slice


def slices(first: int, most: int) -> Iterator[tuple[int, int]]:
    """(page, rows a page) of consecutive reads from the first row on: `first` rows, then reads twice as big, up
    to the largest `first` × 2ⁿ not above `most`. Each read is a page of its own size, so it starts where the one
    before ended: a read grows only where its start is a whole number of the bigger pages."""
    size = max(1, min(first, most))
    page = 0
    while True:
        yield page, size
        start = (page + 1) * size
        if size * 2 <= most and start % (size * 2) == 0:
            size *= 2
        page = start // size


def csv_chunk(rows: Iterable[Sequence[Value]]) -> str:
    """CSV lines written exactly as `csv_text` writes them, so the slices add up to the file built whole."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([guarded(v) for v in row])
    return out.getvalue()


def streamed_csv(filename: str, header: Sequence[str], chunks: AsyncIterator[str]) -> StreamingResponse:
    async def body() -> AsyncIterator[str]:
        # A byte order mark first: spreadsheet programs then read the file as UTF-8 (umlauts in names).
        yield "\ufeff" + csv_chunk([header])
        async for chunk in chunks:
            if chunk:
                yield chunk

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"', "cache-control": "no-store"},
    )


async def timeline_rows(
    read_model: ReadModel,
    network_id: str,
    wanted: TimelineFilter,
    focus: Callable[[AssignmentLike], bool] | None,
    per_slice: int | None = None,
    first: int | None = None,
) -> AsyncIterator[str]:
    """The learner timeline's lines, a page of learners (in the page's order: name, id) at a time."""
    for page, size in slices(first or FIRST_SLICE, per_slice or EXPORT_SLICE):
        learners, total, assignments, _ = await read_model.learner_timeline(
            network_id, dataclasses.replace(wanted, page=page), size
        )
        yield csv_chunk(timeline_table(learners, assignments, focus)[1])
        if (page + 1) * size >= total:
            break


async def firm_rows(
    read_model: ReadModel,
    network_id: str,
    wanted: TimelineFilter,
    per_slice: int | None = None,
    first: int | None = None,
) -> AsyncIterator[str]:
    """The per-firm timeline's lines, a page of firm × module rows at a time."""
    for page, size in slices(first or max(1, FIRST_SLICE // 2), per_slice or max(1, EXPORT_SLICE // 2)):
        pairs, total, assignments, _ = await read_model.firm_timeline(
            network_id, dataclasses.replace(wanted, page=page), size
        )
        yield csv_chunk(firm_table(pairs, assignments)[1])
        if (page + 1) * size >= total:
            break


async def heatmap_rows(
    read_model: ReadModel,
    network_id: str,
    firm: str,
    module: str,
    per_slice: int | None = None,
    first: int | None = None,
) -> AsyncIterator[str]:
    """The heatmap's firm × module × week lines, a page of rows at a time (a row is a line per week: 200 and more)."""
    for page, size in slices(first or max(1, FIRST_SLICE // 8), per_slice or max(1, EXPORT_SLICE // 8)):
        pairs, total, offers, assignments, span = await read_model.utilisation(network_id, firm, module, page, size)
        yield csv_chunk(heatmap_table(heatmap(pairs, offers, assignments, span=span))[1])
        if (page + 1) * size >= total:
            break


async def history_rows(
    read_model: ReadModel, network_id: str, language: str, per_slice: int | None = None
) -> AsyncIterator[str]:
    """The plan history's lines, newest version first, a slice of one version's change lines at a time."""
    per_slice = per_slice or EXPORT_SLICE * 4
    versions, _, plans, _, counts = await read_model.history(network_id, 0, None, 0)
    for version in versions:
        start = 0
        while True:
            lines = await read_model.history_lines(network_id, version, start, per_slice)
            views = history_views([version], plans, {version: lines}, counts, language)
            yield csv_chunk(history_table(views)[1])
            if len(lines) < per_slice:
                break
            start += per_slice
