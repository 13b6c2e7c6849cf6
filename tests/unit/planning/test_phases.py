"""A plan says where its solve's time went, phase by phase, in the order the phases ran."""

from __future__ import annotations

import pytest
from verbund_matcher.planning import Problem, solve

from .networks import learner, network

AFTER_THE_SEARCH = ["top_up", "assembly", "explain"]


def small_network() -> Problem:
    return network(
        modules={"A": 1, "B": 1},
        offers=[("F1", "A", 0, 5, 1), ("F1", "B", 0, 5, 1), ("F2", "B", 0, 5, 1, 1)],
        learners=[learner("s1", last=5), learner("s2", last=5)],
    )


@pytest.mark.parametrize(
    ("strategy", "phases"),
    [
        ("construct", ["construct", *AFTER_THE_SEARCH]),
        ("cpsat", ["construct", "feasibility", "search", "choice", *AFTER_THE_SEARCH]),
        ("lns", ["construct", "feasibility", "search", *AFTER_THE_SEARCH]),
    ],
)
def test_every_phase_a_strategy_runs_is_timed_in_the_order_it_ran(strategy: str, phases: list[str]) -> None:
    plan = solve(small_network(), strategy=strategy, time_limit=1.0, workers=1)
    assert list(plan.phases) == phases
    assert all(seconds >= 0 for seconds in plan.phases.values())
    # The phases cover the solve from the constructive's start to the plan, nothing counted twice.
    assert sum(plan.phases.values()) <= plan.seconds
