"""LNS with a budget of work runs its one-worker CP-SAT steps side by side and still plans repeatably."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from verbund_matcher import planning
from verbund_matcher.planning import Problem
from verbund_matcher.planning.construct import construct
from verbund_matcher.planning.lns import Incumbent, _settle, improve
from verbund_matcher.planning.model import Assignment, Weights
from verbund_matcher.planning.seats import seat_table

from .networks import learner, network
from .strategies import random_problem, small_problems


def _roomy() -> Problem:
    """Every requirement fits: a complete plan to improve."""
    weights = Weights(module=3, firm=2, change=0, idle=1)
    return network(
        modules={"A": 2, "B": 3, "C": 2, "D": 1},
        offers=[(f, m, 0, 30, 6) for f in ("F1", "F2", "F3") for m in "ABCD"],
        learners=[
            learner(
                f"s{i:02d}",
                last=30,
                weights=weights,
                firm_pref={("F1", "F2", "F3")[i % 3]: 3},
                module_pref={"ABCD"[i % 4]: 2},
            )
            for i in range(24)
        ],
    )


def test_two_workers_search_two_neighbourhoods_at_once_and_give_the_same_plan_every_time() -> None:
    problem = _roomy()
    start = construct(problem)
    first, stats = improve(problem, start, time_limit=1, workers=2, seed=3, deterministic=True)
    again, _ = improve(problem, start, time_limit=1, workers=2, seed=3, deterministic=True)
    assert stats.side_by_side > 0
    assert first == again
    assert stats.final_key >= stats.start_key


def test_while_a_minimum_is_short_or_a_requirement_open_the_steps_go_one_at_a_time() -> None:
    problem = random_problem(7, learners=24, modules=6, firms=3, weeks=30, tight=0.6)
    start = construct(problem)
    _plan, stats = improve(problem, start, time_limit=0.5, workers=2, seed=3, deterministic=True)
    assert stats.start_key[0] < 0  # weeks below a minimum when it starts
    assert stats.final_key[0] < 0 and stats.tries["cpsat"] > 1
    assert stats.side_by_side == 0


def test_one_worker_searches_one_neighbourhood_at_a_time() -> None:
    problem = random_problem(7, learners=24, modules=6, firms=3, weeks=30, tight=0.6)
    _plan, stats = improve(problem, construct(problem), time_limit=0.5, workers=1, seed=3, deterministic=True)
    assert stats.side_by_side == 0
    assert stats.tries["cpsat"] > 1


def test_a_later_step_whose_new_seat_an_earlier_step_took_keeps_its_old_plan_for_that_learner() -> None:
    # One seat at each firm: s0 and s1 both searched towards F3's while they sat at F1 and F2.
    problem = network(
        modules={"A": 2},
        offers=[("F1", "A", 0, 9, 1), ("F2", "A", 0, 9, 1), ("F3", "A", 0, 9, 1)],
        learners=[learner("s0"), learner("s1")],
    )
    table = seat_table(problem.offers)
    at = {f: {s: Assignment(s, "A", f, 0) for s in ("s0", "s1")} for f in ("F1", "F2", "F3")}
    current = Incumbent(problem, table, [at["F1"]["s0"], at["F2"]["s1"]])
    current.replace({"s0": [at["F3"]["s0"]]})  # the earlier step of the round
    later_new, later_old = {"s1": [at["F3"]["s1"]]}, {"s1": [at["F2"]["s1"]]}
    current.replace(later_new)
    assert _settle(current, table, later_new, later_old) == 1
    assert sorted(current.assignments()) == sorted([at["F3"]["s0"], at["F2"]["s1"]])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=small_problems())
def test_steps_searched_side_by_side_never_take_a_seat_over_its_maximum(problem: Problem) -> None:
    start = construct(problem)
    improved, stats = improve(problem, start, time_limit=0.5, workers=2, seed=0, deterministic=True)
    assert stats.final_key >= stats.start_key
    key = Incumbent(problem, seat_table(problem.offers), improved).key()
    assert key == stats.final_key
    # Every rule holds but the two a partial plan declares (open requirements, weeks below a minimum).
    plan = planning.Plan(
        assignments=tuple(improved),
        sat={},
        objective=0,
        shortfalls=planning.explain(problem, improved),
        deficits=planning.seat_deficits(problem, improved),
    )
    assert planning.validate(problem, plan) == []
