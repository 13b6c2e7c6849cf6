"""Places unmet requirements into seats a plan leaves free, without breaking any rule the plan keeps."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence

from .ledger import SeatLedger
from .model import Assignment, Learner, Problem
from .scope import LearnerScope, learner_scope
from .seats import SeatTable, seat_table


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
    added: list[Assignment] = []
    for learner in problem.learners:
        own = by_learner.setdefault(learner.id, [])
        scope: LearnerScope | None = None
        while _short_groups(problem, learner, own):
            scope = scope if scope is not None else learner_scope(problem, learner)
            placed = _best_addition(problem, table, ledger, scope, own)
            if placed is None:
                break
            own.append(placed)
            ledger.take([placed])
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
    problem: Problem, table: SeatTable, ledger: SeatLedger, scope: LearnerScope, own: Sequence[Assignment]
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
        for firm in _firms_to_try(table, scope, m):
            if limit is not None and len(at_firm.get(firm, ())) >= limit:
                continue
            gain = w.module * learner.module_pref.get(m, 0) + w.firm * learner.firm_pref.get(firm, 0)
            has_minimum = (firm, m) in table.min_seats
            ranges = scope.start_ranges(table, m, firm, duration)
            for s in _free_starts(ledger, busy, firm, m, duration, ranges, not_before, not_after - duration):
                value = gain + modules[m].priority
                # A prerequisite goes early, to leave its dependent room; others by preference.
                first = m in wanted_first
                key = (
                    -ledger.deficit_weeks(firm, m, s, duration),
                    0 if first else 1,
                    s if first else -value,
                    -value if first else s,
                    m,
                    firm,
                )
                if best is None or key < best[0]:
                    best = (key, Assignment(learner.id, m, firm, s))
                if not has_minimum:
                    break  # without a minimum to fill, a later start here only ranks lower
    return None if best is None else best[1]


# Firms per module a learner's gap is tried at: where hundreds offer a module (10,000 learners × 1,000 firms),
# trying each of them for every gap takes longer than the whole solve. Firms whose offers have a minimum come
# first (a seat there can fill a deficit), then the learner's preferred ones.
FIRMS_PER_MODULE = 12


def _firms_to_try(table: SeatTable, scope: LearnerScope, module: str) -> tuple[str, ...]:
    firms = scope.firms(table, module)
    if len(firms) <= FIRMS_PER_MODULE:
        return firms
    pref = scope.learner.firm_pref
    ranked = sorted(firms, key=lambda f: ((f, module) not in table.min_seats, -pref.get(f, 0), f))
    return tuple(ranked[:FIRMS_PER_MODULE])


def _free_starts(
    ledger: SeatLedger,
    busy: Collection[int],
    firm: str,
    module: str,
    duration: int,
    ranges: Iterable[tuple[int, int]],
    not_before: int,
    not_after: int,
) -> Iterator[int]:
    """Starts in `ranges` from not_before to not_after, in order, with a free seat in every week and none of
    the learner's weeks taken."""
    for lo, hi in ranges:
        s = max(lo, not_before)
        last = min(hi, not_after)
        while s <= last:
            found = ledger.earliest(firm, module, duration, [(s, last)], s)
            if found is None:
                break
            clash = [w for w in range(found, found + duration) if w in busy]
            if clash:
                s = clash[-1] + 1
                continue
            yield found
            s = found + 1
