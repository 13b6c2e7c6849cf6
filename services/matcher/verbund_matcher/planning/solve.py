"""Chooses and runs a solver for a problem: exact CP-SAT for small networks, construct + LNS for large."""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter

from .construct import construct
from .feasibility import Budget, reach_feasibility
from .model import Assignment, Plan, Problem
from .outcome import make_plan, plan_key
from .scope import learner_scope
from .seats import SeatTable, seat_table
from .validator import problem_errors

STRATEGIES = ("auto", "construct", "cpsat", "lns")

# Above this many start literals the monolithic model spends most of its budget building and presolving, and
# LNS finds better plans in the same time (10 s, 2 workers: plastics with 24k literals 156 against 124, s40 768
# against 762, nursing a tie); below it CP-SAT can also prove optimality.
MONOLITHIC_OPTIONS = 10_000
# Seconds (or work) per learner kept back from the search for top-up, explanations and the plan itself. On 10,000
# learners these took 25 s of a 30 s reserve on a loaded machine (8.6 s top-up, 16.2 s explanations): 4 ms keeps
# a margin for a busier one.
ASSEMBLY_PER_LEARNER = 0.004


def model_size(problem: Problem, table: SeatTable | None = None) -> int:
    """How many start literals the monolithic CP-SAT model would have (before seat pruning)."""
    table = table if table is not None else seat_table(problem.offers)
    total = 0
    for learner in problem.learners:
        scope = learner_scope(problem, learner)
        for m in scope.modules:
            duration = problem.modules[m].duration
            for f in scope.firms(table, m):
                total += sum(hi - lo + 1 for lo, hi in scope.start_ranges(table, m, f, duration))
        if total > MONOLITHIC_OPTIONS * 4:
            break
    return total


def solve(
    problem: Problem,
    *,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    strategy: str = "auto",
    deterministic: bool = False,
) -> Plan:
    """Plans the whole network: constructive, then feasibility first, then improvement.

    `deterministic` reads `time_limit` as a budget of deterministic work (CP-SAT's deterministic time plus a
    fixed cost per constructive re-plan, roughly a second each on a 2-core machine) instead of seconds: the same
    problem, seed and workers then give the same plan whatever the machine is doing, at the price of a wall
    time that is not bounded exactly.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown planning strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    broken = problem_errors(problem)
    if broken:
        raise ValueError("the planning problem is inconsistent: " + "; ".join(broken))
    started = perf_counter()
    deadline = started + time_limit
    work = 0.0

    def left() -> float:
        return time_limit - work if deterministic else deadline - perf_counter()

    table = seat_table(problem.offers)
    initial = construct(problem, table=table)
    if strategy == "construct":
        return make_plan(problem, initial, solver="construct", started=started, table=table)
    if strategy == "auto":
        strategy = "cpsat" if model_size(problem, table) <= MONOLITHIC_OPTIONS else "lns"
    # Feasibility first: a plan that leaves a workshop below its minimum is wrong, not merely worse, so the
    # deficit gets its own search (up to 85 % of the time; it ends as soon as nothing is short) before anything
    # is spent on preferences.
    initial, reached = reach_feasibility(
        problem,
        initial,
        budget=Budget(seconds=max(0.1, left() * 0.85), deterministic=deterministic),
        workers=workers,
        seed=seed,
        table=table,
    )
    work += reached.work
    # Leave time to top up, explain and assemble the plan: a few milliseconds per learner on big networks.
    budget = max(0.1, left() * 0.95 - min(left() * 0.3, ASSEMBLY_PER_LEARNER * len(problem.learners)))
    if strategy == "cpsat":
        from .cpsat import solve_cpsat  # OR-Tools loads in ~2 s: only when a solve needs it

        result = solve_cpsat(
            problem,
            hint=initial,
            time_limit=budget,
            workers=workers,
            seed=seed,
            table=table,
            deterministic=budget if deterministic else None,
        )
        best = _better(problem, initial, list(result.assignments)) if result.found else initial
        return make_plan(
            problem,
            best,
            solver="cpsat" if result.found else "cpsat-fallback-construct",
            started=started,
            proven_optimal=result.status == "optimal" and set(best) == set(result.assignments),
            bound=result.bound if result.found else None,
        )
    from .lns import improve

    improved, _stats = improve(
        problem, initial, time_limit=budget, workers=workers, seed=seed, table=table, deterministic=deterministic
    )
    return make_plan(problem, _better(problem, initial, improved), solver="lns", started=started)


def _better(problem: Problem, first: Sequence[Assignment], second: Sequence[Assignment]) -> list[Assignment]:
    """The plan with fewer unfilled minimum seats, then more coverage, then the higher objective."""
    return list(second) if plan_key(problem, second) >= plan_key(problem, first) else list(first)
