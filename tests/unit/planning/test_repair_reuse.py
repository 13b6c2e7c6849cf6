"""Repair given the last problem and plan re-uses their explanations and sat(s), and answers exactly as without."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from verbund_matcher.planning import Assignment, Learner, Offer, Plan, Problem, explain, repair, solve, validate
from verbund_matcher.planning.seats import occupancy

from .networks import learner, network
from .strategies import small_problems

A = Assignment


CHANGES = ("offer withdrawn", "offer added", "learner withdrawn", "learners added", "renamed", "nothing")


@st.composite
def a_plan_then_a_change(draw: st.DrawFn, changes: tuple[str, ...] = CHANGES) -> tuple[Problem, Plan, Problem]:
    """A solved network, then the next problem: its plan published, and one change of the kinds the matcher sees."""
    before = draw(small_problems())
    plan = solve(before, strategy="construct")
    after = dataclasses.replace(before, previous=plan.assignments)
    change = draw(st.sampled_from(changes))
    if change == "offer withdrawn" and after.offers:
        gone = draw(st.sampled_from(after.offers))
        after = dataclasses.replace(after, offers=tuple(o for o in after.offers if o is not gone))
    elif change == "offer added" and after.offers:
        like = draw(st.sampled_from(after.offers))
        extra = dataclasses.replace(like, id="extra", max_seats=1)
        after = dataclasses.replace(after, offers=(*after.offers, extra))
    elif change == "learner withdrawn" and after.learners:
        gone_id = draw(st.sampled_from([s.id for s in after.learners]))
        after = dataclasses.replace(after, learners=tuple(s for s in after.learners if s.id != gone_id))
    elif change == "learners added" and after.learners:
        # Newcomers like existing learners, so they compete for the same seats (the matcher's usual batch).
        twins = [
            dataclasses.replace(draw(st.sampled_from(after.learners)), id=f"newcomer{i}", name=f"Newcomer {i}")
            for i in range(draw(st.integers(1, 3)))
        ]
        after = dataclasses.replace(after, learners=(*after.learners, *twins))
    elif change == "renamed" and after.learners:
        index = draw(st.integers(0, len(after.learners) - 1))
        people = list(after.learners)
        people[index] = dataclasses.replace(people[index], name="Renamed")
        after = dataclasses.replace(after, learners=tuple(people))
    return before, plan, after


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=a_plan_then_a_change())
def test_repair_with_the_last_plan_answers_exactly_as_repair_without_it(case: tuple[Problem, Plan, Problem]) -> None:
    _same_answer_with_and_without_last(case)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=a_plan_then_a_change(changes=("learners added",)))
def test_newcomers_alone_are_placed_as_a_full_repair_would_place_them(case: tuple[Problem, Plan, Problem]) -> None:
    # Only learners added: repair takes its shortcut (nothing earlier is re-checked); the answer must not differ.
    _same_answer_with_and_without_last(case)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=a_plan_then_a_change(changes=("learners added",)), data=st.data())
def test_newcomers_batch_after_batch_are_placed_as_a_full_repair_would_place_them(
    case: tuple[Problem, Plan, Problem], data: st.DataObject
) -> None:
    # The matcher's steady state: each batch's plan is the next batch's `last`, carrying its seat counts.
    before, plan, after = case
    last = (before, plan)
    for batch in range(3):
        current = repair(after, last=last)
        _same_answer_with_and_without_last((last[0], last[1], after))
        twins = [
            dataclasses.replace(data.draw(st.sampled_from(after.learners)), id=f"later{batch}-{i}", name=f"Later {i}")
            for i in range(data.draw(st.integers(1, 3)))
        ]
        last = (after, current)
        after = dataclasses.replace(after, previous=current.assignments, learners=(*after.learners, *twins))
    _same_answer_with_and_without_last((last[0], last[1], after))


def _same_answer_with_and_without_last(case: tuple[Problem, Plan, Problem]) -> None:
    before, plan, after = case
    fresh = repair(after)
    reused = repair(after, last=(before, plan))
    assert reused.assignments == fresh.assignments
    assert reused.shortfalls == fresh.shortfalls == explain(after, reused.assignments)
    assert dict(reused.sat) == dict(fresh.sat)
    assert reused.deficits == fresh.deficits
    assert (reused.objective, reused.bound, reused.status, reused.moved) == (
        fresh.objective,
        fresh.bound,
        fresh.status,
        fresh.moved,
    )
    assert validate(after, reused) == []
    assert dict(reused.learner_bounds) == dict(fresh.learner_bounds)
    if reused.seats_used:  # the counts a later repair starts from are exactly the plan's
        counted = {cell: {w: n for w, n in weeks.items() if n} for cell, weeks in reused.seats_used.items()}
        assert {cell: weeks for cell, weeks in counted.items() if weeks} == occupancy(reused.assignments, after.modules)


def _two_learners_one_seat() -> tuple[Problem, Plan]:
    problem = network(modules={"A": 2}, offers=[("F1", "A", 0, 1, 1)], learners=[learner("s1"), learner("s2")])
    plan = repair(dataclasses.replace(problem, previous=(A("s1", "A", "F1", 0),)))
    return problem, plan


def test_a_reused_explanation_names_a_competing_learner_by_id_before_and_after_a_rename() -> None:
    before, plan = _two_learners_one_seat()
    (short,) = plan.shortfalls
    assert short.competing_learners == ("s1",) and "held by learner s1;" in short.message
    renamed = (dataclasses.replace(before.learners[0], name="Sam One"), before.learners[1])
    after = dataclasses.replace(before, learners=renamed, previous=plan.assignments)
    (again,) = repair(after, last=(before, plan)).shortfalls
    assert again.message == short.message and "Sam One" not in again.message


def test_a_reused_explanation_changes_when_a_seat_is_added_for_the_missing_module() -> None:
    before, plan = _two_learners_one_seat()
    more = Offer("o-more", "F2", "A", 4, 5, 1)
    after = dataclasses.replace(before, offers=(*before.offers, more), previous=plan.assignments)
    repaired = repair(after, last=(before, plan))
    assert repaired.shortfalls == ()
    assert A("s2", "A", "F2", 4) in repaired.assignments


def _newcomer_joins(problem: Problem, newcomer: Learner) -> tuple[Plan, Plan, Problem]:
    """The plan of `problem`, then the repair after `newcomer` registered (the newcomers-only shortcut)."""
    plan = repair(problem)
    after = dataclasses.replace(problem, previous=plan.assignments, learners=(*problem.learners, newcomer))
    return plan, repair(after, last=(problem, plan)), after


def test_a_newcomer_filling_a_week_changes_the_explanation_of_a_learner_waiting_for_that_module() -> None:
    # One seat of A (two weeks) at F1: s1 holds weeks 0-1; s2 could start in week 0 or 1, and week 1 alone
    # blocks the later start. The newcomer fills week 2: now both starts have two full weeks, and the first is named.
    problem = network(
        modules={"A": 2}, offers=[("F1", "A", 0, 5, 1)], learners=[learner("s1", last=1), learner("s2", last=2)]
    )
    plan, repaired, after = _newcomer_joins(problem, learner("n", first=2, last=3))
    (waiting,) = plan.shortfalls
    assert waiting.learner_id == "s2" and "in 2027-W02 to 2027-W03 are held by learner s1" in waiting.message
    assert A("n", "A", "F1", 2) in repaired.assignments
    assert repaired.shortfalls == explain(after, repaired.assignments)
    assert "in 2027-W01 to 2027-W02 are held by learner s1" in repaired.shortfalls[0].message


def test_a_newcomer_lifting_a_group_above_its_minimum_changes_the_explanation_of_a_learner_it_needed() -> None:
    # B at F1 runs with at least two learners: s1 and s2 are its group and have no time left for A, which their
    # minimum group is said to take. A third learner in B lifts the group above its minimum: that reason goes.
    problem = network(
        modules={"A": 2, "B": 2},
        offers=[("F1", "B", 0, 1, 4, 2), ("F1", "A", 0, 1, 1)],
        learners=[learner("s1", last=1), learner("s2", last=1)],
    )
    plan, repaired, after = _newcomer_joins(problem, learner("n", last=1, allowed=("B",)))
    assert {a.module_id for a in plan.assignments if a.learner_id in ("s1", "s2")} == {"B"}
    assert all(sf.reason == "min_seats" for sf in plan.shortfalls)
    assert A("n", "B", "F1", 0) in repaired.assignments
    assert repaired.shortfalls == explain(after, repaired.assignments)
    assert [sf.reason for sf in repaired.shortfalls if sf.learner_id == "s1"] != ["min_seats"]
