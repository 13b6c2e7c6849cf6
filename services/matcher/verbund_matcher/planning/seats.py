"""Seats per firm x module x week: offers summed into maximum and minimum tables, and seat usage."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .model import Assignment, Module, Offer

Cell = tuple[str, str]  # (firm id, module id)
Range = tuple[int, int]  # first and last week, both included
STARTS_PATTERNS = 256


@dataclass(slots=True)
class SeatTable:
    """max_seats / min_seats per (firm, module) and week; weeks without an offer have no entry (0 seats)."""

    max_seats: dict[Cell, dict[int, int]] = field(default_factory=dict)
    min_seats: dict[Cell, dict[int, int]] = field(default_factory=dict)
    firms_for: dict[str, tuple[str, ...]] = field(default_factory=dict)  # module -> firms with an offer
    _runs: dict[Cell, list[tuple[int, int]]] = field(default_factory=dict)
    # Starts that fit a learner's available weeks, per pattern of available weeks: (module, firm, duration) ->
    # start ranges. Kept with the table, which a repair re-uses while the offers stay the same.
    _starts: dict[tuple[Range, ...], dict[tuple[str, str, int], tuple[Range, ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def starts_for(self, available_runs: tuple[Range, ...]) -> dict[tuple[str, str, int], tuple[Range, ...]] | None:
        """The start ranges known for learners with these available weeks (None beyond STARTS_PATTERNS
        patterns: a cohort shares its window and school weeks, a network of all-different learners gains
        nothing from keeping them)."""
        index = self._starts.get(available_runs)
        if index is None and len(self._starts) < STARTS_PATTERNS:
            index = self._starts[available_runs] = {}
        return index

    def max_at(self, firm: str, module: str, week: int) -> int:
        weeks = self.max_seats.get((firm, module))
        return weeks.get(week, 0) if weeks else 0

    def min_at(self, firm: str, module: str, week: int) -> int:
        weeks = self.min_seats.get((firm, module))
        return weeks.get(week, 0) if weeks else 0

    def offered_runs(self, firm: str, module: str) -> list[tuple[int, int]]:
        """Maximal runs of consecutive weeks with at least one seat, as (first, last)."""
        cached = self._runs.get((firm, module))
        if cached is None:
            weeks = self.max_seats.get((firm, module), {})
            cached = week_runs(w for w, seats in weeks.items() if seats > 0)
            self._runs[(firm, module)] = cached
        return cached


def week_runs(weeks: Iterable[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for w in sorted(weeks):
        if runs and runs[-1][1] == w - 1:
            runs[-1] = (runs[-1][0], w)
        else:
            runs.append((w, w))
    return runs


def seat_table(offers: Iterable[Offer]) -> SeatTable:
    table = SeatTable()
    firms: dict[str, set[str]] = defaultdict(set)
    for offer in offers:
        cell = (offer.firm_id, offer.module_id)
        max_weeks = table.max_seats.setdefault(cell, {})
        min_weeks = table.min_seats.setdefault(cell, {}) if offer.min_seats > 0 else None
        for w in range(offer.first_week, offer.last_week + 1):
            max_weeks[w] = max_weeks.get(w, 0) + offer.max_seats
            if min_weeks is not None:
                min_weeks[w] = min_weeks.get(w, 0) + offer.min_seats
        firms[offer.module_id].add(offer.firm_id)
    table.firms_for = {m: tuple(sorted(fs)) for m, fs in firms.items()}
    return table


def occupancy(assignments: Iterable[Assignment], modules: Mapping[str, Module]) -> dict[Cell, dict[int, int]]:
    """How many learners each (firm, module) holds in each week."""
    used: dict[Cell, dict[int, int]] = {}
    for a in assignments:
        module = modules.get(a.module_id)
        if module is None:
            continue
        weeks = used.setdefault((a.firm_id, a.module_id), {})
        for w in range(a.start, a.start + module.duration):
            weeks[w] = weeks.get(w, 0) + 1
    return used


def intersect_ranges(a: Sequence[Range], b: Sequence[Range]) -> list[Range]:
    """The weeks in both, as ranges (each side sorted and disjoint)."""
    out: list[Range] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def ranges_within(few: Sequence[Range], many: Sequence[Range]) -> list[Range]:
    """The weeks in both, as ranges (each side sorted and disjoint), looking up only the part of `many` that
    each range of `few` meets."""
    out: list[Range] = []
    for lo, hi in few:
        j = bisect_left(many, (lo, lo))
        if j > 0 and many[j - 1][1] >= lo:
            j -= 1
        while j < len(many):
            first, last = many[j]
            if first > hi:
                break
            first, last = first if first > lo else lo, last if last < hi else hi
            if first <= last:
                out.append((first, last))
            j += 1
    return out


def clear_starts(busy: Collection[int], duration: int, after: int, last: int) -> list[Range]:
    """Starts from `after` to `last` whose `duration` weeks miss every week in `busy`."""
    starts: list[Range] = []
    lo = after
    for w in sorted(b for b in busy if b >= after):
        if w - duration >= lo:
            starts.append((lo, w - duration))
        lo = max(lo, w + 1)
    if last >= lo:
        starts.append((lo, last))
    return starts
