"""The utilisation heatmap: per firm × module and week, learners planned against the offers' minimum and maximum."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from verbund_schemas import week_at, week_index

from .views import weeks_of


class SeatOfferLike(Protocol):
    firm_id: str
    module_id: str
    first_week: str
    last_week: str
    max_seats: int
    min_seats: int
    withdrawn: bool


class PlacedLike(Protocol):
    learner_id: str
    learner_name: str
    firm_id: str
    module_id: str
    start_week: str
    end_week: str
    start_date: dt.date
    end_date: dt.date
    cancelled: bool


# What a cell is, and its text mark (the colour alone must not carry it).
STATES = ("none", "free", "ok", "under", "full", "over")
MARKS = {"none": "", "free": "", "ok": "", "under": "▾", "full": "●", "over": "‼"}


@dataclass(frozen=True)
class Cell:
    week: str
    planned: int
    minimum: int
    maximum: int
    state: str

    @property
    def mark(self) -> str:
        return MARKS[self.state]


@dataclass(frozen=True)
class HeatRow:
    firm_id: str
    firm_name: str
    module_id: str
    module_name: str
    cells: list[Cell]

    @property
    def under_weeks(self) -> int:
        return sum(1 for c in self.cells if c.state == "under")

    @property
    def full_weeks(self) -> int:
        return sum(1 for c in self.cells if c.state in ("full", "over"))


@dataclass(frozen=True)
class Heatmap:
    weeks: list[str]
    rows: list[HeatRow]
    page: int
    pages: int


def cell_state(planned: int, minimum: int, maximum: int) -> str:
    """Offers for one firm × module add up; a minimum is a hard lower bound in every week an offer runs."""
    if maximum == 0:
        return "over" if planned > 0 else "none"
    if planned > maximum:
        return "over"
    if minimum > 0 and planned < minimum:
        return "under"
    if planned == maximum:
        return "full"
    return "ok" if planned > 0 else "free"


def heatmap(
    pairs: Sequence[tuple[str, str, str, str]],
    offers: Iterable[SeatOfferLike],
    assignments: Iterable[PlacedLike],
    *,
    span: tuple[str, str] | None,
    page: int = 0,
    pages: int = 1,
) -> Heatmap:
    """One row per (firm id, firm name, module id, module name), one cell per week of the span."""
    if span is None:
        return Heatmap([], [HeatRow(*pair, []) for pair in pairs], page, pages)
    first, last = span
    total = weeks_of(first, last)
    wanted = {(f, m) for f, _, m, _ in pairs}
    planned: dict[tuple[str, str], list[int]] = {pair: [0] * total for pair in wanted}
    minimum: dict[tuple[str, str], list[int]] = {pair: [0] * total for pair in wanted}
    maximum: dict[tuple[str, str], list[int]] = {pair: [0] * total for pair in wanted}

    def covered(first_week: str, last_week: str) -> range:
        return range(max(0, week_index(first_week, first)), min(total, week_index(last_week, first) + 1))

    for offer in offers:
        pair = (offer.firm_id, offer.module_id)
        if offer.withdrawn or pair not in wanted:
            continue
        for i in covered(offer.first_week, offer.last_week):
            minimum[pair][i] += offer.min_seats
            maximum[pair][i] += offer.max_seats
    for a in assignments:
        pair = (a.firm_id, a.module_id)
        if a.cancelled or pair not in wanted:
            continue
        for i in covered(a.start_week, a.end_week):
            planned[pair][i] += 1
    weeks = [week_at(first, i) for i in range(total)]
    rows = []
    for firm_id, firm_name, module_id, module_name in pairs:
        pair = (firm_id, module_id)
        cells = [
            Cell(
                week,
                planned[pair][i],
                minimum[pair][i],
                maximum[pair][i],
                cell_state(planned[pair][i], minimum[pair][i], maximum[pair][i]),
            )
            for i, week in enumerate(weeks)
        ]
        rows.append(HeatRow(firm_id, firm_name, module_id, module_name, cells))
    return Heatmap(weeks, rows, page, pages)


@dataclass(frozen=True)
class Present:
    learner_id: str
    learner_name: str
    start_week: str
    end_week: str
    start_date: dt.date
    end_date: dt.date


def who_is_there(assignments: Iterable[PlacedLike], firm_id: str, module_id: str, week: str) -> list[Present]:
    """The learners the plan puts at a firm for a module in one week, by name."""
    there = [
        Present(a.learner_id, a.learner_name, a.start_week, a.end_week, a.start_date, a.end_date)
        for a in assignments
        if not a.cancelled
        and (a.firm_id, a.module_id) == (firm_id, module_id)
        and week_index(week, a.start_week) >= 0
        and week_index(a.end_week, week) >= 0
    ]
    return sorted(there, key=lambda p: (p.learner_name, p.learner_id))
