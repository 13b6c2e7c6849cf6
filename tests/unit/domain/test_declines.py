"""A firm's decline is kept apart from the learner's registration: it outlives LearnerUpdated, goes with the
learner, can be taken back by accepting the placement, and reaches the planner as an exclusion."""

from __future__ import annotations

import datetime as dt

from domain_events import NETWORK, Events, answer
from verbund_matcher.domain.network import NetworkState
from verbund_matcher.domain.problem_builder import ProblemMemo, build_problem
from verbund_schemas import LearnerErased


def test_a_decline_survives_a_coordinators_learner_update(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    state.apply(answer("declined"))
    state.apply(ev.learner_updated("l-1", last_week="2027-W44"))
    assert state.declines == {"l-1": frozenset({("firm-a", "basics")})}
    assert state.learners["l-1"].excluded_firm_modules == [], "the registration stays as the coordinator sent it"


def test_a_decline_reaches_the_problem_as_an_exclusion_beside_the_registrations_own(
    state: NetworkState, ev: Events
) -> None:
    state.apply(ev.learner("l-1", excluded_firm_modules=[{"firm_id": "firm-b", "module_id": "cnc"}]))
    memo = ProblemMemo()
    (before,) = build_problem(state, today=dt.date(2027, 1, 1), memo=memo).learners
    state.apply(answer("declined"))
    (after,) = build_problem(state, today=dt.date(2027, 1, 1), memo=memo).learners
    assert before.excluded_firm_modules == frozenset({("firm-b", "cnc")})
    assert after.excluded_firm_modules == frozenset({("firm-b", "cnc"), ("firm-a", "basics")})


def test_withdrawing_or_erasing_a_learner_takes_their_declines_with_them(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    state.apply(ev.learner("l-2"))
    state.apply(answer("declined", "l-1"))
    state.apply(answer("declined", "l-2"))
    state.apply(ev.learner_withdrawn("l-1"))
    state.apply(
        LearnerErased.model_validate(
            {"id": "erase-l-2", "time": "2027-01-04T08:00:00Z", "subject": NETWORK, "data": {"learner_id": "l-2"}}
        )
    )
    assert state.declines == {}
    state.apply(ev.learner("l-1"))
    (learner,) = build_problem(state, today=dt.date(2027, 1, 1)).learners
    assert learner.excluded_firm_modules == frozenset(), "registered again, the learner starts without declines"


def test_accepting_a_declined_placement_takes_the_decline_back(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    state.apply(answer("declined", firm_id="firm-a"))
    state.apply(answer("declined", firm_id="firm-b"))
    assert state.is_declined("l-1", "firm-a", "basics")
    state.apply(answer("accepted", firm_id="firm-a"))
    assert not state.is_declined("l-1", "firm-a", "basics")
    assert state.declines == {"l-1": frozenset({("firm-b", "basics")})}
