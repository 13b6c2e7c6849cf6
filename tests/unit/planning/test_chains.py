"""Chains of hand-overs: an open requirement takes somebody's place who moves on; a short week is filled by a
learner whose place is taken over. No week falls below its minimum and every rule holds."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from verbund_matcher.planning import Assignment, Problem
from verbund_matcher.planning.chains import hand_on
from verbund_matcher.planning.construct import construct
from verbund_matcher.planning.scope import learner_scope
from verbund_matcher.planning.seats import seat_table

from .networks import learner, network
from .strategies import small_problems
from .test_shifts import short, valid


def handed(problem: Problem, assignments: list[Assignment]) -> list[Assignment]:
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    return hand_on(problem, assignments, seat_table(problem.offers), scopes)


def test_an_open_requirement_takes_a_place_whose_learner_moves_on_to_a_free_seat() -> None:
    # x has one seat in weeks 0-1, held by s1; s2 may not go to y, where s1 could go in weeks 2-3.
    problem = network(
        modules={"A": 2},
        offers=[("x", "A", 0, 1, 1), ("y", "A", 2, 3, 1)],
        learners=[learner("s1", last=5), learner("s2", last=5, excluded_firms=frozenset({"y"}))],
    )
    plan = [Assignment("s1", "A", "x", 0)]
    after = handed(problem, plan)
    assert sorted(after) == [Assignment("s1", "A", "y", 2), Assignment("s2", "A", "x", 0)]
    assert valid(problem, after) == []


def test_a_chain_of_two_hand_overs_places_an_open_requirement() -> None:
    # s3 can only be at x (weeks 0-1), s1 holds it and can only go to y (weeks 2-3), held by s2, who can go to z.
    problem = network(
        modules={"A": 2},
        offers=[("x", "A", 0, 1, 1), ("y", "A", 2, 3, 1), ("z", "A", 4, 5, 1)],
        learners=[
            learner("s1", last=5, excluded_firms=frozenset({"z"})),
            learner("s2", last=5),
            learner("s3", last=5, excluded_firms=frozenset({"y", "z"})),
        ],
    )
    plan = [Assignment("s1", "A", "x", 0), Assignment("s2", "A", "y", 2)]
    after = handed(problem, plan)
    assert sorted(after) == [
        Assignment("s1", "A", "y", 2),
        Assignment("s2", "A", "z", 4),
        Assignment("s3", "A", "x", 0),
    ]
    assert valid(problem, after) == []


def test_a_short_week_is_filled_by_a_learner_whose_place_an_open_requirement_takes_over() -> None:
    # x needs one learner and has none; s1 could go, but y (where s1 is) needs its one learner: s2, who has A
    # still open and may not go to x, takes s1's place at y.
    problem = network(
        modules={"A": 2},
        offers=[("x", "A", 0, 1, 2, 1), ("y", "A", 0, 1, 1, 1)],
        learners=[learner("s1", last=5), learner("s2", last=5, excluded_firms=frozenset({"x"}))],
    )
    plan = [Assignment("s1", "A", "y", 0)]
    assert short(problem, plan) == 2
    after = handed(problem, plan)
    assert sorted(after) == [Assignment("s1", "A", "x", 0), Assignment("s2", "A", "y", 0)]
    assert short(problem, after) == 0
    assert valid(problem, after) == []


def test_nothing_moves_where_no_chain_ends_at_a_free_seat() -> None:
    # One seat, one learner in it who can go nowhere else: the open requirement stays open.
    problem = network(
        modules={"A": 2},
        offers=[("x", "A", 0, 1, 1)],
        learners=[learner("s1", last=5), learner("s2", last=5)],
    )
    plan = [Assignment("s1", "A", "x", 0)]
    assert handed(problem, plan) == plan


def test_a_frozen_assignment_is_never_handed_on() -> None:
    frozen = Assignment("s1", "A", "x", 0)
    problem = network(
        modules={"A": 2},
        offers=[("x", "A", 0, 1, 1), ("y", "A", 2, 3, 1)],
        learners=[learner("s1", last=5), learner("s2", last=5, excluded_firms=frozenset({"y"}))],
        frozen=[frozen],
    )
    assert handed(problem, [frozen]) == [frozen]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=small_problems())
def test_hand_overs_never_add_weeks_below_a_minimum_nor_drop_a_placement_nor_break_a_rule(problem: Problem) -> None:
    start = construct(problem)
    after = handed(problem, start)
    assert short(problem, after) <= short(problem, start)
    assert len(after) >= len(start)
    assert valid(problem, after) == []
