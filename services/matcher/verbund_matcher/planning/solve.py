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
# against 762, nursing a tie); below it CP-SAT can also prove optimality. LNS wins on the 40-learner tight
# networks too (about 5,000 literals, 60 units of work: tight-40-12-3-12-1 1,787 against 1,748, -2 1,881
# against 1,836), so only networks a few times smaller are left to the monolithic model.
MONOLITHIC_OPTIONS = 2_000
# Seconds (or work) per learner kept back from the search for top-up, explanations and the plan itself, at most
# ASSEMBLY_SHARE of the limit. Measured on 10,000 learners (s10000, 2 cores): 15.4 s on a quiet machine (top-up
# 5.7 s, explanations 9.4 s, the rest 0.3 s) and 24.8 s under load (8.6 s and 16.2 s): 4 ms, 40 s there, leaves
# room for a machine a good deal slower than the loaded one.
ASSEMBLY_PER_LEARNER = 0.004
ASSEMBLY_SHARE = 0.3


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
    fixed cost per constructive re-plan, roughly a second each on a 2-core machine; LNS runs its one-worker
    CP-SAT steps `workers` at a time) instead of seconds: the same problem, seed and workers then give the same
    plan whatever the machine is doing, at the price of a wall time that is not bounded exactly.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown planning strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    broken = problem_errors(problem)
    if broken:
        raise ValueError("the planning problem is inconsistent: " + "; ".join(broken))
    started = perf_counter()
    deadline = started + time_limit
    work = 0.0
    phases: dict[str, float] = {}
    clock = started

    def lap(phase: str) -> None:
        nonlocal clock
        now = perf_counter()
        phases[phase] = now - clock
        clock = now

    def left() -> float:
        return time_limit - work if deterministic else deadline - perf_counter()

    table = seat_table(problem.offers)
    initial = construct(problem, table=table)
    lap("construct")
    if strategy == "construct":
        return make_plan(problem, initial, solver="construct", started=started, table=table, phases=phases)
    if strategy == "auto":
        strategy = "cpsat" if model_size(problem, table) <= MONOLITHIC_OPTIONS else "lns"
    # Time to top up, explain and assemble the plan is set aside before any search starts: taken from what is
    # left after the search instead, it shrank to nothing when feasibility used most of the time (10,000
    # learners: 302.6 s for a 300 s limit).
    reserve = min(ASSEMBLY_SHARE * time_limit, ASSEMBLY_PER_LEARNER * len(problem.learners))
    # Feasibility first: a plan that leaves a workshop below its minimum is wrong, not merely worse, so the
    # deficit gets its own search (up to 85 % of the time; it ends as soon as nothing is short) before anything
    # is spent on preferences.
    initial, reached = reach_feasibility(
        problem,
        initial,
        budget=Budget(seconds=max(0.1, (left() - reserve) * 0.85), deterministic=deterministic),
        workers=workers,
        seed=seed,
        table=table,
    )
    work += reached.work
    lap("feasibility")
    budget = max(0.1, left() * 0.95 - reserve)
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
        lap("search")
        best = _better(problem, initial, list(result.assignments)) if result.found else initial
        lap("choice")
        return make_plan(
            problem,
            best,
            solver="cpsat" if result.found else "cpsat-fallback-construct",
            started=started,
            proven_optimal=result.status == "optimal" and set(best) == set(result.assignments),
            bound=result.bound if result.found else None,
            table=table,
            phases=phases,
        )
    from .lns import improve

    improved, searched = improve(
        problem, initial, time_limit=budget, workers=workers, seed=seed, table=table, deterministic=deterministic
    )
    lap("search")
    # LNS keeps a step only when the plan is no worse by the same key, so its result is never worse than its
    # start: no need to score both plans again (two passes over every assignment on big networks).
    best = improved if searched.final_key >= searched.start_key else initial
    return make_plan(problem, best, solver="lns", started=started, table=table, phases=phases)


def _better(problem: Problem, first: Sequence[Assignment], second: Sequence[Assignment]) -> list[Assignment]:
    """The plan with fewer unfilled minimum seats, then more coverage, then the higher objective."""
    return list(second) if plan_key(problem, second) >= plan_key(problem, first) else list(first)
