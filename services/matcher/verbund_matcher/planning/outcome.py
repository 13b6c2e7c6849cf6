"""Turns a solver's assignments into a Plan: objective from the evaluator, shortfalls, deficits, moves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from time import perf_counter

from .explain import explain, seat_deficits
from .model import Assignment, Plan, Problem
from .scope import LearnerScope
from .seats import SeatTable
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
) -> Plan:
    chosen = tuple(sorted(set(assignments), key=lambda a: (a.learner_id, a.start, a.module_id, a.firm_id)))
    evaluation = evaluate(problem, chosen)
    shortfalls = explain(problem, chosen, table=table, scopes=scopes)
    deficits = seat_deficits(problem, chosen, table)
    if deficits:
        status = "infeasible"
    elif shortfalls:
        status = "partial"
    else:
        status = "optimal" if proven_optimal else "feasible"
    if bound is not None and bound < evaluation.objective:
        bound = None  # a bound below a plan we hold is not a bound on this scale
    return Plan(
        assignments=chosen,
        sat=dict(evaluation.sat),
        objective=evaluation.objective,
        bound=bound,
        shortfalls=shortfalls,
        solver=solver,
        seconds=perf_counter() - started,
        status=status,
        moved=moved_learners(problem, chosen),
        deficits=deficits,
    )


def plan_key(problem: Problem, assignments: Iterable[Assignment]) -> tuple[int, int, int]:
    """Lexicographic quality: (− unfilled min-seat learner-weeks, assignments, design objective)."""
    chosen = list(assignments)
    short = sum(d.required - d.assigned for d in seat_deficits(problem, chosen))
    return (-short, len(chosen), evaluate(problem, chosen).objective)
