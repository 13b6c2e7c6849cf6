"""On random networks and any plan, every shortfall and deficit explain gives is true, checked as option by option."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from verbund_matcher.planning import Assignment, Problem, SeatSuggestion, ShortfallReason, explain, solve
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


@FAST
@given(problem=small_problems(), keep=st.floats(0.3, 1.0), seed=st.integers(0, 2**16))
def test_the_reach_on_ranges_of_starts_is_the_reach_of_every_option_one_by_one(
    problem: Problem, keep: float, seed: int
) -> None:
    # Plans with gaps and over-full weeks as well as complete ones: every stage gets reached somewhere.
    rng = random.Random(seed)
    plan = [a for a in construct(problem) if rng.random() < keep]
    plan += [
        Assignment(s.id, m, o.firm_id, rng.randint(o.first_week - 2, o.last_week))
        for s in problem.learners
        for m in problem.modules
        for o in problem.offers
        if o.module_id == m and rng.random() < 0.02
    ]
    evidence = Evidence(problem, plan)
    firms = sorted({o.firm_id for o in problem.offers})
    for learner in problem.learners:
        for module in problem.modules:
            funnel = evidence.funnel(learner, module)
            assert evidence.reach(learner, module) == funnel.reach, (learner.id, module)
            assert evidence._has_needed_blocker(learner, module) == bool(evidence.needed_blockers(learner, funnel))
            for _ in range(3):
                first = rng.randint(learner.first_week - 2, learner.last_week)
                extra = SeatSuggestion(
                    module,
                    first,
                    first + rng.randint(0, 6),
                    rng.randint(1, 2),
                    rng.choice([None, *firms]),
                )
                expected = evidence.funnel(learner, module, extra=extra).reach
                assert evidence.reach(learner, module, extra=extra) == expected, (learner.id, extra)
