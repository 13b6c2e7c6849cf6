"""The pages' tables as CSV, and a learner's or a firm's assignments as an iCalendar file."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Protocol

import icalendar

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Value = str | int | float | bool | dt.date | None


def guarded(value: Value) -> str | int | float:
    """A cell as written: text that a spreadsheet would take for a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return value
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Value]]) -> str:
    """UTF-8 CSV with a header line; the caller sends it with a byte order mark so spreadsheets read UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([guarded(h) for h in header])
    for row in rows:
        writer.writerow([guarded(v) for v in row])
    return out.getvalue()


class CalendarAssignmentLike(Protocol):
    assignment_id: str
    learner_name: str
    module_name: str
    firm_name: str
    start_week: str
    end_week: str
    start_date: dt.date
    end_date: dt.date
    plan_version: int
    cancelled: bool


def calendar(title: str, assignments: Iterable[CalendarAssignmentLike], *, for_firm: bool, stamp: dt.datetime) -> bytes:
    """One all-day event per live assignment; the uid stays with the assignment, so a re-import updates it."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Verbund//console//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", title)
    for a in sorted(assignments, key=lambda a: (a.start_date, a.assignment_id)):
        if a.cancelled:
            continue
        event = icalendar.Event()
        event.add("uid", f"{a.assignment_id}@verbund")
        event.add("dtstamp", stamp)
        event.add("dtstart", a.start_date)
        # DTEND of an all-day event is the day after the last one.
        event.add("dtend", a.end_date + dt.timedelta(days=1))
        who = a.learner_name if for_firm else a.firm_name
        event.add("summary", f"{a.module_name} · {who}")
        event.add("description", f"{a.start_week}–{a.end_week}")
        event.add("sequence", a.plan_version)
        cal.add_component(event)
    return bytes(cal.to_ical())
