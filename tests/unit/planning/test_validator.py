"""The judge: evaluate() follows the design's formula to the number, validate() catches every violation."""

from __future__ import annotations

import dataclasses
from typing import Any

from verbund_matcher.planning import (
    Assignment,
    Plan,
    Problem,
    SeatDeficit,
    Shortfall,
    ShortfallReason,
    Weights,
    evaluate,
    validate,
)

from .networks import learner, network

A = Assignment


def scored_network(**settings: Any) -> Problem:
    s1 = learner(
        "s1",
        module_pref={"A": 2, "B": -1},
        firm_pref={"F1": 1, "F2": 0},
        weights=Weights(module=1, firm=2, change=-3, idle=-1),
    )
    return network(
        modules={"A": 2, "B": 3},
        priority={"A": 1},
        offers=[("F1", "A", 0, 9, 1), ("F2", "B", 0, 9, 1)],
        learners=[s1, learner("s2")],
        **settings,
    )


def test_sat_adds_preferences_priority_firm_changes_and_idle_weeks_as_worked_by_hand() -> None:
    problem = scored_network()
    plan = [A("s1", "A", "F1", 1), A("s1", "B", "F2", 5)]
    result = evaluate(problem, plan)
    # A: 1·2 + 2·1 + priority 1 = 5; B: 1·(−1) + 2·0 = −1; one change F1→F2: −3;
    # idle: weeks 0..7 are 8 weeks, 5 covered, 3 idle: −3.  sat = 5 − 1 − 3 − 3 = −2.
    assert result.sat == {"s1": -2, "s2": 0}
    # Σ sat = −2, the worst-off (s1, −2) counts twice: −4.
    assert result.objective == -4
    assert result.min_sat == -2


def test_learner_without_assignments_has_zero_idle_and_zero_changes() -> None:
    problem = scored_network()
    assert evaluate(problem, []).sat == {"s1": 0, "s2": 0}
    assert evaluate(problem, []).objective == 0


def test_every_previous_assignment_not_kept_unchanged_costs_the_change_penalty() -> None:
    moved_away = A("s1", "A", "F1", 0)
    problem = dataclasses.replace(scored_network(change_penalty=10), previous=(moved_away,))
    plan = [A("s1", "A", "F1", 1)]  # same module and firm, other start: a change
    # sat(s1) = 5 − idle 1 (week 0) = 4; Σ 4 + min 0 − 10 = −6
    assert evaluate(problem, plan).objective == -6
    assert evaluate(problem, [moved_away]).objective == 5 + 0 - 0


def plan_of(*assignments: Assignment, shortfalls: tuple[Shortfall, ...] = (), **kw: Any) -> Plan:
    return Plan(assignments=tuple(assignments), sat={}, objective=0, shortfalls=shortfalls, **kw)


def one_module(**kw: Any) -> Problem:
    base: dict[str, Any] = {
        "modules": {"A": 2},
        "offers": [("F1", "A", 0, 9, 1), ("F2", "A", 0, 9, 1)],
        "learners": [learner("s1")],
    }
    base.update(kw)
    return network(**base)


def errors(problem: Problem, *assignments: Assignment, **kw: Any) -> list[str]:
    return validate(problem, plan_of(*assignments, **kw))


def test_a_plan_meeting_every_constraint_is_valid() -> None:
    assert errors(one_module(), A("s1", "A", "F1", 0)) == []


def test_unmet_requirement_needs_a_declared_shortfall() -> None:
    problem = one_module()
    assert any(e.startswith("group count") for e in errors(problem))
    declared = Shortfall("s1", "core", 1, ShortfallReason.CONTENTION, "")
    assert errors(problem, shortfalls=(declared,)) == []


def test_more_modules_than_required_is_invalid() -> None:
    problem = network(
        modules={"A": 1, "B": 1},
        offers=[("F1", "A", 0, 9, 1), ("F1", "B", 0, 9, 1)],
        learners=[learner("s1", required={"core": 1})],
    )
    assert any(e.startswith("group count") for e in errors(problem, A("s1", "A", "F1", 0), A("s1", "B", "F1", 1)))


