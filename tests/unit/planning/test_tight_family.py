"""The benchmark family with demanding weekly minimums is feasible by construction: its hidden reference plan
meets every hard rule of the network the events describe."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from verbund_matcher import planning
from verbund_matcher.domain.problem_builder import build_problem
from verbund_matcher.planning.model import Assignment, Plan

from verbund.plan_cli import fold_networks

BENCH = Path(__file__).resolve().parents[3] / "bench" / "scenarios.py"


def scenarios() -> Any:
    spec = importlib.util.spec_from_file_location("bench_scenarios_family", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


BENCH_SCENARIOS = scenarios()


def test_the_family_has_27_instances_across_the_size_range_listed_by_name() -> None:
    family = BENCH_SCENARIOS.TIGHT
    assert len(family) == 27
    assert {s.learners for s, _ in family.values()} >= {40, 320}
    assert {s.modules for s, _ in family.values()} == {12, 24}
    assert all(name in BENCH_SCENARIOS.SCENARIOS for name in family)


@pytest.mark.parametrize("name", sorted(BENCH_SCENARIOS.TIGHT))
def test_the_reference_plan_meets_every_hard_rule_and_minimums_demand_something(name: str) -> None:
    spec, seed = BENCH_SCENARIOS.TIGHT[name]
    events, reference = BENCH_SCENARIOS.tight(spec, seed)
    (state,) = fold_networks(list(enumerate(events, 1))).states.values()
    problem = build_problem(state, today=dt.date(2026, 11, 2))
    shift = (dt.date.fromisocalendar(2027, 1, 1) - problem.origin).days // 7
    assignments = tuple(Assignment(s, m, f, w + shift) for s, m, f, w in reference)
    evaluation = planning.evaluate(problem, assignments)
    plan = Plan(assignments=assignments, sat=dict(evaluation.sat), objective=evaluation.objective)
    assert planning.validate(problem, plan) == []
    assert not planning.seat_deficits(problem, assignments)
    assert len(assignments) == sum(sum(s.required.values()) for s in problem.learners)
    # Demanding: minimums ask for a sizeable share of the learner-weeks the plan needs, and vary by week.
    minimum_weeks = sum(o.min_seats * (o.last_week - o.first_week + 1) for o in problem.offers)
    planned_weeks = sum(problem.modules[a.module_id].duration for a in assignments)
    assert minimum_weeks > 0.3 * planned_weeks
    assert len({o.min_seats for o in problem.offers}) > 2
