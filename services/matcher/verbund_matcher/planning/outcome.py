"""Turns a solver's assignments into a Plan: objective from the evaluator, shortfalls, deficits, moves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from time import perf_counter

from .explain import explain, seat_deficits
from .model import Assignment, Plan, Problem
from .scope import LearnerScope, learner_scope
from .seats import SeatTable, seat_table
from .top_up import top_up
from .validator import evaluate


def moved_learners(problem: Problem, assignments: Iterable[Assignment]) -> int:
    """Learners who had published assignments and whose set of assignments is now different."""
    before: dict[str, set[Assignment]] = {}
    for a in problem.previous:
        before.setdefault(a.learner_id, set()).add(a)
    after: dict[str, set[Assignment]] = {}
    for a in assignments:
        after.setdefault(a.learner_id, set()).add(a)
    present = {s.id for s in problem.learners}
    return sum(1 for sid, old in before.items() if sid in present and after.get(sid, set()) != old)


def make_plan(
    problem: Problem,
    assignments: Iterable[Assignment],
    *,
    solver: str,
    started: float,
    proven_optimal: bool = False,
    bound: int | None = None,
    table: SeatTable | None = None,
    scopes: Mapping[str, LearnerScope] | None = None,
    phases: Mapping[str, float] | None = None,
) -> Plan:
    """The Plan for a solver's assignments; `phases` are the seconds the solver's own phases took, to which
    the top-up, the explanations and the assembly are added (Plan.phases)."""
    timed = dict(phases or {})
    clock = perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        now = perf_counter()
        timed[phase] = timed.get(phase, 0.0) + now - clock
        clock = now

    table = table if table is not None else seat_table(problem.offers)
    # A search stopped by its limit may leave a requirement open beside a free seat: no reason for that would
    # be true, so such seats are filled before anything is explained.
    filled = top_up(problem, sorted(set(assignments)), table)
    lap("top_up")
    chosen = tuple(sorted(set(filled), key=lambda a: (a.learner_id, a.start, a.module_id, a.firm_id)))
    evaluation = evaluate(problem, chosen)
    lap("assembly")
    shortfalls = explain(problem, chosen, table=table, scopes=scopes)
    lap("explain")
    deficits = seat_deficits(problem, chosen, table)
    if deficits:
        status = "infeasible"
    elif shortfalls:
        status = "partial"
    else:
        status = "optimal" if proven_optimal else "feasible"
    per_learner: dict[str, int] = {}
    if not shortfalls and not deficits:
        best = learner_bounds(problem, table, scopes=scopes)
        if best is not None:
            per_learner = best
            relaxed = combined_bound(best)
            bound = relaxed if bound is None else min(bound, relaxed)
    else:
        bound = None  # the objective is defined for complete plans; a partial plan has nothing to compare to
    if bound is not None and bound < evaluation.objective:
        bound = None  # cannot happen for a valid bound; never report one below a plan we hold
    moved = moved_learners(problem, chosen)
    lap("assembly")
    return Plan(
        assignments=chosen,
        sat=dict(evaluation.sat),
        objective=evaluation.objective,
        bound=bound,
        shortfalls=shortfalls,
        solver=solver,
        seconds=perf_counter() - started,
        status=status,
        moved=moved,
        deficits=deficits,
        learner_bounds=per_learner,
        phases=timed,
    )


def plan_key(problem: Problem, assignments: Iterable[Assignment]) -> tuple[int, int, int]:
    """Lexicographic quality: (− unfilled min-seat learner-weeks, assignments, design objective)."""
    chosen = list(assignments)
    short = sum(d.required - d.assigned for d in seat_deficits(problem, chosen))
    return (-short, len(chosen), evaluate(problem, chosen).objective)


def relaxation_bound(problem: Problem, table: SeatTable | None = None) -> int | None:
    """An upper bound on the objective of any complete plan, learner by learner, ignoring other learners.

    Each learner gets its best possible modules for every group (each at its best eligible firm with a start
    that fits its window and availability), firm changes and idle weeks at their best (zero for the usual
    non-positive weights), no change penalty. Σ of these + their minimum bounds Σ sat + min sat. None when
    some learner cannot even in isolation meet its requirements (no complete plan exists).
    """
    best = learner_bounds(problem, table)
    return None if best is None else combined_bound(best)


def combined_bound(best: Mapping[str, int]) -> int:
    """The objective's bound from the learners' own bounds: Σ + min, as the objective is Σ sat + min sat."""
    return sum(best.values()) + min(best.values(), default=0)


def learner_bounds(
    problem: Problem,
    table: SeatTable | None = None,
    *,
    known: Mapping[str, int] | None = None,
    scopes: Mapping[str, LearnerScope] | None = None,
) -> dict[str, int] | None:
    """Each learner's best sat(s) in isolation (see relaxation_bound); None when one has no complete plan.

    `known` holds values already worked out for learners whose inputs did not change; they are taken as is.
    `scopes` holds learner scopes already built for this problem (a constructor's), reused with their caches.
    """
    table = table if table is not None else seat_table(problem.offers)
    best: dict[str, int] = {}
    for learner in problem.learners:
        if known is not None and learner.id in known:
            best[learner.id] = known[learner.id]
            continue
        scope = scopes.get(learner.id) if scopes is not None else None
        if scope is None:
            scope = learner_scope(problem, learner)
        w = learner.weights
        value: dict[str, int] = {}
        for m in scope.modules:
            duration = problem.modules[m].duration
            options = [
                w.firm * learner.firm_pref.get(f, 0)
                for f in scope.firms(table, m)
                if scope.start_ranges(table, m, f, duration)
            ]
            if options:
                value[m] = w.module * learner.module_pref.get(m, 0) + problem.modules[m].priority + max(options)
        total = 0
        count = 0
        for group, required in scope.required.items():
            ranked = sorted((v for m, v in value.items() if group in scope.groups_of[m]), reverse=True)
            if len(ranked) < required:
                return None
            total += sum(ranked[:required])
            count += required
        window = learner.last_week - learner.first_week + 1
        total += max(0, w.change) * max(0, count - 1) + max(0, w.idle) * window
        best[learner.id] = total
    return best
