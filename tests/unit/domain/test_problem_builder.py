"""build_problem: ISO weeks become week indices, and windows, unavailability, counts and frozen placements
arrive in the planner's Problem as the events stated them."""

from __future__ import annotations

import datetime as dt

from domain_events import Events
from verbund_matcher.domain.network import NetworkState
from verbund_matcher.domain.problem_builder import (
    Placement,
    ProblemMemo,
    build_problem,
    placement_of,
    remember_previous,
    week_end_date,
    week_label,
    week_start_date,
)
from verbund_matcher.planning.model import Assignment, Moves

# 2027-W10 starts on Monday 2027-03-08; the fixture's offer o-1 starts then, before any learner window.
W10 = dt.date(2027, 3, 8)


def test_week_zero_is_the_earliest_week_an_offer_or_learner_names(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1", first_week="2027-W12", last_week="2027-W40"))
    problem = build_problem(state, today=dt.date(2027, 1, 1))
    assert problem.origin == W10
    (learner,) = problem.learners
    assert (learner.first_week, learner.last_week) == (2, 30)
    (offer,) = problem.offers
    assert (offer.first_week, offer.last_week, offer.max_seats) == (0, 20, 2)


def test_week_index_maps_back_to_iso_weeks_and_dates(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    problem = build_problem(state, today=dt.date(2027, 1, 1))
    assert week_label(problem, 0) == "2027-W10"
    assert week_label(problem, 43) == "2028-W01"  # 2027 has 52 ISO weeks
    assert week_start_date(problem, 2) == dt.date(2027, 3, 22)
    assert week_end_date(problem, 2) == dt.date(2027, 3, 28)
    a = Assignment("l-1", "moulding", "firm-a", 5)
    assert placement_of(problem, a) == Placement("l-1", "moulding", "firm-a", "2027-W15")


def test_unavailable_spans_become_weeks_clipped_to_the_window(state: NetworkState, ev: Events) -> None:
    state.apply(
        ev.learner(
            "l-1",
            first_week="2027-W12",
            last_week="2027-W20",
            unavailable=[
                {"first_week": "2027-W08", "last_week": "2027-W13", "label": "Berufsschule"},
                {"first_week": "2027-W16", "last_week": "2027-W16", "label": "Urlaub"},
                {"first_week": "2027-W19", "last_week": "2027-W25"},
            ],
        )
    )
    (learner,) = build_problem(state, today=dt.date(2027, 1, 1)).learners
    assert learner.unavailable == frozenset({2, 3, 6, 9, 10})


def test_required_counts_default_to_the_curriculum_and_follow_the_registration(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    state.apply(ev.learner("l-2", required_counts={"elective": 2}))
    one, two = build_problem(state, today=dt.date(2027, 1, 1)).learners
    assert dict(one.required) == {"core": 2, "elective": 1}
    assert dict(two.required) == {"core": 2, "elective": 2}


def test_allowed_modules_default_to_the_whole_curriculum(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    state.apply(ev.learner("l-2", allowed_modules=["basics", "moulding", "cnc"]))
    one, two = build_problem(state, today=dt.date(2027, 1, 1)).learners
    assert one.allowed_modules == {"basics", "moulding", "extrusion", "cnc"}
    assert two.allowed_modules == {"basics", "moulding", "cnc"}


def test_learner_preferences_exclusions_and_weights_are_carried_over(state: NetworkState, ev: Events) -> None:
    state.apply(
        ev.learner(
            "l-1",
            home_firm_id="firm-b",
            excluded_firms=["firm-b"],
            excluded_firm_modules=[{"firm_id": "firm-a", "module_id": "cnc"}],
            module_preferences={"cnc": 3},
            firm_preferences={"firm-a": 2},
            weights={"module": 2, "firm": 0, "change": -3, "idle": 0},
        )
    )
    (learner,) = build_problem(state, today=dt.date(2027, 1, 1)).learners
    assert learner.home_firm_id == "firm-b"
    assert learner.excluded_firms == {"firm-b"}
    assert learner.excluded_firm_modules == {("firm-a", "cnc")}
    assert dict(learner.module_pref) == {"cnc": 3} and dict(learner.firm_pref) == {"firm-a": 2}
    assert (learner.weights.module, learner.weights.firm, learner.weights.change, learner.weights.idle) == (
        2,
        0,
        -3,
        0,
    )


def test_curriculum_groups_precedence_and_policy_reach_the_problem(state: NetworkState, ev: Events) -> None:
    state.apply(ev.network_configured(notice_period_weeks=2, change_penalty=7, max_modules_per_firm=3))
    state.apply(ev.learner("l-1"))
    problem = build_problem(state, today=dt.date(2027, 3, 24))
    cur = problem.curricula["cur"]
    assert [(g.id, g.module_ids, g.default_required) for g in cur.groups] == [
        ("core", ("basics", "moulding"), 2),
        ("elective", ("extrusion", "cnc"), 1),
    ]
    assert cur.precedence == (("moulding", "basics"),)
    assert problem.modules["moulding"].duration == 3 and problem.modules["basics"].priority == 1
    s = problem.settings
    assert (s.notice_period, s.change_penalty, s.max_modules_per_firm, s.current_week) == (2, 7, 3, 2)


def test_placements_that_started_or_are_within_notice_are_frozen(state: NetworkState, ev: Events) -> None:
    state.apply(ev.network_configured(notice_period_weeks=2))
    state.apply(ev.learner("l-1"))
    previous = [
        Placement("l-1", "basics", "firm-a", "2027-W12"),  # index 2: started
        Placement("l-1", "moulding", "firm-a", "2027-W15"),  # index 5: current 4 + notice 2 > 5
        Placement("l-1", "cnc", "firm-a", "2027-W16"),  # index 6: outside the notice period
    ]
    problem = build_problem(state, today=dt.date(2027, 4, 7), previous=previous)  # 2027-W14, index 4
    assert problem.settings.current_week == 4
    assert problem.previous == (
        Assignment("l-1", "basics", "firm-a", 2),
        Assignment("l-1", "moulding", "firm-a", 5),
        Assignment("l-1", "cnc", "firm-a", 6),
    )
    assert problem.frozen == problem.previous[:2]


def test_nothing_is_frozen_for_withdrawn_learners_departed_firms_or_disallowed_modules(
    state: NetworkState, ev: Events
) -> None:
    for learner in ("l-1", "l-2", "l-3"):
        state.apply(ev.learner(learner))
    state.apply(ev.learner_withdrawn("l-1"))
    state.apply(ev.firm_left("firm-b"))
    state.apply(ev.learner_updated("l-3", allowed_modules=["basics", "moulding", "extrusion"]))
    previous = [
        Placement("l-1", "basics", "firm-a", "2027-W12"),
        Placement("l-2", "basics", "firm-b", "2027-W12"),
        Placement("l-3", "cnc", "firm-a", "2027-W12"),
        Placement("l-3", "basics", "firm-a", "2027-W13"),
        Placement("l-2", "welding", "firm-a", "2027-W12"),  # module unknown to the network: dropped
    ]
    problem = build_problem(state, today=dt.date(2027, 4, 7), previous=previous)
    assert len(problem.previous) == 4
    assert problem.frozen == (Assignment("l-3", "basics", "firm-a", 3),)


def test_previous_placements_before_every_offer_move_week_zero(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    problem = build_problem(state, today=dt.date(2027, 1, 1), previous=[Placement("l-1", "cnc", "firm-a", "2027-W05")])
    assert week_label(problem, 0) == "2027-W05"
    assert problem.previous[0].start == 0
    assert problem.offers[0].first_week == 5


def test_offers_are_ordered_by_id_and_min_seats_kept(state: NetworkState, ev: Events) -> None:
    state.apply(ev.offer("o-0", firm_id="firm-b", module_id="cnc", max_seats=4, min_seats=2))
    state.apply(ev.learner("l-1"))
    problem = build_problem(state, today=dt.date(2027, 1, 1))
    assert [(o.id, o.firm_id, o.module_id, o.min_seats, o.max_seats) for o in problem.offers] == [
        ("o-0", "firm-b", "cnc", 2, 4),
        ("o-1", "firm-a", "moulding", 0, 2),
    ]
    assert problem.network_id == "net-1"
    assert problem.firms["firm-a"].location == "Aachen"


def test_a_remembered_previous_plan_gives_the_problem_the_stored_placements_give(
    state: NetworkState, ev: Events
) -> None:
    state.apply(ev.network_configured(notice_period_weeks=2))
    state.apply(ev.learner("l-1"))
    state.apply(ev.learner("l-2", first_week="2027-W12", last_week="2027-W40"))
    memo = ProblemMemo()
    first = build_problem(state, today=dt.date(2027, 4, 7), memo=memo, previous_version=0)
    plan = (Assignment("l-1", "basics", "firm-a", 2), Assignment("l-2", "basics", "firm-a", 6))
    remember_previous(memo, 1, first, plan)
    stored = [placement_of(first, a) for a in plan]
    state.apply(ev.learner("l-3", first_week="2027-W11", last_week="2027-W40"))  # moves nothing: W10 stays week 0

    remembered = build_problem(state, today=dt.date(2027, 4, 7), previous=stored, memo=memo, previous_version=1)
    fresh = build_problem(state, today=dt.date(2027, 4, 7), previous=stored)
    assert remembered == fresh
    assert set(remembered.previous) == set(plan) and remembered.frozen == fresh.frozen


def test_a_remembered_previous_plan_is_converted_again_when_week_zero_moves(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    memo = ProblemMemo()
    first = build_problem(state, today=dt.date(2027, 1, 1), memo=memo, previous_version=0)
    plan = (Assignment("l-1", "basics", "firm-a", 2),)
    remember_previous(memo, 1, first, plan)
    stored = [placement_of(first, a) for a in plan]
    state.apply(ev.learner("l-early", first_week="2027-W05", last_week="2027-W40"))  # earlier than W10

    remembered = build_problem(state, today=dt.date(2027, 1, 1), previous=stored, memo=memo, previous_version=1)
    assert remembered == build_problem(state, today=dt.date(2027, 1, 1), previous=stored)
    assert remembered.previous == (Assignment("l-1", "basics", "firm-a", 7),)


def test_the_earliest_start_of_a_remembered_plan_follows_what_moved(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    problem = build_problem(state, today=dt.date(2027, 1, 1))
    a2, a5, a7 = (Assignment(f"l-{w}", "basics", "firm-a", w) for w in (2, 5, 7))
    memo = ProblemMemo()
    remember_previous(memo, 1, problem, (a5, a7))
    assert memo.previous_earliest == week_label(problem, 5)

    def after(base: tuple[Assignment, ...], dropped: set[Assignment], added: set[Assignment]) -> str | None:
        plan = tuple(a for a in base if a not in dropped) + tuple(added)
        remember_previous(memo, 2, problem, plan, Moves(base, frozenset(dropped), frozenset(added)))
        return memo.previous_earliest

    assert after(memo.previous, set(), {a2}) == week_label(problem, 2)  # an earlier one added
    assert after(memo.previous, {a2}, set()) == week_label(problem, 5)  # the earliest one dropped
    assert after(memo.previous, {a7}, set()) == week_label(problem, 5)  # a later one dropped
    assert after(memo.previous, {a5}, set()) is None  # nothing left
    # Moves from a plan other than the remembered one are not trusted: the plan is looked through.
    remember_previous(memo, 3, problem, (a7,), Moves((a2, a7), frozenset({a2}), frozenset()))
    assert memo.previous_earliest == week_label(problem, 7)
