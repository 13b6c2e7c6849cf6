"""Hand-made networks whose best plan is worked out by hand: each constraint and objective term pinned."""

from __future__ import annotations

import dataclasses

import pytest
from verbund_matcher.planning import Assignment, Plan, Problem, ShortfallReason, Weights, evaluate, solve, validate

from .networks import learner, network

A = Assignment
EXACT = {"strategy": "cpsat", "time_limit": 10.0, "workers": 1}


def planned(problem: Problem, **kw: object) -> Plan:
    plan = solve(problem, **{**EXACT, **kw})  # type: ignore[arg-type]
    assert validate(problem, plan) == []
    assert plan.objective == evaluate(problem, plan.assignments).objective
    return plan


def test_exactly_the_required_number_of_electives_is_chosen_the_preferred_ones() -> None:
    s1 = learner("s1", required={"core": 1, "elective": 2}, module_pref={"C": 3, "D": 1, "E": 2})
    problem = network(
        modules={"A": 1, "C": 1, "D": 1, "E": 1},
        groups={"core": ("A",), "elective": ("C", "D", "E")},
        offers=[("F1", m, 0, 9, 1) for m in "ACDE"],
        learners=[s1],
    )
    plan = planned(problem)
    assert {a.module_id for a in plan.assignments} == {"A", "C", "E"}
    # sat = prefs 3 + 2 (firm prefs and priorities 0, change and idle weights 0); objective = 2 × 5.
    assert plan.objective == 10
    assert plan.status == "optimal"


def test_precedence_puts_the_required_module_before_the_one_that_needs_it() -> None:
    problem = network(
        modules={"A": 2, "B": 2},
        offers=[("F1", "A", 0, 9, 1), ("F1", "B", 0, 9, 1)],
        learners=[learner("s1", last=3, weights=Weights(module=0, firm=0, change=0, idle=-1))],
        precedence=[("A", "B")],  # A requires B
    )
    plan = planned(problem)
    assert set(plan.assignments) == {A("s1", "B", "F1", 0), A("s1", "A", "F1", 2)}


def test_unavailable_weeks_and_excluded_firms_are_avoided() -> None:
    s1 = learner(
        "s1",
        last=5,
        unavailable=frozenset({0, 1}),
        excluded_firms=frozenset({"F2"}),
        firm_pref={"F2": 5},
        weights=Weights(module=0, firm=1, change=0, idle=-1),
    )
    problem = network(modules={"A": 2}, offers=[("F1", "A", 0, 9, 1), ("F2", "A", 0, 9, 1)], learners=[s1])
    plan = planned(problem)
    assert plan.assignments == (A("s1", "A", "F1", 2),)
    # idle: weeks 0 and 1 before the start count (unavailable or not): sat = −2, objective −4.
    assert plan.objective == -4


def test_firm_changes_are_avoided_when_they_cost_more_than_the_preference_gains() -> None:
    def problem(change: int) -> Problem:
        s1 = learner("s1", last=1, firm_pref={"F2": 1}, weights=Weights(module=0, firm=1, change=change, idle=0))
        return network(
            modules={"A": 1, "B": 1},
            offers=[("F1", "A", 0, 1, 1), ("F2", "A", 0, 1, 1), ("F1", "B", 0, 1, 1)],
            learners=[s1],
        )

    # A at F2 gains 1 but then B at F1 is a change costing 5: staying at F1 (sat 0) wins.
    costly = planned(problem(-5))
    assert {a.firm_id for a in costly.assignments} == {"F1"}
    assert costly.objective == 0
    # Without a change cost A goes to F2: sat 1, objective 2.
    free = planned(problem(0))
    assert A("s1", "A", "F2", 0) in free.assignments or A("s1", "A", "F2", 1) in free.assignments
    assert free.objective == 2


def test_fairness_counts_the_worst_off_learner_twice() -> None:
    # One seat at each firm in week 0. Giving s1 its favourite (10 + 0) scores 10 + min 0 = 10;
    # swapping (4 + 4) scores 8 + min 4 = 12, so the fair plan wins.
    s1 = learner("s1", first=0, last=0, firm_pref={"F1": 10, "F2": 4})
    s2 = learner("s2", first=0, last=0, firm_pref={"F1": 4, "F2": 0})
    problem = network(modules={"A": 1}, offers=[("F1", "A", 0, 0, 1), ("F2", "A", 0, 0, 1)], learners=[s1, s2])
    plan = planned(problem)
    assert set(plan.assignments) == {A("s1", "A", "F2", 0), A("s2", "A", "F1", 0)}
    assert plan.objective == 12


def test_the_change_penalty_keeps_the_published_plan_when_moving_gains_less() -> None:
    s1 = learner("s1", first=0, last=0, firm_pref={"F1": 10, "F2": 4})
    s2 = learner("s2", first=0, last=0, firm_pref={"F1": 4, "F2": 0})
    published = (A("s1", "A", "F1", 0), A("s2", "A", "F2", 0))
    base = network(modules={"A": 1}, offers=[("F1", "A", 0, 0, 1), ("F2", "A", 0, 0, 1)], learners=[s1, s2])
    # Swapping gains 12 − 10 = 2 but moves two published assignments: at 3 each that is −6.
    kept = planned(
        dataclasses.replace(base, previous=published, settings=dataclasses.replace(base.settings, change_penalty=3))
    )
    assert set(kept.assignments) == set(published)
    assert kept.objective == 10
    assert kept.moved == 0
    swapped = planned(
        dataclasses.replace(base, previous=published, settings=dataclasses.replace(base.settings, change_penalty=0))
    )
    assert swapped.objective == 12
    assert swapped.moved == 2


