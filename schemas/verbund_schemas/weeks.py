"""ISO weeks ("2027-W10"): the unit of time in every event; dates are accepted and turned into their week."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Annotated, Any, get_args

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, WithJsonSchema

MAX_WEEK_LENGTH = 10
"""Characters of the longest way to write a week: a date such as 2027-03-08."""

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
        if len(value) > MAX_WEEK_LENGTH:
            # Checked before parsing: the reason must not echo whatever a sender put here.
            raise ValueError(
                f"a week is written in at most {MAX_WEEK_LENGTH} characters, e.g. 2027-W10 or 2027-03-08 "
                f"(got {len(value)})"
            )
        return _week_written(value)
    return value


# Cached: an event names dozens of weeks (school blocks, offers), mostly the same few hundred; a refused text
# raises and is not kept.
@lru_cache(maxsize=8192)
def _week_written(value: str) -> str:
    text = value.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return week_of(dt.date.fromisoformat(text))
        except ValueError:
            pass
    year, week = parse_iso_week(text)
    return f"{year:04d}-W{week:02d}"


class _WeekField:
    """Marks a field as an ISO week, so the weeks of any contract can be found (see `weeks_named`)."""


_WEEK = _WeekField()

_WEEK_DESCRIPTION = "ISO week, e.g. 2027-W10 (a date such as 2027-03-08 is accepted and turned into its week)"

IsoWeek = Annotated[
    str,
    _WEEK,
    BeforeValidator(_coerce_week),
    PlainSerializer(lambda v: v, return_type=str),
    Field(max_length=MAX_WEEK_LENGTH, description=_WEEK_DESCRIPTION, examples=["2027-W10"]),
    # What a sender may write (a week or a date), not only the week it becomes.
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 8,
            "maxLength": MAX_WEEK_LENGTH,
            "pattern": r"^\d{4}-(W\d{2}|\d{2}-\d{2})$",
            "description": _WEEK_DESCRIPTION,
            "examples": ["2027-W10"],
        }
    ),
]


@dataclass(frozen=True)
class WeekHorizon:
    """The weeks an event may name: a span around today, so a typo such as 1900-W01 or 9999-W52 is refused."""

    first: str
    last: str

    @classmethod
    def around(cls, today: dt.date, years_back: int, years_ahead: int) -> WeekHorizon:
        """From the week `years_back` years before `today` through the week `years_ahead` years after it."""
        return cls(
            week_of(_years_from(today, -years_back)),
            week_of(_years_from(today, years_ahead)),
        )

    def holds(self, week: str) -> bool:
        first, last = self._mondays
        return first <= week_monday(week) <= last

    @cached_property
    def _mondays(self) -> tuple[dt.date, dt.date]:
        # Every inbound event is checked against its network's horizon: its ends are worked out once.
        return week_monday(self.first), week_monday(self.last)


def _years_from(day: dt.date, years: int) -> dt.date:
    year = min(max(day.year + years, dt.MINYEAR), dt.MAXYEAR)
    return day.replace(year=year, day=28) if day.month == 2 and day.day == 29 else day.replace(year=year)


_NESTED = (BaseModel, list, tuple)


def weeks_named(value: Any, path: str | None = "data") -> Iterator[tuple[str | None, str]]:
    """Every ISO week a contract value names, with its field path (e.g. data.unavailable.0.first_week); with
    `path` None, without paths (None each), which is all the common case needs: every week is inside."""
    if isinstance(value, BaseModel):
        for name, is_week in _fields_of(type(value)):
            field_value = getattr(value, name)
            if is_week and isinstance(field_value, str):
                yield (None if path is None else f"{path}.{name}"), field_value
            elif isinstance(field_value, _NESTED):
                yield from weeks_named(field_value, None if path is None else f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, _NESTED):
                yield from weeks_named(item, None if path is None else f"{path}.{index}")


@lru_cache(maxsize=512)
def _fields_of(model: type[BaseModel]) -> tuple[tuple[str, bool], ...]:
    """A contract model's fields that name a week (True) or may hold a model that does (False): worked out once
    per model, since every inbound event is checked against the network's horizon. The others are not looked at."""
    fields = []
    for name, info in model.model_fields.items():
        if _is_week_field(info.annotation, info.metadata):
            fields.append((name, True))
        elif _may_hold_weeks(info.annotation, frozenset({model})):
            fields.append((name, False))
    return tuple(fields)


def _is_week_field(annotation: Any, metadata: list[Any]) -> bool:
    if any(m is _WEEK for m in metadata):
        return True
    return any(a is _WEEK or _is_week_field(a, []) for a in get_args(annotation))


def _may_hold_weeks(annotation: Any, seen: frozenset[type]) -> bool:
    """Whether a value of this type can contain a contract model with a week somewhere inside."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return True  # a model inside itself: looked into (whether it has a week is being worked out)
        return any(
            _is_week_field(info.annotation, info.metadata) or _may_hold_weeks(info.annotation, seen | {annotation})
            for info in annotation.model_fields.values()
        )
    return any(_may_hold_weeks(a, seen) for a in get_args(annotation))


def weeks_outside(event: BaseModel, horizon: WeekHorizon) -> list[str]:
    """One line per week of `event` outside `horizon`: the field, the week and the weeks allowed."""
    data = getattr(event, "data", None)
    if all(horizon.holds(week) for _, week in weeks_named(data, None)):
        return []
    return [
        f"{path}: {week} is outside the weeks this network plans, {horizon.first} to {horizon.last}"
        for path, week in weeks_named(data)
        if not horizon.holds(week)
    ]
