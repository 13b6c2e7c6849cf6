"""Per batch the matcher repairs; a solve follows only when it can meet what the repair left open."""

from __future__ import annotations

from verbund_matcher.domain.network import Change, ChangeKind
from verbund_matcher.planning import (
    Curriculum,
    Group,
    Learner,
    Module,
    Plan,
    Problem,
    Settings,
    Shortfall,
    ShortfallReason,
)
from verbund_matcher.service.replan import PlannerSettings, solve_may_help

SMALL = PlannerSettings(workers=1, solve_max_learners=10)


def network(learners: int) -> Problem:
    people = tuple(Learner(f"s{i}", f"S{i}", "c", 0, 9, {"core": 1}, frozenset({"A"})) for i in range(learners))
    return Problem(
        settings=Settings(),
        modules={"A": Module("A", "A", 2)},
        curricula={"c": Curriculum("c", ("A",), (Group("core", ("A",), 1),))},
        firms={},
        offers=(),
        learners=people,
    )


def repaired(*unmet: tuple[str, ShortfallReason]) -> Plan:
    shortfalls = tuple(Shortfall(sid, "core", 1, reason, "why", "A") for sid, reason in unmet)
    return Plan(assignments=(), sat={}, objective=0, shortfalls=shortfalls, solver="repair", status="partial")


OFFER_ADDED = Change(ChangeKind.OFFER_ADDED, "o1", "Firm One offers 2 seat(s) for A")
LEARNER_ADDED = Change(ChangeKind.LEARNER_ADDED, "s1", "S1 registered")


def test_learners_registered_before_any_offer_need_no_solve() -> None:
    plan = repaired(("s0", ShortfallReason.NO_OFFER), ("s1", ShortfallReason.NO_OFFER))
    assert not solve_may_help(plan, network(2), set(), [LEARNER_ADDED], SMALL)


def test_a_requirement_newly_unmet_for_lack_of_seats_is_worth_a_solve() -> None:
    plan = repaired(("s1", ShortfallReason.CONTENTION))
    assert solve_may_help(plan, network(2), set(), [LEARNER_ADDED], SMALL)
    assert solve_may_help(plan, network(2), {("s0", "core")}, [], SMALL)


def test_a_requirement_the_published_plan_already_left_open_is_not_solved_again_without_new_seats() -> None:
    plan = repaired(("s1", ShortfallReason.CONTENTION))
    assert not solve_may_help(plan, network(2), {("s1", "core")}, [LEARNER_ADDED], SMALL)


def test_new_capacity_makes_an_old_contention_worth_a_solve() -> None:
    plan = repaired(("s1", ShortfallReason.MIN_SEATS))
    assert solve_may_help(plan, network(2), {("s1", "core")}, [OFFER_ADDED], SMALL)


def test_a_network_above_the_size_limit_waits_for_the_periodic_re_optimisation() -> None:
    plan = repaired(("s1", ShortfallReason.CONTENTION))
    assert not solve_may_help(plan, network(11), set(), [OFFER_ADDED], SMALL)
    assert solve_may_help(plan, network(10), set(), [OFFER_ADDED], SMALL)


def test_a_complete_repair_needs_no_solve() -> None:
    assert not solve_may_help(repaired(), network(2), set(), [OFFER_ADDED], SMALL)