def test_max_seats_leave_one_learner_short_with_contention_naming_the_holders() -> None:
    problem = network(
        modules={"A": 1},
        offers=[("F1", "A", 0, 0, 2)],
        learners=[learner(s, first=0, last=0) for s in ("s1", "s2", "s3")],
    )
    plan = planned(problem)
    assert len(plan.assignments) == 2
    (short,) = plan.shortfalls
    holders = {a.learner_id for a in plan.assignments}
    assert short.reason is ShortfallReason.CONTENTION
    assert set(short.competing_learners) == holders
    assert short.suggestions[0].firm_id == "F1"
    assert (short.suggestions[0].first_week, short.suggestions[0].seats) == (0, 1)
    assert plan.status == "partial"


def test_min_seats_pull_learners_to_the_workshop_even_against_their_preference() -> None:
    s = [learner(x, first=0, last=0, firm_pref={"F2": 3}) for x in ("s1", "s2")]
    problem = network(modules={"A": 1}, offers=[("F1", "A", 0, 0, 2, 2), ("F2", "A", 0, 0, 2)], learners=s)
    plan = planned(problem)
    assert {a.firm_id for a in plan.assignments} == {"F1"}
    assert plan.deficits == ()


def test_unreachable_min_seats_give_a_declared_deficit_not_an_exception() -> None:
    problem = network(modules={"A": 1}, offers=[("F1", "A", 0, 1, 3, 2)], learners=[learner("s1", last=1)])
    for strategy in ("construct", "cpsat", "lns"):
        plan = planned(problem, strategy=strategy, time_limit=2.0)
        assert plan.status == "infeasible"
        assert len(plan.assignments) == 1
        # One learner in one of the two weeks: that week lacks 1, the other lacks 2.
        assert sorted(d.required - d.assigned for d in plan.deficits) == [1, 2]


def test_the_per_firm_module_limit_spreads_a_learner_over_firms() -> None:
    problem = network(
        modules={"A": 1, "B": 1},
        offers=[("F1", "A", 0, 9, 1), ("F1", "B", 0, 9, 1), ("F2", "B", 0, 9, 1)],
        learners=[learner("s1", firm_pref={"F1": 2})],
        max_modules_per_firm=1,
    )
    plan = planned(problem)
    assert {(a.module_id, a.firm_id) for a in plan.assignments} == {("A", "F1"), ("B", "F2")}


def test_frozen_assignments_are_kept_and_hold_their_seat() -> None:
    frozen = A("s1", "A", "F2", 0)
    s1 = learner("s1", first=0, last=0, firm_pref={"F1": 5})
    s2 = learner("s2", first=0, last=0, firm_pref={"F2": 5})
    problem = network(
        modules={"A": 1},
        offers=[("F1", "A", 0, 0, 1), ("F2", "A", 0, 0, 1)],
        learners=[s1, s2],
        frozen=[frozen],
        previous=[frozen],
    )
    for strategy in ("construct", "cpsat", "lns"):
        plan = planned(problem, strategy=strategy, time_limit=2.0)
        assert set(plan.assignments) == {frozen, A("s2", "A", "F1", 0)}


@pytest.mark.parametrize("strategy", ["construct", "cpsat", "lns", "auto"])
def test_an_empty_network_gives_an_empty_plan(strategy: str) -> None:
    problem = network(modules={"A": 1}, offers=[], learners=[])
    plan = planned(problem, strategy=strategy, time_limit=1.0)
    assert (plan.assignments, plan.objective, plan.shortfalls) == ((), 0, ())


def test_an_unknown_strategy_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="auto, construct, cpsat, lns"):
        solve(network(modules={"A": 1}, offers=[], learners=[]), strategy="magic")


def test_cpsat_reports_a_bound_on_the_design_objective_when_every_requirement_is_met() -> None:
    problem = network(
        modules={"A": 1, "B": 1},
        offers=[("F1", "A", 0, 3, 1), ("F2", "B", 0, 3, 1)],
        learners=[learner("s1", last=3, firm_pref={"F1": 1})],
    )
    plan = planned(problem)
    assert plan.status == "optimal"
    assert plan.bound == plan.objective == 2


def test_a_frozen_assignment_naming_an_unknown_module_is_refused_with_what_to_fix() -> None:
    base = network(modules={"A": 1}, offers=[("F1", "A", 0, 9, 1)], learners=[learner("s1")])
    broken = dataclasses.replace(base, frozen=(A("s1", "Z", "F1", 0),))
    with pytest.raises(ValueError, match="frozen assignment of learner s1 names module 'Z', not in the problem"):
        solve(broken, strategy="construct")


def test_every_complete_plan_carries_a_per_learner_bound_worked_out_by_hand() -> None:
    # s1's best: A at F1 (pref 2) + B (only at F2, pref 0) = 2; s2's best: A anywhere (0) + B (0) = 0.
    # Bound: Σ 2 + 0, plus the minimum 0 = 2 — whatever the solver, even without CP-SAT's own bound.
    problem = network(
        modules={"A": 1, "B": 1},
        offers=[("F1", "A", 0, 9, 2), ("F2", "A", 0, 9, 2), ("F2", "B", 0, 9, 2)],
        learners=[learner("s1", firm_pref={"F1": 2}), learner("s2")],
    )
    for strategy in ("construct", "lns"):
        plan = planned(problem, strategy=strategy, time_limit=1.0)
        assert plan.status == "feasible"
        assert plan.bound == 2 == plan.objective
