"""Places unmet requirements into seats a plan leaves free, without breaking any rule the plan keeps."""

from __future__ import annotations

from collections.abc import Sequence

from .ledger import SeatLedger
from .model import Assignment, Learner, Problem
from .scope import LearnerScope, learner_scope
from .seats import Range, SeatTable, clear_starts, ranges_within, seat_table, week_runs


def top_up(problem: Problem, assignments: Sequence[Assignment], table: SeatTable | None = None) -> list[Assignment]:
    """The assignments plus, for each learner with an unmet group, modules placed into free options.

    A solver stopped by its time limit can leave a requirement unmet while a seat for it is free; no reason
    for such a shortfall is true (see evidence). This fills those gaps, learner by learner in problem order,
    and only where nothing else changes: an added module is allowed, not yet planned, counts for groups that
    are all still short (never more than a group's required count), is at a firm the learner may attend and
    below the per-firm limit, lies inside the window on available weeks, overlaps none of the learner's
    modules, starts after its prerequisites end and ends before any planned module that requires it starts,
    and finds a free seat in every week. Nothing is moved or removed, so no seat count goes down (no minimum
    is broken that was kept) and no seat count goes above its maximum.

    Among a learner's options, those that fill weeks below a minimum come first, then a module that an open
    module requires, then the learner's preferences, then the earliest start. The input order is kept; added
    assignments follow it.
    """
    table = table if table is not None else seat_table(problem.offers)
    ledger = SeatLedger(table, problem.modules)
    ledger.take(a for a in assignments if a.module_id in problem.modules)
    by_learner: dict[str, list[Assignment]] = {}
    for a in assignments:
        by_learner.setdefault(a.learner_id, []).append(a)
    openings = _Openings(table, ledger)
    ranking = _FirmRanking(table)
    added: list[Assignment] = []
    for learner in problem.learners:
        own = by_learner.setdefault(learner.id, [])
        scope: LearnerScope | None = None
        firms: dict[str, tuple[str, ...]] = {}  # module -> the firms tried for it, for this learner
        while _short_groups(problem, learner, own):
            scope = scope if scope is not None else learner_scope(problem, learner)
            placed = _best_addition(problem, table, openings, ranking, scope, own, firms)
            if placed is None:
                break
            own.append(placed)
            openings.take(placed)
            added.append(placed)
    return [*assignments, *added]


def _short_groups(problem: Problem, learner: Learner, own: Sequence[Assignment]) -> set[str]:
    """The learner's groups with fewer planned modules than required."""
    curriculum = problem.curricula.get(learner.curriculum_id)
    if curriculum is None:
        return set()
    done = {a.module_id for a in own}
    return {
        g.id
        for g in curriculum.groups
        if sum(1 for m in g.module_ids if m in done) < learner.required.get(g.id, g.default_required)
    }


def _best_addition(
    problem: Problem,
    table: SeatTable,
    openings: _Openings,
    ranking: _FirmRanking,
    scope: LearnerScope,
    own: Sequence[Assignment],
    firms_tried: dict[str, tuple[str, ...]],
) -> Assignment | None:
    learner = scope.learner
    curriculum = problem.curricula[learner.curriculum_id]
    done = {a.module_id for a in own}
    short = _short_groups(problem, learner, own)
    # A module counts for every group listing it: each of them must still be short.
    addable = [
        m
        for m in scope.modules
        if m not in done
        and scope.groups_of.get(m)
        and all(g in short for g in scope.groups_of[m])
        and m in problem.modules
    ]
    if not addable:
        return None
    modules = problem.modules
    busy = {w for a in own if a.module_id in modules for w in range(a.start, a.start + modules[a.module_id].duration)}
    placed = {a.module_id: a for a in own}
    # Modules still open that need another open module first: placing that one first lets both in.
    wanted_first = {r for m in addable for r in scope.prereqs.get(m, ()) if r in addable}
    limit = problem.settings.max_modules_per_firm
    at_firm: dict[str, set[str]] = {}
    for a in own:
        at_firm.setdefault(a.firm_id, set()).add(a.module_id)
    w = learner.weights
    best: tuple[tuple[int, int, int, int, str, str], Assignment] | None = None
    for m in addable:
        duration = modules[m].duration
        not_before = learner.first_week
        ready = True
        for requires in scope.prereqs.get(m, ()):
            before = placed.get(requires)
            if before is None or requires not in modules:
                ready = False
                break
            not_before = max(not_before, before.start + modules[requires].duration)
        if not ready:
            continue
        # A planned module that requires m (only in a plan that already breaks precedence) must start after it.
        not_after = min(
            (placed[d].start for d, r in curriculum.precedence if r == m and d in placed),
            default=learner.last_week + 1,
        )
        if m not in firms_tried:
            firms_tried[m] = ranking.to_try(scope, m)
        # Starts after the prerequisites, before the modules requiring m, clear of the learner's planned weeks.
        allowed = ranges_within([(not_before, not_after - duration)], clear_starts(busy, duration, not_before, _NO_END))
        for firm in firms_tried[m]:
            if limit is not None and len(at_firm.get(firm, ())) >= limit:
                continue
            gain = w.module * learner.module_pref.get(m, 0) + w.firm * learner.firm_pref.get(firm, 0)
            # Where seats are free first: it rules most firms out before the learner's own ranges are needed.
            starts = ranges_within(allowed, openings.free_starts(firm, m, duration))
            if starts:
                starts = ranges_within(starts, scope.start_ranges(table, m, firm, duration))
            if not starts:
                continue
            # The start filling most weeks below a minimum, the earliest of those, ranks first here; without a
            # minimum to fill that is the first start.
            s, deficit = openings.most_below_minimum(firm, m, duration, starts)
            value = gain + modules[m].priority
            # A prerequisite goes early, to leave its dependent room; others by preference.
            first = m in wanted_first
            key = (
                -deficit,
                0 if first else 1,
                s if first else -value,
                -value if first else s,
                m,
                firm,
            )
            if best is None or key < best[0]:
                best = (key, Assignment(learner.id, m, firm, s))
    return None if best is None else best[1]


