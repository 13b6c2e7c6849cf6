"""Feasibility first: the phase only ever lowers the deficit, and it closes one a constructive leaves open."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from verbund_matcher import planning
from verbund_matcher.domain.problem_builder import build_problem
from verbund_matcher.planning import Problem
from verbund_matcher.planning.construct import construct
from verbund_matcher.planning.feasibility import Budget, reach_feasibility
from verbund_matcher.planning.lns import Incumbent
from verbund_matcher.planning.seats import seat_table

from verbund.plan_cli import fold_networks

from .strategies import small_problems
from .test_tight_family import BENCH_SCENARIOS


def deficit(problem: Problem, assignments: list[planning.Assignment]) -> tuple[int, int]:
    incumbent = Incumbent(problem, seat_table(problem.offers), assignments)
    return incumbent.short, -incumbent.count


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=small_problems())
def test_the_phase_never_leaves_more_seats_short_or_fewer_requirements_placed(problem: Problem) -> None:
    start = construct(problem)
    reached, _stats = reach_feasibility(problem, start, budget=Budget(seconds=0.5, deterministic=True, step=0.1))
    assert deficit(problem, reached) <= deficit(problem, start)
    # Every rule holds but the two a partial plan declares (open requirements, weeks below a minimum).
    plan = planning.Plan(
        assignments=tuple(reached),
        sat={},
        objective=0,
        shortfalls=planning.explain(problem, reached),
        deficits=planning.seat_deficits(problem, reached),
    )
    assert planning.validate(problem, plan) == []


def test_a_tight_network_the_constructive_leaves_short_gets_every_minimum_filled() -> None:
    spec, seed = BENCH_SCENARIOS.TIGHT["tight-80-12-4-24-2"]
    events, _reference = BENCH_SCENARIOS.tight(spec, seed)
    (state,) = fold_networks(list(enumerate(events, 1))).states.values()
    problem = build_problem(state, today=dt.date(2026, 11, 2))
    start = construct(problem)
    before = deficit(problem, start)
    assert before[0] > 0, "the constructive alone leaves seats short here; otherwise this proves nothing"
    reached, stats = reach_feasibility(problem, start, budget=Budget(seconds=20, deterministic=True))
    assert stats.final_deficit[0] == 0
    assert not planning.seat_deficits(problem, reached)


def test_the_whole_network_as_one_constraint_model_completes_a_plan_the_constructive_leaves_broken() -> None:
    spec, seed = BENCH_SCENARIOS.TIGHT["tight-80-12-4-24-3"]
    events, _reference = BENCH_SCENARIOS.tight(spec, seed)
    (state,) = fold_networks(list(enumerate(events, 1))).states.values()
    problem = build_problem(state, today=dt.date(2026, 11, 2))
    start = construct(problem)
    assert deficit(problem, start)[0] > 0, (
        "the constructive alone leaves seats short here; otherwise this proves nothing"
    )
    # All of the budget to the whole-network model: the windows get nothing, so the plan is its work alone.
    reached, stats = reach_feasibility(problem, start, budget=Budget(seconds=60, deterministic=True, whole=1.0))
    assert stats.whole in ("optimal", "feasible")
    assert stats.final_deficit == (0, 0)
    plan = planning.Plan(
        assignments=tuple(reached),
        sat={},
        objective=0,
        shortfalls=planning.explain(problem, reached),
        deficits=planning.seat_deficits(problem, reached),
    )
    assert planning.validate(problem, plan) == []
    assert not plan.deficits and not plan.shortfalls
