"""Every unmet requirement gets the reason a coordinator can act on, with ISO weeks and seat suggestions."""

from __future__ import annotations

from verbund_matcher.planning import Assignment, Problem, SeatDeficit, ShortfallReason, explain, solve, validate
from verbund_matcher.planning.explain import seat_deficits

from .networks import learner, network

A = Assignment


def reasons(problem: Problem, assignments: list[Assignment]) -> dict[str, ShortfallReason]:
    return {f"{s.learner_id}/{s.group_id}": s.reason for s in explain(problem, assignments)}


def test_no_offer_in_the_window_names_the_module_and_the_window_in_iso_weeks() -> None:
    problem = network(modules={"A": 2}, offers=[("F1", "A", 20, 30, 1)], learners=[learner("s1", first=9, last=18)])
    (short,) = explain(problem, [])
    assert short.reason is ShortfallReason.NO_OFFER
    assert short.module_id == "A"
    assert "2027-W10 to 2027-W19" in short.message  # origin 2027-01-04 is 2027-W01
    assert short.suggestions[0].first_week == 9 and short.suggestions[0].firm_id is None


def test_offers_only_at_excluded_firms_are_an_eligibility_shortfall() -> None:
    s1 = learner("s1", excluded_firms=frozenset({"F1"}), excluded_firm_modules=frozenset({("F2", "A")}))
    problem = network(modules={"A": 2}, offers=[("F1", "A", 0, 9, 1), ("F2", "A", 0, 9, 1)], learners=[s1])
    (short,) = explain(problem, [])
    assert short.reason is ShortfallReason.ELIGIBILITY
    assert "Firm F1 and Firm F2" in short.message


def test_school_blocks_covering_the_offer_are_an_availability_shortfall() -> None:
    s1 = learner("s1", unavailable=frozenset({3, 5}))
    problem = network(modules={"A": 2}, offers=[("F1", "A", 3, 6, 1)], learners=[s1])
    assert reasons(problem, []) == {"s1/core": ShortfallReason.AVAILABILITY}


def test_a_missing_prerequisite_gives_its_own_reason_and_precedence_for_the_dependent_module() -> None:
    problem = network(
        modules={"A": 1, "B": 1},
        groups={"first": ("A",), "second": ("B",)},
        offers=[("F1", "B", 0, 9, 1)],
        learners=[learner("s1")],
        precedence=[("B", "A")],
    )
    assert reasons(problem, []) == {"s1/first": ShortfallReason.NO_OFFER, "s1/second": ShortfallReason.PRECEDENCE}


def test_the_per_firm_limit_is_named_when_every_offering_firm_is_used_up() -> None:
    problem = network(
        modules={"A": 1, "B": 1},
        offers=[("F1", "A", 0, 9, 1), ("F1", "B", 0, 9, 1)],
        learners=[learner("s1")],
        max_modules_per_firm=1,
    )
    plan = solve(problem, strategy="cpsat", time_limit=5, workers=1)
    assert validate(problem, plan) == []
    assert [s.reason for s in plan.shortfalls] == [ShortfallReason.FIRM_LIMIT]


def test_contention_names_the_learners_holding_the_seats_by_id_and_suggests_one_more_there() -> None:
    problem = network(
        modules={"A": 3},
        offers=[("F2", "A", 4, 6, 1)],
        learners=[learner("s1", first=4, last=6), learner("s2", first=4, last=6)],
    )
    (short,) = explain(problem, [A("s1", "A", "F2", 4)])
    assert short.learner_id == "s2"
    assert short.reason is ShortfallReason.CONTENTION
    assert short.competing_learners == ("s1",)
    assert "held by learner s1;" in short.message and "2027-W05 to 2027-W07" in short.message
    # The competing learner's name stays out: their erasure must leave nothing readable in s2's message.
    assert "S1" not in short.message
    (seat,) = short.suggestions
    assert (seat.firm_id, seat.module_id, seat.first_week, seat.last_week, seat.seats) == ("F2", "A", 4, 6, 1)


def test_time_taken_by_a_workshop_that_needs_the_learner_is_a_min_seats_shortfall() -> None:
    # The window has 2 weeks: the workshop A at F1 needs one learner in both weeks, so B cannot fit.
    problem = network(
        modules={"A": 2, "B": 2},
        groups={"g1": ("A",), "g2": ("B",)},
        offers=[("F1", "A", 0, 1, 1, 1), ("F2", "B", 0, 1, 1)],
        learners=[learner("s1", last=1)],
    )
    plan = solve(problem, strategy="cpsat", time_limit=5, workers=1)
    assert plan.assignments == (A("s1", "A", "F1", 0),)
    assert [(s.group_id, s.reason) for s in plan.shortfalls] == [("g2", ShortfallReason.MIN_SEATS)]


def test_a_fully_planned_network_has_no_shortfalls() -> None:
    problem = network(modules={"A": 1}, offers=[("F1", "A", 0, 9, 1)], learners=[learner("s1")])
    assert explain(problem, [A("s1", "A", "F1", 0)]) == ()


def test_a_suggested_offer_lies_in_weeks_the_learner_still_has_free() -> None:
    # A fills weeks 0-4; an offer of B in weeks 0-1 (the window's first) would clash with it.
    problem = network(
        modules={"A": 5, "B": 2},
        groups={"g1": ("A",), "g2": ("B",)},
        offers=[("F1", "A", 0, 9, 1)],
        learners=[learner("s1")],
    )
    (short,) = explain(problem, [A("s1", "A", "F1", 0)])
    assert short.reason is ShortfallReason.NO_OFFER
    (seat,) = short.suggestions
    assert (seat.first_week, seat.last_week, seat.firm_id) == (5, 6, None)


def test_no_offer_is_suggested_for_a_module_whose_prerequisite_is_not_planned() -> None:
    problem = network(
        modules={"A": 1, "B": 1},
        groups={"first": ("A",), "second": ("B",)},
        offers=[],
        learners=[learner("s1")],
        precedence=[("B", "A")],
    )
    shorts = {s.group_id: s for s in explain(problem, [])}
    assert shorts["first"].suggestions  # an offer of A alone would let the learner in
    assert shorts["second"].reason is ShortfallReason.NO_OFFER and shorts["second"].suggestions == ()


def test_weeks_held_beyond_their_seats_ask_for_enough_seats_to_let_one_more_learner_in() -> None:
    # Two learners keep a module the offer has since shrunk to one seat for: two more seats are needed.
    problem = network(
        modules={"A": 2},
        offers=[("F1", "A", 0, 1, 1)],
        learners=[learner("s1", last=1), learner("s2", last=1), learner("s3", last=1)],
    )
    (short,) = explain(problem, [A("s1", "A", "F1", 0), A("s2", "A", "F1", 0)])
    assert short.reason is ShortfallReason.CONTENTION and short.competing_learners == ("s1", "s2")
    assert short.suggestions[0].seats == 2 and "2 more seats" in short.message


def test_seat_deficits_from_a_stale_seat_count_are_checked_and_counted_afresh() -> None:
    problem = network(modules={"A": 1}, offers=[("F1", "A", 0, 1, 4, 3)], learners=[learner("s1")])
    plan = [A("s1", "A", "F1", 0)]
    stale = {("F1", "A"): {0: 2}}  # says two learners in week 0, where the plan has one
    assert seat_deficits(problem, plan, used=stale) == (
        SeatDeficit("F1", "A", 0, 3, 1),
        SeatDeficit("F1", "A", 1, 3, 0),
    )
