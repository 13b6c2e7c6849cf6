"""A free seat the plan leaves unused is never passed off as contention, and top_up fills it within the rules."""

from __future__ import annotations

import random
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from verbund_matcher.planning import Assignment, Problem, Shortfall, ShortfallReason, explain, validate
from verbund_matcher.planning.construct import construct
from verbund_matcher.planning.evidence import false_claims
from verbund_matcher.planning.outcome import make_plan
from verbund_matcher.planning.scope import learner_scope
from verbund_matcher.planning.seats import seat_table
from verbund_matcher.planning.top_up import FIRMS_PER_MODULE, _FirmRanking, top_up

from .networks import learner, network
from .strategies import small_problems

A = Assignment
R = ShortfallReason


def test_contention_claimed_while_a_free_seat_exists_is_caught_and_never_given_when_a_true_reason_exists() -> None:
    # s1 needs A and B. A has a free seat; B's only seat is held by s2 for the whole window.
    problem = network(
        modules={"A": 1, "B": 10},
        offers=[("F1", "A", 0, 9, 2), ("F2", "B", 0, 9, 1)],
        learners=[learner("s1"), learner("s2", allowed=["B"], required={"core": 1})],
    )
    plan = [A("s2", "B", "F2", 0)]
    # What explain used to say: the seat for A is free, reason contention.
    old = Shortfall("s1", "core", 2, R.CONTENTION, "A seat for Module A is free at Firm F1 in 2027-W01.", "A")
    assert any("free seat" in line for line in false_claims(problem, plan, old))
    (sf,) = [s for s in explain(problem, plan) if s.learner_id == "s1"]
    assert false_claims(problem, plan, sf) == []
    assert (sf.reason, sf.module_id, sf.competing_learners) == (R.CONTENTION, "B", ("s2",))


def test_a_requirement_left_next_to_a_free_seat_is_reported_as_the_plans_fault_until_top_up_places_it() -> None:
    problem = network(modules={"A": 2}, offers=[("F1", "A", 0, 9, 2)], learners=[learner("s1"), learner("s2")])
    plan = [A("s1", "A", "F1", 0)]
    (sf,) = explain(problem, plan)
    assert "is free" in sf.message and not sf.competing_learners
    assert any("free seat" in line for line in false_claims(problem, plan, sf))
    topped = top_up(problem, plan)
    assert topped == [*plan, A("s2", "A", "F1", 0)]
    assert explain(problem, topped) == ()


def test_top_up_places_a_prerequisite_before_its_dependent_and_respects_exact_group_counts() -> None:
    problem = network(
        modules={"A": 2, "B": 2, "C": 1, "D": 1},
        groups={"core": ("A", "B"), "elective": ("C", "D")},
        offers=[("F1", "A", 3, 9, 1), ("F1", "B", 0, 9, 1), ("F2", "C", 0, 9, 1), ("F2", "D", 0, 9, 1)],
        learners=[learner("s1", required={"core": 2, "elective": 1})],
        precedence=[("B", "A")],
    )
    topped = top_up(problem, [])
    by_module = {a.module_id: a for a in topped}
    assert set(by_module) in ({"A", "B", "C"}, {"A", "B", "D"})
    assert by_module["A"].start + 2 <= by_module["B"].start
    assert validate(problem, make_plan(problem, topped, solver="top_up", started=time.perf_counter())) == []


def test_top_up_keeps_the_per_firm_limit_and_prefers_a_week_below_its_minimum() -> None:
    problem = network(
        modules={"A": 1, "B": 1},
        offers=[("F1", "A", 0, 9, 2), ("F1", "B", 0, 9, 2), ("F2", "B", 5, 5, 2, 1), ("F3", "B", 0, 9, 2)],
        learners=[learner("s1")],
        max_modules_per_firm=1,
    )
    topped = top_up(problem, [A("s1", "A", "F1", 0)])
    # F1 is used up; of F2 and F3, F2's week 5 has nobody while its minimum is one.
    assert topped[1:] == [A("s1", "B", "F2", 5)]