# Firms per module a learner's gap is tried at: where hundreds offer a module (10,000 learners × 1,000 firms),
# trying each of them for every gap takes longer than the whole solve. Firms whose offers have a minimum come
# first (a seat there can fill a deficit), then the learner's preferred ones.
FIRMS_PER_MODULE = 12


class _FirmRanking:
    """The firms a learner's gap in a module is tried at (FIRMS_PER_MODULE of them where more offer it)."""

    def __init__(self, table: SeatTable) -> None:
        self._table = table
        self._modules: dict[str, tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]] = {}

    def to_try(self, scope: LearnerScope, module: str) -> tuple[str, ...]:
        """The eligible firms offering the module, ranked by minimum first, then preference, then id: the first
        FIRMS_PER_MODULE of them, in any order."""
        table = self._table
        offering = table.firms_for.get(module, ())
        if len(offering) <= FIRMS_PER_MODULE:
            return scope.firms(table, module)
        known = self._modules.get(module)
        if known is None:
            with_minimum = tuple(f for f in offering if (f, module) in table.min_seats)
            without = tuple(f for f in offering if (f, module) not in table.min_seats)
            known = (frozenset(offering), with_minimum, without)
            self._modules[module] = known
        firms, with_minimum, without = known
        pref = scope.learner.firm_pref
        # The first ones ranked are among the preferred (or disliked) firms and, of each minimum class, the
        # first FIRMS_PER_MODULE of the others by id: only those are ranked, not every firm offering the module.
        ranked = [f for f, p in pref.items() if p != 0 and f in firms and scope.eligible(f, module)]
        for cls in (with_minimum, without):
            taken = 0
            for f in cls:
                if taken >= FIRMS_PER_MODULE:
                    break
                if not pref.get(f, 0) and scope.eligible(f, module):
                    ranked.append(f)
                    taken += 1
        ranked.sort(key=lambda f: ((f, module) not in table.min_seats, -pref.get(f, 0), f))
        return tuple(ranked[:FIRMS_PER_MODULE])


class _Openings:
    """Per firm x module, the starts with a free seat in every week and the weeks still below the minimum, as
    the seats stand while top_up fills them; worked out when first asked and again after a placement there."""

    def __init__(self, table: SeatTable, ledger: SeatLedger) -> None:
        self._table = table
        self._ledger = ledger
        self._free: dict[tuple[str, str], tuple[int, list[Range]]] = {}  # cell -> (duration, starts)
        self._below: dict[tuple[str, str], tuple[int, list[int]]] = {}

    def take(self, placed: Assignment) -> None:
        self._ledger.take([placed])
        cell = (placed.firm_id, placed.module_id)
        self._below.pop(cell, None)
        self._free.pop(cell, None)

    def free_starts(self, firm: str, module: str, duration: int) -> list[Range]:
        cached = self._free.get((firm, module))
        if cached is not None and cached[0] == duration:
            return cached[1]
        held = self._ledger.used.get((firm, module), {})
        weeks = [w for w, seats in self._table.max_seats.get((firm, module), {}).items() if seats - held.get(w, 0) > 0]
        starts = [(lo, hi - duration + 1) for lo, hi in week_runs(weeks) if hi - lo + 1 >= duration]
        self._free[(firm, module)] = (duration, starts)
        return starts

    def most_below_minimum(self, firm: str, module: str, duration: int, starts: Sequence[Range]) -> tuple[int, int]:
        """The start in `starts` with the most weeks below the minimum (ledger.deficit_weeks), the earliest
        of those, and that number."""
        minimum = self._table.min_seats.get((firm, module))
        if not minimum:
            return starts[0][0], 0
        cell = self._below.get((firm, module))
        if cell is None:
            first, last = min(minimum), max(minimum)
            held = self._ledger.used.get((firm, module), {})
            counts = [0]
            for w in range(first, last + 1):
                counts.append(counts[-1] + (held.get(w, 0) < minimum.get(w, 0)))
            cell = (first, counts)
            self._below[(firm, module)] = cell
        first, counts = cell
        top = len(counts) - 1
        best_start, most = starts[0][0], -1
        for lo, hi in starts:
            for s in range(lo, hi + 1):
                below = counts[min(max(s + duration - first, 0), top)] - counts[min(max(s - first, 0), top)]
                if below > most:
                    best_start, most = s, below
                    if most == duration:
                        return best_start, most
        return best_start, most


_NO_END = 1 << 30  # beyond every week
