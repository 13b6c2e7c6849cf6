"""CSV exports (UTF-8, a header, no formula a spreadsheet would run) and calendars per learner and per firm."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import icalendar
from console_events import assignment_cancelled, assignment_made
from verbund_console.domain.exports import calendar, csv_text, firm_table, guarded, timeline_table
from verbund_console.domain.folding import fold


def test_cells_a_spreadsheet_would_run_as_a_formula_are_quoted_as_text() -> None:
    assert [guarded(v) for v in ("=1+1", "+49 30", "-2", "@SUM(A1)", "\tx", "Anna", "")] == [
        "'=1+1",
        "'+49 30",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "Anna",
        "",
    ]
    assert [guarded(v) for v in (-2, 3, None, True, dt.date(2027, 3, 8))] == [-2, 3, "", "1", "2027-03-08"]


def test_csv_has_a_header_and_reads_back_with_umlauts_and_separators_intact() -> None:
    text = csv_text(["name", "firm"], [["Jürgen Groß", 'Müller, "Söhne"'], ["=cmd|' /C calc'!A0", None]])

    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["name", "firm"], ["Jürgen Groß", 'Müller, "Söhne"'], ["'=cmd|' /C calc'!A0", ""]]
    text.encode("utf-8")


class Row:
    """A read-model row as the views see it."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def test_a_calendar_has_one_all_day_event_per_live_assignment_with_a_stable_uid() -> None:
    made = assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W11", learner_name="Anna Berg")
    other = assignment_made("n1", "anna", "M2", "f2", "2027-W12", "2027-W12")
    gone = fold(assignment_cancelled(other, 2)).effects[0]
    rows = [Row({**fold(made).effects[0].key, **fold(made).effects[0].values}), Row({**gone.key, **gone.values})]

    learner = icalendar.Calendar.from_ical(
        calendar("Anna Berg", rows, for_firm=False, stamp=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    )
    firm = icalendar.Calendar.from_ical(calendar("Firm", rows, for_firm=True, stamp=dt.datetime.now(dt.UTC)))

    events = learner.walk("VEVENT")
    assert len(events) == 1
    assert str(events[0]["uid"]) == "n1:anna:M1@verbund"
    assert events[0].decoded("dtstart") == dt.date(2027, 3, 8)
    assert events[0].decoded("dtend") == dt.date(2027, 3, 22)  # the day after Sunday of W11
    assert str(events[0]["summary"]) == "Module M1 · Firm f1"
    assert str(firm.walk("VEVENT")[0]["summary"]) == "Module M1 · Anna Berg"


def _assignment(learner: str, module: str, firm: str, start: str, end: str) -> Row:
    effect = fold(assignment_made("n1", learner, module, firm, start, end)).effects[0]
    return Row({**effect.key, **effect.values})


def test_the_timeline_table_has_a_line_per_phase_of_the_filter_and_one_for_a_learner_without_any() -> None:
    phases = [
        _assignment("anna", "M2", "f2", "2027-W20", "2027-W22"),
        _assignment("anna", "M1", "f1", "2027-W01", "2027-W04"),
    ]

    header, rows = timeline_table([("anna", "Anna"), ("ben", "Ben")], phases)
    _, at_f2 = timeline_table([("anna", "Anna")], phases, focus=lambda a: a.firm_id == "f2")

    assert header[:3] == ["learner_id", "learner_name", "module_id"] and len(header) == 10
    assert [r[2] for r in rows] == ["M1", "M2", ""]
    assert rows[2] == ["ben", "Ben", "", "", "", "", "", "", "", ""]
    assert [r[4] for r in at_f2] == ["f2"]


def test_the_firm_table_follows_the_pages_row_order() -> None:
    phases = [
        _assignment("anna", "M1", "f1", "2027-W05", "2027-W06"),
        _assignment("ben", "M1", "f2", "2027-W01", "2027-W02"),
    ]

    _, rows = firm_table([("f2", "Beta", "M1", "Drehen"), ("f1", "Alpha", "M1", "Drehen")], phases)

    assert [(r[1], r[4], r[6]) for r in rows] == [("Beta", "ben", "2027-W01"), ("Alpha", "anna", "2027-W05")]
