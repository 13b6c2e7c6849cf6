"""The demo's report and `verbund watch` at 80 columns and in a pipe: learner ids and weeks always whole."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from verbund_schemas import load_event, week_monday, week_sunday

from verbund.demo_view import Picture, final_report, plain_report
from verbund.watch_view import WatchRow, row_for, table_of

NET = "kunststoff-verbund"
# Long enough that a fixed-width layout cuts them: the issue's `learn…`.
LEARNERS = {
    "azubi-001": "Annemarie Müller-Lüdenscheidt",
    "azubi-002": "Tim Vogel",
    "umschulung-0042": "Konstantin Oberhausen-Wittgenstein",
}
FIRMS = {"rkt": "Rheinland Kunststofftechnik GmbH & Co. KG", "dp": "Domstadt Polymer"}
PHASES = [
    ("azubi-001", "spritz", "Spritzgießen und Werkzeugtechnik", "rkt", "2027-W10", "2027-W19"),
    ("azubi-001", "extr", "Extrusion", "dp", "2027-W20", "2027-W29"),
    ("azubi-002", "extr", "Extrusion", "rkt", "2027-W20", "2027-W29"),
    ("umschulung-0042", "spritz", "Spritzgießen und Werkzeugtechnik", "dp", "2027-W30", "2027-W45"),
]


def _event(kind: str, data: dict[str, Any]) -> Any:
    return load_event(
        {"type": kind, "id": f"{kind}-{len(str(data))}", "time": "2027-01-04T08:00:00Z", "subject": NET, "data": data}
    )


def _assignment(learner: str, module: str, module_name: str, firm: str, start: str, end: str) -> dict[str, Any]:
    return {
        "assignment_id": f"{learner}-{module}",
        "learner_id": learner,
        "learner_name": LEARNERS[learner],
        "module_id": module,
        "module_name": module_name,
        "firm_id": firm,
        "firm_name": FIRMS[firm],
        "start_week": start,
        "end_week": end,
        "start_date": week_monday(start).isoformat(),
        "end_date": week_sunday(end).isoformat(),
        "plan_version": 1,
    }


def _picture() -> Picture:
    picture = Picture()
    for phase in PHASES:
        picture.apply(_event("AssignmentMade", _assignment(*phase)))
    picture.apply(
        _event(
            "ShortfallDetected",
            {
                "shortfall_id": "sf-1",
                "learner_id": "azubi-002",
                "learner_name": LEARNERS["azubi-002"],
                "group_id": "wahl",
                "module_id": "spritz",
                "missing": 1,
                "reason": "eligibility",
                "message": "Tim is 17; the injection moulding shop runs night shifts.",
                "plan_version": 1,
            },
        )
    )
    return picture


def _print(renderable: Any, *, width: int, terminal: bool) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, force_terminal=terminal).print(renderable)
    return out.getvalue()


def test_the_demo_tables_at_80_columns_show_every_learner_id_and_week_range_whole() -> None:
    text = _print(final_report(_picture(), [], 5), width=80, terminal=True)

    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for learner in LEARNERS:
        assert f"({learner})" in text
    for *_, start, end in PHASES:
        assert f"{start}..{end}" in text


def test_the_demo_report_in_a_pipe_is_whole_lines_with_nothing_cut() -> None:
    text = plain_report(_picture(), [], 5)
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(text, soft_wrap=True, highlight=False, markup=False)

    printed = out.getvalue()
    assert "…" not in printed
    for learner, name in LEARNERS.items():
        assert f"{name} ({learner})" in printed.splitlines()
    for _, _, module_name, firm, start, end in PHASES:
        assert any(
            f"{start}..{end}" in line and f"{module_name} at {FIRMS[firm]}" in line for line in printed.splitlines()
        )
    assert (
        "Tim Vogel (azubi-002): spritz [eligibility] Tim is 17; the injection moulding shop runs night shifts."
        in printed
    )


def _rows() -> list[WatchRow]:
    rows = []
    for phase in PHASES:
        row = row_for(_event("AssignmentMade", _assignment(*phase)))
        assert row is not None
        rows.append(row)
    return rows


def test_watch_at_80_columns_keeps_learner_ids_and_weeks_whole() -> None:
    text = _print(table_of(_rows(), "verbund.assignments — all networks", 80), width=80, terminal=True)

    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for learner in LEARNERS:
        assert f"({learner})" in text
    for *_, start, end in PHASES:
        assert f"{start}..{end}" in text


def test_watch_wide_table_shows_every_column_and_cuts_nothing() -> None:
    text = _print(table_of(_rows(), "verbund.assignments — all networks", 200), width=200, terminal=True)

    assert "…" not in text
    header = text.splitlines()[2]  # title, top border, then the column names, each on one line
    for column in ("time", "network", "event", "learner", "module", "firm", "weeks", "detail"):
        assert column in header
    for *_, start, end in PHASES:
        assert f"{start}..{end}" in text


def test_watch_in_a_pipe_prints_one_whole_line_per_event() -> None:
    lines = [row.plain() for row in _rows()]

    for line, (learner, module, module_name, firm, start, end) in zip(lines, PHASES, strict=True):
        assert f"learner={LEARNERS[learner]} ({learner})" in line
        assert f"module={module_name} ({module})" in line
        assert f"firm={FIRMS[firm]} ({firm})" in line
        assert f"weeks={start}..{end} (" in line
