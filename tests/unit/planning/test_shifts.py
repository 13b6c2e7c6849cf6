"""Single moves into weeks below a minimum: they fill such weeks, never empty another, and keep every rule."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from verbund_matcher import planning
from verbund_matcher.domain.problem_builder import build_problem
from verbund_matcher.planning import Assignment, Problem
from verbund_matcher.planning.construct import construct
from verbund_matcher.planning.explain import seat_deficits
from verbund_matcher.planning.scope import learner_scope
from verbund_matcher.planning.seats import seat_table
from verbund_matcher.planning.shifts import shift_into_deficits

from verbund.plan_cli import fold_networks

from .networks import learner, network
from .strategies import small_problems
from .test_tight_family import BENCH_SCENARIOS


def shifted(problem: Problem, assignments: list[Assignment]) -> list[Assignment]:
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    return shift_into_deficits(problem, assignments, seat_table(problem.offers), scopes)


def short(problem: Problem, assignments: list[Assignment]) -> int:
    return sum(d.required - d.assigned for d in seat_deficits(problem, assignments))


def valid(problem: Problem, assignments: list[Assignment]) -> list[str]:
    """Every broken rule but the two a partial plan declares (open requirements, weeks below a minimum)."""
    plan = planning.Plan(
        assignments=tuple(assignments),
        sat={},
        objective=0,
        shortfalls=planning.explain(problem, assignments),
        deficits=planning.seat_deficits(problem, assignments),
    )
    return planning.validate(problem, plan)


def test_a_learner_at_another_firm_moves_into_the_workshop_below_its_minimum() -> None:
    # Firm x runs module A with at least two learners; one is planned at y, where nobody is required.
    problem = network(
        modules={"A": 2},
        offers=[("x", "A", 0, 1, 2, 2), ("y", "A", 0, 1, 2)],
        learners=[learner("s1", last=5), learner("s2", last=5)],
    )
    plan = [Assignment("s1", "A", "x", 0), Assignment("s2", "A", "y", 0)]
    after = shifted(problem, plan)
    assert short(problem, plan) == 2
    assert sorted(after) == [Assignment("s1", "A", "x", 0), Assignment("s2", "A", "x", 0)]
    assert short(problem, after) == 0
    assert valid(problem, after) == []


def test_nobody_is_moved_out_of_a_week_that_would_then_fall_below_its_own_minimum() -> None:
    # Both firms need their one learner: a move would only shift the deficit, so nothing moves.
    problem = network(
        modules={"A": 2},
        offers=[("x", "A", 0, 1, 2, 2), ("y", "A", 0, 1, 2, 1)],
        learners=[learner("s1", last=5), learner("s2", last=5)],
    )
    plan = [Assignment("s1", "A", "x", 0), Assignment("s2", "A", "y", 0)]
    assert shifted(problem, plan) == plan


def test_a_frozen_assignment_stays_where_it_is() -> None:
    frozen = Assignment("s2", "A", "y", 0)
    problem = network(
        modules={"A": 2},
        offers=[("x", "A", 0, 1, 2, 2), ("y", "A", 0, 1, 2)],
        learners=[learner("s1", last=5), learner("s2", last=5)],
        frozen=[frozen],
    )
    plan = [Assignment("s1", "A", "x", 0), frozen]
    assert shifted(problem, plan) == plan


def test_a_move_keeps_the_learners_order_of_modules_and_their_other_weeks() -> None:
    # s2 could fill x's weeks 2-3 only by starting A while B (which A requires) is still running: not allowed.
    problem = network(
        modules={"A": 2, "B": 2},
        offers=[("x", "A", 2, 3, 2, 2), ("x", "A", 4, 7, 2), ("y", "B", 0, 9, 2)],
        learners=[learner("s1", last=9), learner("s2", last=9)],
        precedence=[("A", "B")],
    )
    plan = [
        Assignment("s1", "B", "y", 0),
        Assignment("s1", "A", "x", 2),
        Assignment("s2", "B", "y", 2),
        Assignment("s2", "A", "x", 4),
    ]
    after = shifted(problem, plan)
    assert Assignment("s2", "A", "x", 4) in after
    assert valid(problem, after) == []


def test_two_moves_fill_a_week_when_one_would_only_shift_the_gap() -> None:
    # x needs one learner; s1 could go, but y (where s1 is) needs one too; s2 may not go to x but can take y.
    problem = network(
        modules={"A": 2},
        offers=[("x", "A", 0, 1, 2, 1), ("y", "A", 0, 1, 2, 1), ("z", "A", 0, 1, 2)],
        learners=[learner("s1", last=5), learner("s2", last=5, excluded_firms=frozenset({"x"}))],
    )
    plan = [Assignment("s1", "A", "y", 0), Assignment("s2", "A", "z", 0)]
    after = shifted(problem, plan)
    assert short(problem, plan) == 2
    assert sorted(after) == [Assignment("s1", "A", "x", 0), Assignment("s2", "A", "y", 0)]
    assert short(problem, after) == 0
    assert valid(problem, after) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=small_problems())
def test_moves_never_add_weeks_below_a_minimum_nor_break_a_rule(problem: Problem) -> None:
    start = construct(problem)
    after = shifted(problem, start)
    assert short(problem, after) <= short(problem, start)
    assert len(after) == len(start)
    assert valid(problem, after) == []


def test_on_a_tight_network_the_moves_close_many_of_the_constructives_short_weeks() -> None:
    spec, seed = BENCH_SCENARIOS.TIGHT["tight-200-12-5-48-3"]
    events, _reference = BENCH_SCENARIOS.tight(spec, seed)
    (state,) = fold_networks(list(enumerate(events, 1))).states.values()
    problem = build_problem(state, today=dt.date(2026, 11, 2))
    start = construct(problem)
    after = shifted(problem, start)
    # 152 learner-weeks short after the constructive; the moves close at least a fifth of them.
    assert short(problem, after) <= short(problem, start) * 4 // 5
    assert valid(problem, after) == []
