"""On random networks and any solver's plan, every shortfall and seat deficit explain gives is true."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from verbund_matcher.planning import Assignment, Problem, ShortfallReason, explain, solve
from verbund_matcher.planning.construct import construct
from verbund_matcher.planning.evidence import FREE, REACH, Evidence
from verbund_matcher.planning.explain import seat_deficits
from verbund_matcher.planning.top_up import top_up

from .strategies import small_problems

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_all_true(problem: Problem, plan: Sequence[Assignment]) -> None:
    evidence = Evidence(problem, plan)
    for sf in explain(problem, plan):
        assert evidence.shortfall(sf) == [], sf
    for d in seat_deficits(problem, plan):
        assert evidence.deficit(d) == [], d


@FAST
@given(problem=small_problems())
def test_every_shortfall_of_a_topped_up_constructive_plan_is_true(problem: Problem) -> None:
    assert_all_true(problem, top_up(problem, construct(problem)))


@pytest.mark.parametrize("strategy", ["cpsat", "lns"])
@SLOW
@given(problem=small_problems())
def test_every_shortfall_of_a_topped_up_cpsat_or_lns_plan_is_true(strategy: str, problem: Problem) -> None:
    plan = solve(problem, strategy=strategy, time_limit=0.5, workers=1, seed=1)
    assert_all_true(problem, top_up(problem, plan.assignments))


@FAST
@given(problem=small_problems())
def test_on_a_plan_with_gaps_only_a_free_seat_is_ever_unproven_and_top_up_fills_it(problem: Problem) -> None:
    # Drop a third of a constructive plan: what remains leaves seats free that nothing explains away.
    rng = random.Random(len(problem.learners) * 7919 + len(problem.offers))
    plan = [a for a in construct(problem) if rng.random() > 0.3]
    evidence = Evidence(problem, plan)
    learners = {s.id: s for s in problem.learners}
    for sf in explain(problem, plan):
        false = evidence.shortfall(sf)
        if false:
            assert sf.reason is ShortfallReason.CONTENTION and sf.module_id is not None
            assert evidence.funnel(learners[sf.learner_id], sf.module_id).reach == FREE, false
            assert "is free" in sf.message
    topped = top_up(problem, plan)
    assert set(plan) <= set(topped)
    assert_all_true(problem, topped)


@FAST
@given(problem=small_problems())
def test_any_other_reason_in_place_of_the_one_explain_gives_is_caught(problem: Problem) -> None:
    plan = top_up(problem, construct(problem))
    evidence = Evidence(problem, plan)
    learners = {s.id: s for s in problem.learners}
    for sf in explain(problem, plan):
        truth = evidence.funnel(learners[sf.learner_id], sf.module_id).reach if sf.module_id else None
        for other in ShortfallReason:
            if other is sf.reason or (truth is not None and truth in REACH[other]):
                continue
            assert evidence.shortfall(dataclasses.replace(sf, reason=other)), (sf, other)
