"""CP-SAT keeps the constructive's plan as a feasible start, finds a plan itself and counts its terms exactly."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from verbund_matcher.planning import Assignment, Plan, Problem, Weights, evaluate, solve, validate
from verbund_matcher.planning.construct import construct
from verbund_matcher.planning.cpsat import solve_cpsat
from verbund_matcher.planning.model import Learner

from .networks import learner, network

A = Assignment


def _valid(problem: Problem, assignments: tuple[Assignment, ...]) -> bool:
    return validate(problem, Plan(assignments=assignments, sat={}, objective=0)) == []


def _best_complete_objective(problem: Problem, person: Learner) -> int:
    """Brute force over every complete plan of a one-learner network: the best design objective."""
    choices: list[list[Assignment]] = []
    for module_id, module in problem.modules.items():
        options = []
        for offer in problem.offers:
            if offer.module_id == module_id:
                for start in range(offer.first_week, offer.last_week - module.duration + 2):
                    options.append(A(person.id, module_id, offer.firm_id, start))
        choices.append(options)
    best: int | None = None
    for combo in itertools.product(*choices):
        if _valid(problem, combo):
            value = evaluate(problem, combo).objective
            best = value if best is None else max(best, value)
    assert best is not None, "the network must have a complete plan"
    return best


@pytest.mark.parametrize(("change", "idle"), [(-3, -1), (3, -1), (-3, 1), (2, 2)])
def test_firm_changes_and_idle_weeks_are_counted_exactly_for_either_sign_of_the_weight(change: int, idle: int) -> None:
    person = learner(
        "s1",
        last=6,
        unavailable=frozenset({3}),
        firm_pref={"F1": 2, "F3": 1},
        module_pref={"B": 1},
        weights=Weights(module=1, firm=1, change=change, idle=idle),
    )
    problem = network(
        modules={"A": 1, "B": 2, "C": 1},
        precedence=[("C", "A")],
        offers=[
            ("F1", "A", 0, 2, 1),
            ("F2", "A", 1, 5, 1),
            ("F2", "B", 0, 6, 1),
            ("F3", "B", 2, 6, 1),
            ("F1", "C", 4, 6, 1),
            ("F3", "C", 1, 6, 1),
        ],
        learners=[person],
    )
    plan = solve(problem, strategy="cpsat", time_limit=20.0, workers=1)
    assert plan.solver == "cpsat"
    assert plan.status == "optimal"
    assert validate(problem, plan) == []
    assert plan.objective == evaluate(problem, plan.assignments).objective
    assert plan.objective == _best_complete_objective(problem, person)


def _workshop_network(workshop_min: int) -> Problem:
    """Eight learners, three firms, a two-week group course at F3 that runs only with `workshop_min` learners."""
    weights = Weights(module=1, firm=2, change=-2, idle=-1)
    learners = [
        learner(
            f"s{i}",
            first=i % 3,
            last=23,
            firm_pref={"F1": i % 3, "F2": (i + 1) % 3, "F3": (i + 2) % 3},
            module_pref={"D": i % 2, "E": (i + 1) % 2},
            unavailable=frozenset({10 + i % 4}),
            required={"core": 3, "elective": 1},
            weights=weights,
        )
        for i in range(8)
    ]
    return network(
        modules={"A": 3, "B": 2, "C": 4, "D": 3, "E": 3},
        groups={"core": ("A", "B", "C"), "elective": ("D", "E")},
        precedence=[("C", "A")],
        offers=[
            ("F1", "A", 0, 23, 2),
            ("F2", "A", 0, 23, 1),
            ("F3", "B", 6, 7, 8, workshop_min),
            ("F3", "B", 16, 17, 8, workshop_min),
            ("F1", "C", 0, 23, 2),
            ("F2", "C", 0, 23, 2),
            ("F1", "D", 0, 23, 1),
            ("F2", "E", 0, 23, 1),
            ("F3", "E", 0, 23, 1),
        ],
        learners=learners,
        max_modules_per_firm=3,
    )


def test_a_network_with_a_min_seat_group_course_is_planned_by_cpsat_not_the_fallback() -> None:
    problem = _workshop_network(3)
    start = solve(problem, strategy="construct")
    plan = solve(problem, strategy="cpsat", time_limit=5.0, workers=2)
    assert plan.solver == "cpsat"
    assert plan.status in ("optimal", "feasible")
    assert validate(problem, plan) == []
    assert plan.deficits == ()
    assert plan.objective == evaluate(problem, plan.assignments).objective
    assert (len(plan.assignments), plan.objective) >= (len(start.assignments), start.objective)


def test_a_group_course_that_cannot_be_filled_still_gets_a_cpsat_plan_with_declared_deficits() -> None:
    # Eight learners cannot fill a course that needs nine: every week of it stays short, and the model must
    # accept the constructive's plan (which declares those weeks) instead of discarding it.
    problem = _workshop_network(9)
    start = solve(problem, strategy="construct")
    assert start.deficits, "the constructive declares the unfillable weeks"
    plan = solve(problem, strategy="cpsat", time_limit=5.0, workers=2)
    assert plan.solver == "cpsat"
    assert plan.status == "infeasible"
    assert validate(problem, plan) == []
    short = sum(d.required - d.assigned for d in plan.deficits)
    assert short <= sum(d.required - d.assigned for d in start.deficits)
    assert plan.objective == evaluate(problem, plan.assignments).objective


def _exact_network(change: int, idle: int) -> Problem:
    person = learner(
        "s1",
        last=6,
        unavailable=frozenset({3}),
        firm_pref={"F1": 2, "F3": 1},
        weights=Weights(module=1, firm=1, change=change, idle=idle),
    )
    return network(
        modules={"A": 1, "B": 2, "C": 1},
        precedence=[("C", "A")],
        offers=[("F1", "A", 0, 2, 1), ("F2", "A", 1, 5, 1), ("F2", "B", 0, 6, 1), ("F3", "C", 1, 6, 1)],
        learners=[person],
    )


def _with_published_plan(problem: Problem) -> Problem:
    """The same network with its constructive plan published and the two earliest assignments frozen."""
    published = tuple(construct(problem))
    frozen = tuple(sorted(published, key=lambda a: (a.start, a.learner_id))[:2])
    return dataclasses.replace(problem, previous=published, frozen=frozen)


@pytest.mark.parametrize(
    "problem",
    [
        _workshop_network(3),
        _workshop_network(9),
        _with_published_plan(_workshop_network(3)),
        _exact_network(-3, -1),
        _exact_network(3, 1),
    ],
    ids=["min-seats-met", "min-seats-unfillable", "published-and-frozen", "change-costs", "change-earns"],
)
def test_the_constructive_plan_is_a_complete_feasible_hint_of_the_model(problem: Problem) -> None:
    # With every variable fixed to its hinted value CP-SAT can only confirm the hint or reject it: a hint
    # that broke any constraint (a hard minimum, a wrong state or change literal) would come back infeasible.
    hint = construct(problem)
    result = solve_cpsat(problem, hint=hint, fix_to_hint=True, time_limit=10.0, workers=1)
    assert result.found
    assert set(result.assignments) == set(hint) | {a for a in problem.frozen if a not in hint}
