"""A heatmap row's week cells as HTML in one pass: the template spent most of a big page escaping each value."""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup, escape

from ..domain.utilisation import HeatRow


def heat_cells(row: HeatRow, link: str, words: Mapping[str, str], states: Mapping[str, str]) -> Markup:
    """The row's cells, as the utilisation page shows them: the state as class, data attributes and mark, a link
    to who is there (`link` ends where the week goes) and a title that spells out planned, minimum and maximum.

    A page has some four thousand cells; most of a row's are alike, so a cell's escaped title is made once per
    kind of cell, and the link and the words once per row."""
    href = escape(link)
    planned, minimum, maximum = (escape(words[w]) for w in ("planned", "minimum", "maximum"))
    titles: dict[tuple[int, int, int, str], str] = {}
    parts = []
    for cell in row.cells:
        if cell.state == "none":
            parts.append('<td class="cell state-none"></td>')
            continue
        kind = (cell.planned, cell.minimum, cell.maximum, cell.state)
        if kind not in titles:
            titles[kind] = (
                f"{planned} {cell.planned} · {minimum} {cell.minimum} · {maximum} {cell.maximum} · "
                f"{escape(states[cell.state])}"
            )
        week, state = escape(cell.week), escape(cell.state)
        parts.append(
            f'<td class="cell state-{state}" data-week="{week}" data-state="{state}"><a href="{href}{week}"'
            f' title="{week}: {titles[kind]}">{cell.planned}{escape(cell.mark)}</a></td>'
        )
    return Markup("\n".join(parts))
