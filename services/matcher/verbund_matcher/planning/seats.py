"""Seats per firm x module x week: offers summed into maximum and minimum tables, and seat usage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .model import Assignment, Module, Offer

Cell = tuple[str, str]  # (firm id, module id)


@dataclass(slots=True)
class SeatTable:
    """max_seats / min_seats per (firm, module) and week; weeks without an offer have no entry (0 seats)."""

    max_seats: dict[Cell, dict[int, int]] = field(default_factory=dict)
    min_seats: dict[Cell, dict[int, int]] = field(default_factory=dict)
    firms_for: dict[str, tuple[str, ...]] = field(default_factory=dict)  # module -> firms with an offer
    _runs: dict[Cell, list[tuple[int, int]]] = field(default_factory=dict)

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
