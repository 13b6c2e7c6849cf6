"""Repair after a small change keeps everything still valid and moves only the learners it must."""

from __future__ import annotations

import dataclasses
from typing import Any

from verbund_matcher.planning import Assignment, Plan, Problem, evaluate, repair, validate

from .networks import learner, network

A = Assignment


def repaired(problem: Problem) -> Plan:
    plan = repair(problem)
    assert validate(problem, plan) == []
    assert plan.objective == evaluate(problem, plan.assignments).objective
    return plan


def four_at_f1(f1_seats: int, **kw: Any) -> Problem:
    # s1..s3 like F1 (pref 3), s4 does not mind: when F1 shrinks, s4 is the cheapest to move.
    people = [learner(f"s{i}", first=0, last=3, firm_pref={"F1": 3}) for i in (1, 2, 3)]
    people.append(learner("s4", first=0, last=3))
    published = [A(s.id, "A", "F1", 0) for s in people]
    return network(
        modules={"A": 2},
        offers=[("F1", "A", 0, 3, f1_seats), ("F2", "A", 0, 3, 4)],
        learners=people,
        previous=published,
        **kw,
    )


def test_a_seat_withdrawn_moves_one_learner_the_one_who_loses_least() -> None:
    problem = four_at_f1(3, change_penalty=10)
    plan = repaired(problem)
    assert plan.moved == 1
    (new,) = set(plan.assignments) - set(problem.previous)
    assert new.learner_id == "s4"
    assert plan.shortfalls == ()


def test_nothing_moves_when_nothing_changed() -> None:
    problem = four_at_f1(4)
    plan = repaired(problem)
    assert set(plan.assignments) == set(problem.previous)
    assert plan.moved == 0


def test_a_frozen_assignment_stays_even_when_someone_else_must_move_instead() -> None:
    base = four_at_f1(3, change_penalty=10)
    problem = dataclasses.replace(base, frozen=(A("s4", "A", "F1", 0),))
    plan = repaired(problem)
    assert A("s4", "A", "F1", 0) in plan.assignments
    assert plan.moved == 1
    (mover,) = {a.learner_id for a in set(problem.previous) - set(plan.assignments)}
    assert mover in {"s1", "s2", "s3"}


def test_a_new_learner_is_placed_without_moving_anyone() -> None:
    base = four_at_f1(4)
    problem = dataclasses.replace(base, learners=(*base.learners, learner("s5", first=0, last=3)))
    plan = repaired(problem)
    assert plan.moved == 0
    assert [a.learner_id for a in set(plan.assignments) - set(problem.previous)] == ["s5"]
    assert set(problem.previous) <= set(plan.assignments)


def test_a_withdrawn_learner_frees_a_seat_for_a_learner_who_was_short() -> None:
    people = [learner("s1", first=0, last=1), learner("s2", first=0, last=1)]
    base = network(modules={"A": 2}, offers=[("F1", "A", 0, 1, 1)], learners=people, previous=[A("s1", "A", "F1", 0)])
    assert [s.learner_id for s in repaired(base).shortfalls] == ["s2"]
    problem = dataclasses.replace(base, learners=(people[1],))
    plan = repaired(problem)
    assert plan.assignments == (A("s2", "A", "F1", 0),)
    assert plan.shortfalls == ()


def test_an_offer_withdrawn_entirely_re_places_its_learners_elsewhere_and_keeps_the_rest() -> None:
    people = [learner(f"s{i}", first=0, last=5) for i in range(4)]
    published = [A("s0", "A", "F1", 0), A("s1", "A", "F1", 0), A("s2", "A", "F2", 2), A("s3", "A", "F2", 2)]
    problem = network(
        modules={"A": 2},
        offers=[("F2", "A", 0, 5, 2)],  # F1's offer is gone
        learners=people,
        previous=published,
    )
    plan = repaired(problem)
    assert {A("s2", "A", "F2", 2), A("s3", "A", "F2", 2)} <= set(plan.assignments)
    assert plan.moved == 2
    assert {a.learner_id for a in plan.assignments if a.firm_id == "F2" and a.start != 2} == {"s0", "s1"}
