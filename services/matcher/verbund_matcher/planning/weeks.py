"""Week indices to the ISO week labels coordinators read (week 0 is the week of Problem.origin)."""

from __future__ import annotations

import datetime as dt


def week_label(origin: dt.date, week: int) -> str:
    """ISO label of week index `week`, e.g. "2027-W10"."""
    year, number, _ = (origin + dt.timedelta(weeks=week)).isocalendar()
    return f"{year}-W{number:02d}"


def span_label(origin: dt.date, first: int, last: int) -> str:
    """A week range as coordinators write it: "2027-W10" or "2027-W10 to 2027-W35"."""
    if first == last:
        return week_label(origin, first)
    return f"{week_label(origin, first)} to {week_label(origin, last)}"
