"""Property tests: on random small networks every solver's plan passes the independent validator."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from verbund_matcher.planning import Plan, Problem, evaluate, repair, solve, validate
from verbund_matcher.planning.construct import construct

from .strategies import small_problems


@st.composite
def networks_after_a_change(draw: st.DrawFn) -> Problem:
    """A network with a published plan (some of it frozen), then one offer withdrawn or one learner added
    or withdrawn — the kind of event the matcher replans for."""
    problem = draw(small_problems())
    published = tuple(construct(problem))
    frozen_learners = {s.id for s in problem.learners if draw(st.booleans()) and draw(st.booleans())}
    frozen = tuple(a for a in published if a.learner_id in frozen_learners)
    frozen_cells = {(a.firm_id, a.module_id) for a in frozen}
    problem = dataclasses.replace(problem, previous=published, frozen=frozen)
    change = draw(st.sampled_from(["offer withdrawn", "learner withdrawn", "learner added", "nothing"]))
    if change == "offer withdrawn":
        free = [o for o in problem.offers if (o.firm_id, o.module_id) not in frozen_cells]
        if free:
            gone = draw(st.sampled_from(free))
            problem = dataclasses.replace(problem, offers=tuple(o for o in problem.offers if o is not gone))
    elif change == "learner withdrawn" and problem.learners:
        gone_id = draw(st.sampled_from([s.id for s in problem.learners]))
        problem = dataclasses.replace(problem, learners=tuple(s for s in problem.learners if s.id != gone_id))
    elif change == "learner added" and problem.learners:
        twin = dataclasses.replace(problem.learners[0], id="newcomer", name="Newcomer")
        problem = dataclasses.replace(problem, learners=(*problem.learners, twin))
    return problem


def check(problem: Problem, plan: Plan) -> None:
    assert validate(problem, plan) == []
    evaluation = evaluate(problem, plan.assignments)
    assert plan.objective == evaluation.objective
    assert dict(plan.sat) == dict(evaluation.sat)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(problem=networks_after_a_change())
def test_constructive_plans_pass_the_validator(problem: Problem) -> None:
    check(problem, solve(problem, strategy="construct"))


@FAST
@given(problem=networks_after_a_change())
def test_repaired_plans_pass_the_validator(problem: Problem) -> None:
    check(problem, repair(problem))


@pytest.mark.parametrize("strategy", ["cpsat", "lns"])
@SLOW
@given(problem=networks_after_a_change())
def test_cpsat_and_lns_plans_pass_the_validator_and_are_no_worse_than_the_constructive(
    strategy: str, problem: Problem
) -> None:
    plan = solve(problem, strategy=strategy, time_limit=0.6, workers=1, seed=1)
    check(problem, plan)
    baseline = solve(problem, strategy="construct")
    assert _quality(plan) >= _quality(baseline)


@FAST
@given(problem=small_problems())
def test_repair_of_an_unchanged_network_moves_nobody(problem: Problem) -> None:
    published = tuple(construct(problem))
    plan = repair(dataclasses.replace(problem, previous=published))
    assert plan.moved == 0
    assert set(published) <= set(plan.assignments)


def _quality(plan: Plan) -> tuple[int, int, int]:
    return (-sum(d.required - d.assigned for d in plan.deficits), len(plan.assignments), plan.objective)
