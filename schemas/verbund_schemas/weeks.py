"""ISO weeks ("2027-W10"): the unit of time in every event; dates are accepted and turned into their week."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


# Cached: replanning a network converts the same few hundred week strings on every batch.
@lru_cache(maxsize=8192)
def parse_iso_week(text: str) -> tuple[int, int]:
    """Return (year, week) of an ISO week string, or raise ValueError naming the expected form."""
    m = _WEEK_RE.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not an ISO week; write it as YYYY-Www, e.g. 2027-W10")
    year, week = int(m.group(1)), int(m.group(2))
    weeks_in_year = dt.date(year, 12, 28).isocalendar().week
    if not 1 <= week <= weeks_in_year:
        raise ValueError(f"{text!r}: year {year} has weeks 01 to {weeks_in_year}")
    return year, week


@lru_cache(maxsize=8192)
def week_monday(text: str) -> dt.date:
    """The Monday that starts an ISO week."""
    year, week = parse_iso_week(text)
    return dt.date.fromisocalendar(year, week, 1)


def week_sunday(text: str) -> dt.date:
    """The Sunday that ends an ISO week."""
    year, week = parse_iso_week(text)
    return dt.date.fromisocalendar(year, week, 7)


def week_of(day: dt.date) -> str:
    """The ISO week a date falls in."""
    iso = day.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def week_index(text: str, origin: str) -> int:
    """Weeks from `origin` to `text` (0 for the origin week itself)."""
    return (week_monday(text) - week_monday(origin)).days // 7


def week_at(origin: str, index: int) -> str:
    """The ISO week `index` weeks after `origin`."""
    return week_of(week_monday(origin) + dt.timedelta(weeks=index))


def _coerce_week(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return week_of(value.date())
    if isinstance(value, dt.date):
        return week_of(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            try:
                return week_of(dt.date.fromisoformat(text))
            except ValueError:
                pass
        year, week = parse_iso_week(text)
        return f"{year:04d}-W{week:02d}"
    return value


IsoWeek = Annotated[
    str,
    BeforeValidator(_coerce_week),
    PlainSerializer(lambda v: v, return_type=str),
    Field(
        pattern=r"^\d{4}-W\d{2}$",
        description="ISO week, e.g. 2027-W10 (a date such as 2027-03-08 is accepted and turned into its week)",
        examples=["2027-W10"],
    ),
]
