"""Seats still free while a plan is being built: the seat table minus what placed learners hold."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .model import Assignment, Module
from .seats import Cell, SeatTable

# Tokens for `SeatLedger.tokens`: never handed out twice in a process, so two ledgers copied from one plan hold
# the same token for a cell only while neither changed what a search reads of it.
_TOKENS = itertools.count(1)


@dataclass(slots=True)
class SeatLedger:
    table: SeatTable
    modules: Mapping[str, Module]
    used: dict[Cell, dict[int, int]] = field(default_factory=dict)
    # When set, counts per cell how often one of its weeks became full or stopped being full through `take`
    # (an index of free starts is still right while its cell's count is unchanged). Writers that change
    # `used` directly bypass it: only a ledger whose every change goes through `take` may keep it.
    full_changes: dict[Cell, int] | None = None
    # When set, collects the cells where `take` changed what explanations read of the seats: which weeks are
    # full and who holds a full week's seats, and which weeks hold no more learners than their minimum.
    seen_changes: set[Cell] | None = None
    # Of those, the cells where a week went above its minimum or back to it (the learners there can or can no
    # longer be spared): all an explanation reads of the cells of a learner's own assignments.
    seen_minimum_changes: set[Cell] = field(default_factory=set)
    # When set, a token per cell that `take` replaces with a new one whenever one of the cell's weeks became full
    # or stopped being full, or went below its minimum or back up to it: all a learner's search reads of the
    # seats. A cell not in it still is as it was when the dict was started. Copied along a chain of newcomer-only
    # repairs, it tells whether a search remembered from an earlier step would still find the same plan.
    tokens: dict[Cell, int] | None = None

    def free(self, firm: str, module: str, week: int) -> int:
        held = self.used.get((firm, module))
        return self.table.max_at(firm, module, week) - (held.get(week, 0) if held else 0)

    def held(self, firm: str, module: str, week: int) -> int:
        held = self.used.get((firm, module))
        return held.get(week, 0) if held else 0

    def take(self, assignments: Iterable[Assignment], sign: int = 1) -> None:
        changes, seen, tokens = self.full_changes, self.seen_changes, self.tokens
        for a in assignments:
            cell = (a.firm_id, a.module_id)
            weeks = self.used.setdefault(cell, {})
            weeks_range = range(a.start, a.start + self.modules[a.module_id].duration)
            if changes is None and seen is None and tokens is None:
                for w in weeks_range:
                    weeks[w] = weeks.get(w, 0) + sign
                continue
            max_weeks = self.table.max_seats.get(cell, {})
            min_weeks = self.table.min_seats.get(cell, {})
            for w in weeks_range:
                before = weeks.get(w, 0)
                after = weeks[w] = before + sign
                seats = max_weeks.get(w, 0)
                if (before >= seats) != (after >= seats):
                    if changes is not None:
                        changes[cell] = changes.get(cell, 0) + 1
                    if tokens is not None:
                        tokens[cell] = next(_TOKENS)
                elif tokens is not None:
                    floor = min_weeks.get(w, 0)
                    if (before < floor) != (after < floor):
                        tokens[cell] = next(_TOKENS)
                if seen is not None:
                    minimum = min_weeks.get(w, 0)
                    if minimum > 0 and (before <= minimum) != (after <= minimum):
                        seen.add(cell)
                        self.seen_minimum_changes.add(cell)
                    elif before >= seats or after >= seats:
                        seen.add(cell)

    def release(self, assignments: Iterable[Assignment]) -> None:
        self.take(assignments, -1)

    def fits(self, firm: str, module: str, start: int, duration: int) -> bool:
        max_weeks = self.table.max_seats.get((firm, module))
        if not max_weeks:
            return False
        held = self.used.get((firm, module), {})
        return all(max_weeks.get(w, 0) - held.get(w, 0) > 0 for w in range(start, start + duration))

    def earliest(
        self, firm: str, module: str, duration: int, ranges: Iterable[tuple[int, int]], not_before: int
    ) -> int | None:
        """First start >= not_before inside `ranges` with a free seat in every week of the module."""
        max_weeks = self.table.max_seats.get((firm, module))
        if not max_weeks:
            return None
        held = self.used.get((firm, module), {})
        for lo, hi in ranges:
            s = max(lo, not_before)
            while s <= hi:
                # Scan backwards so a full week lets us jump past it in one step.
                for w in range(s + duration - 1, s - 1, -1):
                    if max_weeks.get(w, 0) - held.get(w, 0) <= 0:
                        s = w + 1
                        break
                else:
                    return s
        return None

    def deficit_weeks(self, firm: str, module: str, start: int, duration: int) -> int:
        """Weeks of this placement in which the (firm, module) is still below its min_seats."""
        min_weeks = self.table.min_seats.get((firm, module))
        if not min_weeks:
            return 0
        held = self.used.get((firm, module), {})
        return sum(1 for w in range(start, start + duration) if held.get(w, 0) < min_weeks.get(w, 0))