def test_top_up_never_places_a_module_the_plan_cannot_hold() -> None:
    # The only seat is taken, the other firm excluded, the rest of the window unavailable: nothing to add.
    problem = network(
        modules={"A": 2},
        offers=[("F1", "A", 0, 1, 1), ("F2", "A", 0, 9, 3), ("F1", "A", 4, 9, 1)],
        learners=[learner("s1"), learner("s2", excluded_firms=frozenset({"F2"}), unavailable=frozenset(range(4, 10)))],
    )
    plan = [A("s1", "A", "F1", 0)]
    assert top_up(problem, plan) == plan


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=small_problems())
def test_top_up_adds_only_within_the_rules_and_never_lowers_a_seat_count(problem: Problem) -> None:
    rng = random.Random(len(problem.learners) * 31 + len(problem.offers))
    plan = [a for a in construct(problem) if rng.random() > 0.3]
    before = make_plan(problem, plan, solver="construct", started=time.perf_counter())
    topped = top_up(problem, plan)
    assert topped[: len(plan)] == plan
    after = make_plan(problem, topped, solver="top_up", started=time.perf_counter())
    # No rule breaks that the plan did not already break (weeks below a minimum are declared as deficits).
    assert set(validate(problem, after)) <= set(validate(problem, before))
    short_before = {(d.firm_id, d.module_id, d.week): d.assigned for d in before.deficits}
    for d in after.deficits:
        assert (d.firm_id, d.module_id, d.week) in short_before
        assert d.assigned >= short_before[(d.firm_id, d.module_id, d.week)]
    # What is still unmet has a true reason: no free seat is left for it.
    for sf in after.shortfalls:
        assert false_claims(problem, topped, sf) == [], sf


def test_a_module_that_only_fits_after_the_module_requiring_it_is_re_diagnosed_as_precedence() -> None:
    # B (which requires A) is planned in week 0, so A has no start that ends before it: no seat is free for A.
    problem = network(
        modules={"A": 1, "B": 1},
        groups={"first": ("A",), "second": ("B",)},
        offers=[("F1", "A", 0, 9, 1), ("F1", "B", 0, 9, 1)],
        learners=[learner("s1")],
        precedence=[("B", "A")],
    )
    plan = [A("s1", "B", "F1", 0)]
    (sf,) = explain(problem, plan)
    assert (sf.group_id, sf.reason) == ("first", R.PRECEDENCE)
    assert false_claims(problem, plan, sf) == []
    assert top_up(problem, plan) == plan


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**16), firms=st.integers(1, 60))
def test_the_firms_tried_for_a_gap_are_the_first_ones_ranked_by_minimum_preference_and_id(
    seed: int, firms: int
) -> None:
    rng = random.Random(seed)
    ids = [f"F{i:02}" for i in range(firms)]
    offers = [(f, "A", 0, 9, 1, 1 if rng.random() < 0.3 else 0) for f in ids]
    s1 = learner(
        "s1",
        firm_pref={f: rng.choice([-2, -1, 1, 3]) for f in rng.sample(ids, rng.randint(0, min(firms, 20)))},
        excluded_firms=frozenset(rng.sample(ids, rng.randint(0, min(firms, 5)))),
        excluded_firm_modules=frozenset((f, "A") for f in rng.sample(ids, rng.randint(0, min(firms, 5)))),
    )
    problem = network(modules={"A": 2}, offers=offers, learners=[s1])
    table = seat_table(problem.offers)
    scope = learner_scope(problem, s1)
    eligible = [f for f in ids if scope.eligible(f, "A")]
    ranked = sorted(eligible, key=lambda f: ((f, "A") not in table.min_seats, -s1.firm_pref.get(f, 0), f))
    assert set(_FirmRanking(table).to_try(scope, "A")) == set(ranked[:FIRMS_PER_MODULE])
