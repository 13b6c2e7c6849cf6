"""Shortfall payloads in a plan's diff: kept from one diff to the next while nothing in them changed, built again
when the learner's name or the shortfall changes, and dropped when a learner is erased."""

from __future__ import annotations

import dataclasses

from verbund_matcher.planning.model import (
    Curriculum,
    Firm,
    Group,
    Learner,
    Module,
    Offer,
    Plan,
    Problem,
    Settings,
    ShortfallReason,
)
from verbund_matcher.planning.repair import repair
from verbund_matcher.service.plan_diff import diff_plan, forget_shortfall_payloads
from verbund_schemas import Contact, LearnerData


def _short_network() -> tuple[Problem, Plan]:
    """Three learners for one seat of a module each needs: two are left short."""
    module = Module("m", "Welding", 8)
    curriculum = Curriculum("c", ("m",), (Group("core", ("m",), default_required=1),))
    learners = tuple(Learner(f"s{i}", f"Learner {i}", "c", 0, 10, {}, frozenset({"m"})) for i in range(3))
    problem = Problem(
        settings=Settings(),
        modules={"m": module},
        curricula={"c": curriculum},
        firms={"f": Firm("f", "Firm")},
        offers=(Offer("o", "f", "m", 0, 10, 1),),
        learners=learners,
        network_id="n1",
    )
    plan = repair(problem)
    assert len(plan.shortfalls) == 2
    return problem, plan


def _learners(problem: Problem, suffix: str = "") -> dict[str, LearnerData]:
    return {
        s.id: LearnerData(
            learner_id=s.id,
            name=f"{s.name}{suffix}",
            contact=Contact(name=s.name, email=f"{s.id}@example.org"),
            curriculum_id=s.curriculum_id,
            first_week="2027-W01",
            last_week="2027-W40",
        )
        for s in problem.learners
    }


def _payloads(problem: Problem, plan: Plan, learners: dict[str, LearnerData]) -> dict[str, dict[str, object]]:
    diff = diff_plan(
        problem,
        plan,
        learners=learners,
        published={},
        stored_shortfalls={},
        stored_deficits={},
        plan_version=2,
    )
    return dict(diff.shortfall_payloads)


def test_an_unchanged_shortfall_keeps_its_payload_and_a_renamed_learner_gets_a_new_one() -> None:
    problem, plan = _short_network()
    learners = _learners(problem)
    first = _payloads(problem, plan, learners)
    again = _payloads(problem, plan, learners)
    assert first == again
    assert all(again[sid] is first[sid] for sid in first)

    renamed = _payloads(problem, plan, _learners(problem, " (renamed)"))
    for sid, payload in renamed.items():
        assert payload is not first[sid]
        assert str(payload["learner_name"]).endswith(" (renamed)")


def test_a_changed_shortfall_gets_a_new_payload() -> None:
    problem, plan = _short_network()
    learners = _learners(problem)
    first = _payloads(problem, plan, learners)
    changed = dataclasses.replace(
        plan,
        shortfalls=tuple(
            dataclasses.replace(s, message=s.message + " Changed.", reason=ShortfallReason(s.reason))
            for s in plan.shortfalls
        ),
    )
    second = _payloads(problem, changed, learners)
    for sid, payload in second.items():
        assert str(payload["message"]).endswith(" Changed.")
        assert payload != first[sid]


def test_an_erasure_drops_every_kept_payload() -> None:
    problem, plan = _short_network()
    learners = _learners(problem)
    first = _payloads(problem, plan, learners)
    forget_shortfall_payloads()
    after = _payloads(problem, plan, learners)
    assert after == first
    assert all(after[sid] is not first[sid] for sid in first)
