"""The pages' tables as CSV, and a learner's or a firm's assignments as an iCalendar file."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import icalendar

from .history import VersionView
from .rejections import RejectionView
from .utilisation import Heatmap
from .views import AssignmentLike, ProblemView

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


# The tables the pages show, as CSV rows: (header, rows). Column names are stable English for scripts.
Table = tuple[list[str], list[list[Value]]]


def problems_table(problems: Iterable[ProblemView]) -> Table:
    header = ["problem_id", "kind", "state", "who", "reason", "message", "would_resolve", "detected_at"]
    rows: list[list[Value]] = [
        [
            p.problem_id,
            p.kind,
            "resolved" if p.resolved else "open",
            p.who,
            p.reason_words,
            p.message,
            "; ".join(p.remedies),
            p.detected_at.isoformat(),
        ]
        for p in problems
    ]
    return header, rows


def timeline_table(
    learners: Sequence[tuple[str, str]],
    assignments: Iterable[AssignmentLike],
    focus: Callable[[AssignmentLike], bool] | None = None,
) -> Table:
    """A line per phase of each learner (the filter's phases only); a learner without one gets an empty line."""
    by_learner: dict[str, list[AssignmentLike]] = {}
    for a in assignments:
        if not a.cancelled and (focus is None or focus(a)):
            by_learner.setdefault(a.learner_id, []).append(a)
    header = ["learner_id", "learner_name", "module_id", "module_name", "firm_id", "firm_name"]
    header += ["start_week", "end_week", "start_date", "end_date"]
    rows: list[list[Value]] = []
    for learner_id, name in learners:
        placed = sorted(by_learner.get(learner_id, []), key=lambda a: a.start_week)
        if not placed:
            rows.append([learner_id, name, *[""] * 8])
        rows += [_phase(a, [learner_id, name, a.module_id, a.module_name, a.firm_id, a.firm_name]) for a in placed]
    return header, rows


def _phase(a: AssignmentLike, first: list[Value]) -> list[Value]:
    return [*first, a.start_week, a.end_week, a.start_date, a.end_date]


def firm_table(pairs: Sequence[tuple[str, str, str, str]], assignments: Iterable[AssignmentLike]) -> Table:
    """A line per learner's phase at each firm × module, in the page's row order."""
    order = {(f, m): i for i, (f, _, m, _) in enumerate(pairs)}
    names = {(f, m): (fn, mn) for f, fn, m, mn in pairs}
    placed = sorted(
        (a for a in assignments if not a.cancelled and (a.firm_id, a.module_id) in order),
        # The learner's id last: two learners of one name starting together keep one order, read whole or in pages.
        key=lambda a: (order[(a.firm_id, a.module_id)], a.start_week, a.learner_name, a.learner_id),
    )
    header = ["firm_id", "firm_name", "module_id", "module_name", "learner_id", "learner_name"]
    header += ["start_week", "end_week", "start_date", "end_date"]
    rows: list[list[Value]] = []
    for a in placed:
        firm_name, module_name = names[(a.firm_id, a.module_id)]
        rows.append(_phase(a, [a.firm_id, firm_name, a.module_id, module_name, a.learner_id, a.learner_name]))
    return header, rows


def heatmap_table(view: Heatmap) -> Table:
    header = ["firm_id", "firm_name", "module_id", "module_name", "week", "planned", "min_seats", "max_seats", "state"]
    rows: list[list[Value]] = [
        [r.firm_id, r.firm_name, r.module_id, r.module_name, c.week, c.planned, c.minimum, c.maximum, c.state]
        for r in view.rows
        for c in r.cells
    ]
    return header, rows


def history_table(versions: Iterable[VersionView]) -> Table:
    # caused_by: the inbound events of the batch that produced the version, as the history page names them.
    header = ["plan_version", "published_at", "caused_by", "kind", "learner_id", "learner_name", "module_name"]
    header += ["before", "now", "why", "sentence"]
    rows: list[list[Value]] = [
        [
            v.version,
            v.published_at.isoformat() if v.published_at else "",
            v.cause,
            line.kind,
            line.learner_id,
            line.learner_name,
            line.module_name,
            line.before,
            line.after,
            line.why,
            line.sentence,
        ]
        for v in versions
        for line in v.lines
    ]
    return header, rows


def rejections_table(rejections: Iterable[RejectionView]) -> Table:
    header = ["received_at", "event_id", "topic", "partition", "offset", "key", "service", "original_type"]
    header += ["size", "sha256", "truncated", "reason", "errors", "payload", "payload_is_base64"]
    rows: list[list[Value]] = [
        [
            r.at.isoformat(),
            r.event_id,
            r.topic,
            r.partition,
            r.offset,
            r.key,
            r.service,
            r.original_type,
            r.size,
            r.sha256,
            r.truncated,
            r.reason,
            "; ".join(r.errors),
            r.payload,
            r.payload_is_base64,
        ]
        for r in rejections
    ]
    return header, rows