def test_each_hard_constraint_is_reported_by_name() -> None:
    cases = {
        "allowed modules": (one_module(learners=[learner("s1", allowed=["B"])]), A("s1", "A", "F1", 0)),
        "window": (one_module(learners=[learner("s1", first=2)]), A("s1", "A", "F1", 1)),
        "availability": (one_module(learners=[learner("s1", unavailable=frozenset({1}))]), A("s1", "A", "F1", 0)),
        "eligibility": (
            one_module(learners=[learner("s1", excluded_firms=frozenset({"F1"}))]),
            A("s1", "A", "F1", 0),
        ),
        "max seats": (one_module(offers=[("F1", "A", 0, 0, 1)]), A("s1", "A", "F1", 0)),
    }
    for name, (problem, assignment) in cases.items():
        found = errors(problem, assignment)
        assert any(e.startswith(name) for e in found), (name, found)
    eligibility_pair = one_module(learners=[learner("s1", excluded_firm_modules=frozenset({("F2", "A")}))])
    assert any(e.startswith("eligibility") for e in errors(eligibility_pair, A("s1", "A", "F2", 0)))


def test_overlap_precedence_and_firm_limit_are_reported() -> None:
    problem = network(
        modules={"A": 2, "B": 2, "C": 1},
        offers=[("F1", "A", 0, 9, 1), ("F1", "B", 0, 9, 1), ("F1", "C", 0, 9, 1)],
        learners=[learner("s1")],
        precedence=[("B", "A")],
        max_modules_per_firm=2,
    )
    found = errors(problem, A("s1", "A", "F1", 1), A("s1", "B", "F1", 2), A("s1", "C", "F1", 5))
    assert any(e.startswith("overlap") for e in found)
    assert any(e.startswith("precedence") for e in found)
    assert any(e.startswith("firm limit") for e in found)
    without_prereq = network(
        modules={"A": 2, "B": 2},
        groups={"g": ("A", "B")},
        offers=[("F1", "B", 0, 9, 1)],
        learners=[learner("s1", required={"g": 1})],
        precedence=[("B", "A")],
    )
    assert any(e.startswith("precedence") for e in errors(without_prereq, A("s1", "B", "F1", 0)))


def test_offers_for_the_same_firm_and_module_add_up() -> None:
    problem = network(
        modules={"A": 1},
        offers=[("F1", "A", 0, 5, 1), ("F1", "A", 3, 9, 1)],
        learners=[learner("s1"), learner("s2")],
    )
    assert errors(problem, A("s1", "A", "F1", 3), A("s2", "A", "F1", 3)) == []
    assert any(e.startswith("max seats") for e in errors(problem, A("s1", "A", "F1", 1), A("s2", "A", "F1", 1)))


def test_min_seats_violation_is_accepted_only_when_the_plan_declares_it() -> None:
    problem = one_module(offers=[("F1", "A", 0, 1, 2, 2)])
    found = errors(problem, A("s1", "A", "F1", 0))
    assert [e for e in found if e.startswith("min seats")] == [
        "min seats: firm F1 module A week 0: 1 learners, at least 2 required and no deficit declared",
        "min seats: firm F1 module A week 1: 1 learners, at least 2 required and no deficit declared",
    ]
    declared = (SeatDeficit("F1", "A", 0, 2, 1), SeatDeficit("F1", "A", 1, 2, 1))
    assert errors(problem, A("s1", "A", "F1", 0), deficits=declared) == []


def test_a_frozen_assignment_must_stay_exactly() -> None:
    frozen = A("s1", "A", "F1", 0)
    problem = dataclasses.replace(one_module(), frozen=(frozen,))
    assert any(e.startswith("frozen") for e in errors(problem, A("s1", "A", "F2", 0)))
    assert errors(problem, frozen) == []


def test_unknown_learner_module_or_firm_is_reported() -> None:
    problem = one_module()
    found = errors(problem, A("ghost", "A", "F1", 0), A("s1", "Z", "F1", 0), A("s1", "A", "F9", 0))
    assert sum(e.startswith("unknown") for e in found) == 3
