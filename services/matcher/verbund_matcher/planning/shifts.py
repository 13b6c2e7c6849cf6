"""Moves assignments into weeks below a minimum, where that empties no week below one: a quick first cut.

The constructive plans learner by learner and places each module at its earliest free start, so the weeks a
workshop needs people in are filled only by chance; on networks with demanding minimums its plan starts hundreds
of learner-weeks short (tight-320-12-5-96-1: 387). Many of those weeks are one move away: a learner doing the same
module at another firm, or a few weeks earlier or later, who could be there instead while the week they leave
keeps its minimum. Others are two moves away: the learner who could come leaves a gap where they were, and
another learner can fill it. Each move is checked against every hard rule the plan keeps (offer, eligibility,
window and availability, max seats, the learner's other modules and their order, the per-firm limit), so the
plan stays valid; the deficit only falls (tight-320-24-5-96-3: 521 learner-weeks short after the constructive,
271 after single moves, 248 after top-up and pairs). The search with CP-SAT (feasibility.py) then starts there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .ledger import SeatLedger
from .model import Assignment, Problem
from .scope import LearnerScope
from .seats import SeatTable

# Passes over the weeks still short; each pass moves at most one assignment per week. The second pass finds
# a few more (a move frees room for another); beyond that hardly any.
PASSES = 8
# Then pairs of moves (see _chain): passes, and first moves tried per short week (the cheapest losses first).
CHAIN_PASSES = 3
CHAIN_FIRST = 8
# Candidate places looked at, at most, in all: a bound in work (not seconds, so plans stay repeatable) for
# networks with thousands of short weeks. The tight family's largest needs about 0.7 million per call (4-13 s
# on the shared 2-core machine).
MAX_LOOKS = 1_500_000


def shift_into_deficits(
    problem: Problem,
    assignments: Sequence[Assignment],
    table: SeatTable,
    scopes: Mapping[str, LearnerScope],
) -> list[Assignment]:
    """The assignments with single moves made that lower the weeks below a minimum; frozen ones never move."""
    if not table.min_seats:
        return list(assignments)
    return _Shifter(problem, assignments, table, scopes).run()


class _Shifter:
    def __init__(
        self,
        problem: Problem,
        assignments: Sequence[Assignment],
        table: SeatTable,
        scopes: Mapping[str, LearnerScope],
    ) -> None:
        self.problem = problem
        self.table = table
        self.scopes = scopes
        self.duration = {m: problem.modules[m].duration for m in problem.modules}
        self.limit = problem.settings.max_modules_per_firm
        self.frozen = set(problem.frozen)
        self.ledger = SeatLedger(table, problem.modules)
        self.ledger.take(a for a in assignments if a.module_id in problem.modules)
        self.plan = list(assignments)
        self.looks = 0
        # Where each assignment stands in the plan: a move replaces it there, so the input order is kept.
        self.position = {a: i for i, a in enumerate(self.plan)}
        self.by_learner: dict[str, list[Assignment]] = {}
        self.by_module: dict[str, list[Assignment]] = {}
        for a in self.plan:
            self.by_learner.setdefault(a.learner_id, []).append(a)
            if a.learner_id in scopes and a not in self.frozen and a.module_id in problem.modules:
                self.by_module.setdefault(a.module_id, []).append(a)

    def run(self) -> list[Assignment]:
        for _ in range(PASSES):
            changed = 0
            for (firm, module), weeks in self.table.min_seats.items():
                for week in sorted(weeks):
                    if module not in self.duration or self.ledger.held(firm, module, week) >= weeks[week]:
                        continue
                    if self.looks > MAX_LOOKS:
                        return self.plan
                    best = self._best_move(firm, module, week)
                    if best is not None:
                        self._move(*best)
                        changed += 1
            if not changed:
                break
        for _ in range(CHAIN_PASSES):
            changed = 0
            for (firm, module), weeks in self.table.min_seats.items():
                for week in sorted(weeks):
                    if module not in self.duration or self.ledger.held(firm, module, week) >= weeks[week]:
                        continue
                    if self.looks > MAX_LOOKS:
                        return self.plan
                    changed += self._chain(firm, module, week)
            if not changed:
                break
        return self.plan

    def _chain(self, firm: str, module: str, week: int) -> int:
        """Two moves that together fill weeks below a minimum: a learner moves into (firm, module, week) although
        the place they leave falls below its own minimum, and another learner moves into that place. Tries the
        CHAIN_FIRST first moves that lose least; makes the pair (and returns 1) when the two gain, net."""
        duration = self.duration[module]
        first: list[tuple[int, int, Assignment, Assignment]] = []
        for order, a in enumerate(self.by_module.get(module, ())):
            if self._busy_elsewhere(a, week):
                continue
            scope = self.scopes[a.learner_id]
            for lo, hi in scope.start_ranges(self.table, module, firm, duration):
                for start in range(max(lo, week - duration + 1), min(hi, week) + 1):
                    self.looks += 1
                    if (firm, start) == (a.firm_id, a.start) or not self._fits_learner(a, start):
                        continue
                    gain = self._gain(a, firm, start)
                    if gain <= 0:  # a gain was made by the single moves already
                        first.append((-gain, order, a, Assignment(a.learner_id, module, firm, start)))
        first.sort(key=lambda move: (move[0], move[1], move[3].start))
        tried = 0
        for loss, _, a, new in first:
            if tried >= CHAIN_FIRST:
                break
            if not self._allowed(a, new):
                continue
            tried += 1
            self._move(a, new)
            minimum = self.table.min_seats.get((a.firm_id, module), {})
            holes = [
                w
                for w in range(a.start, a.start + duration)
                if self.ledger.held(a.firm_id, module, w) < minimum.get(w, 0)
            ]
            second = self._best_move_and_gain(a.firm_id, module, holes[0]) if holes else None
            if second is not None and second[0] > loss and second[1] != new:
                self._move(second[1], second[2])
                return 1
            self._move(new, a)
        return 0

    def _best_move(self, firm: str, module: str, week: int) -> tuple[Assignment, Assignment] | None:
        """The move into (firm, module, week) that fills the most weeks below a minimum, net; None if none."""
        found = self._best_move_and_gain(firm, module, week)
        return None if found is None else (found[1], found[2])

    def _best_move_and_gain(self, firm: str, module: str, week: int) -> tuple[int, Assignment, Assignment] | None:
        duration = self.duration[module]
        best: tuple[int, Assignment, Assignment] | None = None
        first_start = week - duration + 1
        for a in self.by_module.get(module, ()):
            # Cheapest tests first: this runs for every learner doing the module. One busy with another module
            # in that week cannot be there at any start.
            if self._busy_elsewhere(a, week):
                continue
            scope = self.scopes[a.learner_id]
            starts = [
                start
                for lo, hi in scope.start_ranges(self.table, module, firm, duration)
                for start in range(max(lo, first_start), min(hi, week) + 1)
            ]
            self.looks += len(starts)
            for start in starts:
                if (firm, start) == (a.firm_id, a.start):
                    continue
                if not self._fits_learner(a, start):
                    continue
                gain = self._gain(a, firm, start)
                if gain <= 0 or (best is not None and gain <= best[0]):
                    continue
                new = Assignment(a.learner_id, module, firm, start)
                if self._allowed(a, new):
                    best = (gain, a, new)
        return best

    def _busy_elsewhere(self, old: Assignment, week: int) -> bool:
        for b in self.by_learner[old.learner_id]:
            if b != old and b.start <= week <= b.start + self.duration.get(b.module_id, 1) - 1:
                return True
        return False

    def _fits_learner(self, old: Assignment, start: int) -> bool:
        """Whether the learner's other modules leave the weeks from `start` free (order is checked later)."""
        end = start + self.duration[old.module_id] - 1
        for b in self.by_learner[old.learner_id]:
            if b != old and b.start <= end and start <= b.start + self.duration.get(b.module_id, 1) - 1:
                return False
        return True

    def _gain(self, a: Assignment, firm: str, start: int) -> int:
        """Weeks below a minimum filled at the new place minus those the old place falls (further) below."""
        duration = self.duration[a.module_id]
        ledger, mins = self.ledger, self.table.min_seats
        old_min = mins.get((a.firm_id, a.module_id), {})
        new_min = mins.get((firm, a.module_id), {})
        same_firm = firm == a.firm_id
        gain = 0
        for w in range(start, start + duration):
            if same_firm and a.start <= w < a.start + duration:
                continue
            if ledger.held(firm, a.module_id, w) < new_min.get(w, 0):
                gain += 1
        for w in range(a.start, a.start + duration):
            if same_firm and start <= w < start + duration:
                continue
            if ledger.held(a.firm_id, a.module_id, w) <= old_min.get(w, 0):
                gain -= 1
        return gain

    def _allowed(self, old: Assignment, new: Assignment) -> bool:
        """Whether `new` in place of `old` keeps the seats, the learner's order of modules and the per-firm limit
        (its start is one the learner may take there: checked by the caller)."""
        scope = self.scopes[new.learner_id]
        module, firm, start = new.module_id, new.firm_id, new.start
        duration = self.duration[module]
        for w in range(start, start + duration):
            inside_old = firm == old.firm_id and old.start <= w < old.start + duration
            if not inside_old and self.ledger.free(firm, module, w) <= 0:
                return False
        end = start + duration - 1
        firm_modules: set[str] = set()
        for b in self.by_learner[new.learner_id]:
            if b == old:
                continue
            b_end = b.start + self.duration.get(b.module_id, 1) - 1
            if b.start <= end and start <= b_end:
                return False
            if b.module_id in scope.prereqs.get(module, ()) and b_end >= start:
                return False
            if module in scope.prereqs.get(b.module_id, ()) and end >= b.start:
                return False
            if b.firm_id == firm:
                firm_modules.add(b.module_id)
        # The learner's other modules at that firm (a learner takes a module once, so `module` is not among them).
        return self.limit is None or len(firm_modules) < self.limit

    def _move(self, old: Assignment, new: Assignment) -> None:
        self.ledger.release([old])
        self.ledger.take([new])
        at = self.position.pop(old)
        self.plan[at] = new
        self.position[new] = at
        own = self.by_learner[old.learner_id]
        own[own.index(old)] = new
        same = self.by_module[old.module_id]
        same[same.index(old)] = new
