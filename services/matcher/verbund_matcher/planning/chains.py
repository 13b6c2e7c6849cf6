"""Ejection chains: makes room for an open requirement or a week below a minimum by handing seats on.

On networks whose seats are what one known plan uses, plus or minus one or two, an open requirement rarely finds a
free seat, and a week below a minimum rarely finds a learner who can leave their place without emptying it. Both
are often a few hand-overs away. A learner with a module still open takes the exact place (firm, module, start)
of somebody doing that module; that learner takes somebody else's place, and so on, until the last one moves
to a place with a free seat in every week. Seat counts change only there, so no week drops below its minimum and
the requirement is placed. The other way round fills a short week: a learner moves into it, and the place they
leave (where it would fall below a minimum) is taken over exactly by another learner — one with the module still
open (placed as well), or one who leaves a place that stays at or above its minimum, or one whose place is taken
over in turn. The chains are found breadth first (shortest first), among learners doing the module, and every
step is checked against the hard rules the plan keeps (window and availability, offer and eligibility, the
learner's other modules and their order, the per-firm limit, maximum seats). A bound on the places looked at,
not seconds, keeps them quick and repeatable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping, Sequence

from .ledger import SeatLedger
from .model import Assignment, Problem
from .scope import LearnerScope
from .seats import SeatTable

# Rounds over every open requirement and every week still short; a round's hand-overs open room for the next.
ROUNDS = 4
# Places looked at, at most, per call: a bound in work (not seconds) so plans stay repeatable.
MAX_LOOKS = 2_000_000

Place = tuple[str, int]  # (firm, start) of a module


def hand_on(
    problem: Problem,
    assignments: Sequence[Assignment],
    table: SeatTable,
    scopes: Mapping[str, LearnerScope],
    max_looks: int = MAX_LOOKS,
) -> list[Assignment]:
    """The assignments with chains of hand-overs made that place open requirements and fill weeks below a
    minimum; no week falls below its minimum, no maximum is exceeded, frozen assignments stay."""
    return Handovers(problem, assignments, table, scopes, max_looks).run()


class Handovers:
    """A plan being changed one learner's module at a time: seats held, each learner's modules, and where
    a learner could do a module with the rest of their plan where it is."""

    def __init__(
        self,
        problem: Problem,
        assignments: Sequence[Assignment],
        table: SeatTable,
        scopes: Mapping[str, LearnerScope],
        max_looks: int,
    ) -> None:
        self.problem = problem
        self.table = table
        self.scopes = scopes
        self.duration = {m: problem.modules[m].duration for m in problem.modules}
        self.limit = problem.settings.max_modules_per_firm
        self.frozen = set(problem.frozen)
        self.ledger = SeatLedger(table, problem.modules)
        self.ledger.take(a for a in assignments if a.module_id in problem.modules)
        self.plan: list[Assignment | None] = list(assignments)
        self.position = {a: i for i, a in enumerate(assignments)}
        self.by_learner: dict[str, dict[str, Assignment]] = {sid: {} for sid in scopes}
        for a in assignments:
            self.by_learner.setdefault(a.learner_id, {})[a.module_id] = a
        self.looks = 0
        self.max_looks = max_looks

    # The plan ----------------------------------------------------------------------------------------------

    def run(self) -> list[Assignment]:
        for _ in range(ROUNDS):
            changed = 0
            for sid in self.scopes:
                for module in self.open_modules(sid):
                    if self.looks > self.max_looks:
                        return self.result()
                    if self._place(sid, module):
                        changed += 1
                        break
            for (firm, module), weeks in self.table.min_seats.items():
                if module not in self.duration:
                    continue
                for week in sorted(weeks):
                    if self.looks > self.max_looks:
                        return self.result()
                    if self.ledger.held(firm, module, week) < weeks[week] and self._fill(firm, module, week):
                        changed += 1
            if not changed:
                break
        return self.result()

    def result(self) -> list[Assignment]:
        return [a for a in self.plan if a is not None]

    def set(self, sid: str, module: str, place: Place | None) -> None:
        """Puts the learner's module at `place` (None: drops it), keeping the plan's order where it was."""
        own = self.by_learner.setdefault(sid, {})
        old = own.pop(module, None)
        at = len(self.plan)
        if old is not None:
            self.ledger.release([old])
            at = self.position.pop(old)
            self.plan[at] = None
        if place is None:
            return
        new = Assignment(sid, module, place[0], place[1])
        own[module] = new
        self.ledger.take([new])
        if at == len(self.plan):
            self.plan.append(new)
        else:
            self.plan[at] = new
        self.position[new] = at

    # What a learner may do ----------------------------------------------------------------------------------

    def open_modules(self, sid: str) -> list[str]:
        """Modules the learner could add: allowed, not planned, every group they count for still short."""
        scope = self.scopes[sid]
        own = self.by_learner.get(sid, {})
        counts: dict[str, int] = {}
        for m in own:
            for g in scope.groups_of.get(m, ()):
                counts[g] = counts.get(g, 0) + 1
        short = {g for g, need in scope.required.items() if counts.get(g, 0) < need}
        if not short:
            return []
        return [
            m
            for m in scope.modules
            if m not in own
            and m in self.duration
            and scope.groups_of.get(m)
            and all(g in short for g in scope.groups_of[m])
            and all(r in own for r in scope.prereqs.get(m, ()))
        ]

    def places(self, sid: str, module: str, loose: Collection[str] = ()) -> list[Place]:
        """Every (firm, start) where the learner could do the module with their other modules where they are
        (seats aside): window, availability, offer, eligibility, no overlap, order of modules, per-firm limit.
        Modules in `loose` are left out, as if not planned (the caller keeps them apart)."""
        scope = self.scopes[sid]
        duration = self.duration[module]
        own = self.by_learner.get(sid, {})
        busy: set[int] = set()
        not_before, not_after = -(1 << 30), 1 << 30  # start bounds from modules before and after this one
        firms_used: dict[str, int] = {}
        for m, b in own.items():
            if m == module or (m in loose and b not in self.frozen):
                continue
            length = self.duration.get(m, 1)
            busy.update(range(b.start, b.start + length))
            if m in scope.prereqs.get(module, ()):
                not_before = max(not_before, b.start + length)
            if module in scope.prereqs.get(m, ()):
                not_after = min(not_after, b.start - duration)
            firms_used[b.firm_id] = firms_used.get(b.firm_id, 0) + 1
        places: list[Place] = []
        for firm in scope.firms(self.table, module):
            if self.limit is not None and firms_used.get(firm, 0) >= self.limit:
                continue
            for lo, hi in scope.start_ranges(self.table, module, firm, duration):
                for start in range(max(lo, not_before), min(hi, not_after) + 1):
                    self.looks += 1
                    if not any(w in busy for w in range(start, start + duration)):
                        places.append((firm, start))
        return places

    def _free(self, module: str, place: Place, leaving: Assignment | None) -> bool:
        """Whether every week of the place has a free seat (the learner's own seat there counts as free)."""
        firm = place[0]
        return all(self.ledger.free(firm, module, w) > 0 for w in self._new_weeks(module, place, leaving))

    def _filled(self, module: str, place: Place, leaving: Assignment | None) -> int:
        """Weeks below the minimum that the place fills (those the learner already holds aside)."""
        firm = place[0]
        minimum = self.table.min_seats.get((firm, module))
        if not minimum:
            return 0
        return sum(
            1 for w in self._new_weeks(module, place, leaving) if self.ledger.held(firm, module, w) < minimum.get(w, 0)
        )

    def _new_weeks(self, module: str, place: Place, leaving: Assignment | None) -> list[int]:
        """The weeks of the place the learner does not hold already (its own seat at that firm stays its own)."""
        firm, start = place
        weeks = range(start, start + self.duration[module])
        if leaving is None or leaving.firm_id != firm:
            return list(weeks)
        held = range(leaving.start, leaving.start + self.duration[module])
        return [w for w in weeks if w not in held]

    def _harmless(self, a: Assignment) -> bool:
        """Whether leaving the assignment keeps every week of it at or above its minimum."""
        minimum = self.table.min_seats.get((a.firm_id, a.module_id))
        if not minimum:
            return True
        return all(
            self.ledger.held(a.firm_id, a.module_id, w) > minimum.get(w, 0)
            for w in range(a.start, a.start + self.duration[a.module_id])
            if w in minimum
        )

    def movable(self, sid: str, module: str) -> Assignment | None:
        a = self.by_learner.get(sid, {}).get(module)
        return None if a is None or a in self.frozen else a

    # An open requirement ------------------------------------------------------------------------------------

    def _place(self, sid: str, module: str) -> bool:
        """Places the learner's open module at a free place, or at somebody's place that learner hands on."""
        holders: dict[Place, list[str]] = {}
        self.looks += len(self.by_learner)
        for other, own in self.by_learner.items():
            a = own.get(module)
            if a is not None and a not in self.frozen:
                holders.setdefault((a.firm_id, a.start), []).append(other)
        # parent[learner] = (who takes their place, the place): the chain back to `sid`.
        parent: dict[str, tuple[str, Place]] = {}
        seen = {sid}
        queue = deque([sid])
        while queue:
            current = queue.popleft()
            leaving = self.movable(current, module)
            best: tuple[int, Place] | None = None
            for place in self.places(current, module):
                if leaving is not None and place == (leaving.firm_id, leaving.start):
                    continue
                # The learner's old place is taken over by the one before in the chain: it frees no seat.
                if self._free(module, place, None):
                    gain = self._filled(module, place, None)
                    if best is None or gain > best[0]:
                        best = (gain, place)
                    continue
                for other in holders.get(place, ()):
                    if other not in seen:
                        seen.add(other)
                        parent[other] = (current, place)
                        queue.append(other)
            if best is not None:
                # The last learner moves to the free place; each earlier one takes the place the next one left.
                self.set(current, module, best[1])
                while current in parent:
                    taker, place = parent[current]
                    self.set(taker, module, place)
                    current = taker
                return True
            if self.looks > self.max_looks:
                break
        return False

    # A week below its minimum -------------------------------------------------------------------------------

    def _fill(self, firm: str, module: str, week: int) -> bool:
        """Moves a learner into (firm, module, week) and hands the place they leave on, where it would fall below
        its minimum, to a learner with the module open or one whose own place can be left or handed on."""
        duration = self.duration[module]
        entrants: list[tuple[int, str, Place]] = []
        self.looks += len(self.scopes)
        for sid in self.scopes:
            leaving = self.movable(sid, module)
            if leaving is None and module not in self.open_modules(sid):
                continue
            if leaving is not None and leaving.firm_id == firm and leaving.start <= week < leaving.start + duration:
                continue
            for place in self.places(sid, module):
                if place[0] != firm or not place[1] <= week < place[1] + duration:
                    continue
                if not self._free(module, place, leaving):
                    continue
                gain = self._filled(module, place, leaving)
                if gain > 0:
                    entrants.append((-gain, sid, place))
        entrants.sort()
        for _, sid, place in entrants:
            leaving = self.movable(sid, module)
            if leaving is None or self._harmless(leaving):
                self.set(sid, module, place)
                return True
            # The place left is taken over below, so it frees no seat for the learner's new one.
            if not self._free(module, place, None) or self._filled(module, place, None) <= 0:
                continue
            self.set(sid, module, place)
            if self._hand_on((leaving.firm_id, leaving.start), module, sid):
                return True
            self.set(sid, module, (leaving.firm_id, leaving.start))
            if self.looks > self.max_looks:
                break
        return False

    def _hand_on(self, vacated: Place, module: str, mover: str) -> bool:
        """Refills a vacated place exactly: a learner with the module open takes it, or one who leaves a place
        that stays at or above its minimum, or one whose place is refilled in turn (breadth first)."""
        self.looks += len(self.scopes)
        candidates = [
            sid
            for sid in self.scopes
            if sid != mover and (self.movable(sid, module) is not None or module in self.open_modules(sid))
        ]
        # parent[place] = the place whose holder moved into it (the chain back to `vacated`).
        parent: dict[Place, Place] = {}
        taken_by: dict[Place, str] = {}
        places: dict[str, set[Place]] = {}
        moving: set[str] = set()
        seen = {vacated}
        queue = deque([vacated])
        while queue:
            place = queue.popleft()
            for sid in candidates:
                if sid in places and place not in places[sid]:
                    continue
                if sid not in places:
                    places[sid] = set(self.places(sid, module))
                    if place not in places[sid]:
                        continue
                if sid in moving:
                    continue
                leaving = self.movable(sid, module)
                end = leaving is None or self._harmless(leaving)
                if end:
                    # Hand every place on along the chain, from this one back to the first vacated.
                    self.set(sid, module, place)
                    while place in parent:
                        back = parent[place]
                        self.set(taken_by[place], module, back)
                        place = back
                    return True
                assert leaving is not None
                own = (leaving.firm_id, leaving.start)
                if own not in seen:
                    seen.add(own)
                    parent[own] = place
                    taken_by[own] = sid
                    moving.add(sid)
                    queue.append(own)
                    self.looks += 1
            if self.looks > self.max_looks:
                break
        return False
