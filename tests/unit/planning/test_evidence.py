"""Each shortfall reason, generated where it arises: explain gives it, the check confirms it, and a false claim
in its place is caught."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from verbund_matcher.planning import Assignment, Problem, SeatDeficit, Shortfall, ShortfallReason, explain
from verbund_matcher.planning.construct import construct
from verbund_matcher.planning.evidence import REACH, Evidence, false_claims, false_deficit_claims
from verbund_matcher.planning.explain import seat_deficits

from .networks import learner, network
from .strategies import small_problems

A = Assignment
R = ShortfallReason
FAMILY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Case = tuple[Problem, list[Assignment]]


def explained(problem: Problem, plan: Sequence[Assignment], learner_id: str, group: str) -> Shortfall:
    """The learner's shortfall for the group, after asserting every shortfall explain gives is true."""
    shortfalls = explain(problem, plan)
    for sf in shortfalls:
        assert false_claims(problem, plan, sf) == [], sf
    (sf,) = [s for s in shortfalls if s.learner_id == learner_id and s.group_id == group]
    return sf


def refuted_as(problem: Problem, plan: Sequence[Assignment], sf: Shortfall) -> None:
    """Every other reason in its place, unless it stands for the same facts, is caught as false."""
    (who,) = [s for s in problem.learners if s.id == sf.learner_id]
    truth = Evidence(problem, plan).funnel(who, sf.module_id).reach if sf.module_id else None
    for other in R:
        if other is sf.reason or (truth is not None and truth in REACH[other]):
            continue
        assert false_claims(problem, plan, dataclasses.replace(sf, reason=other, suggestions=())), other


# ---- no offer ---------------------------------------------------------------------------------------------


@st.composite
def no_offer_cases(draw: st.DrawFn) -> Case:
    """Offers of A that miss the window or overlap it by fewer weeks than A lasts."""
    duration = draw(st.integers(1, 3))
    first = draw(st.integers(0, 4))
    last = first + draw(st.integers(duration - 1, 7))
    overlap = draw(st.integers(0, duration - 1))
    late = (last - overlap + 1, last - overlap + 1 + draw(st.integers(duration - 1, 6)))
    offers = [("F1", "A", *late, 1)]
    if first + overlap - 1 - (duration - 1) >= 0 and draw(st.booleans()):
        offers.append(("F2", "A", first + overlap - duration, first + overlap - 1, 1))
    return network(modules={"A": duration}, offers=offers, learners=[learner("s1", first=first, last=last)]), []


@FAMILY
@given(case=no_offer_cases())
def test_no_offer_is_true_whenever_no_offer_fits_the_window_and_any_other_reason_is_caught(case: Case) -> None:
    problem, plan = case
    sf = explained(problem, plan, "s1", "core")
    assert sf.reason is R.NO_OFFER
    refuted_as(problem, plan, sf)
    # The offer it suggests would really let the learner in; one outside the window would not.
    assert sf.suggestions
    outside = dataclasses.replace(sf.suggestions[0], first_week=problem.learners[0].last_week + 1, last_week=40)
    assert false_claims(problem, plan, dataclasses.replace(sf, suggestions=(outside,)))


# ---- eligibility ------------------------------------------------------------------------------------------


@st.composite
def eligibility_cases(draw: st.DrawFn) -> Case:
    """Offers of A inside the window at one to three firms, each of which the learner is excluded from."""
    duration = draw(st.integers(1, 3))
    firms = [f"F{i}" for i in range(1, draw(st.integers(1, 3)) + 1)]
    offers = []
    whole: set[str] = set()
    for f in firms:
        start = draw(st.integers(0, 9 - duration))
        offers.append((f, "A", start, draw(st.integers(start + duration - 1, 9)), draw(st.integers(1, 3))))
        if draw(st.booleans()):
            whole.add(f)
    s1 = learner(
        "s1",
        excluded_firms=frozenset(whole),
        excluded_firm_modules=frozenset((f, "A") for f in firms if f not in whole),
    )
    return network(modules={"A": duration}, offers=offers, learners=[s1]), []


@FAMILY
@given(case=eligibility_cases())
def test_eligibility_is_true_when_every_offer_is_at_an_excluded_firm_and_not_once_one_is_allowed(case: Case) -> None:
    problem, plan = case
    sf = explained(problem, plan, "s1", "core")
    assert sf.reason is R.ELIGIBILITY
    refuted_as(problem, plan, sf)
    # The same claim about a learner allowed at one of the firms is false.
    s1 = problem.learners[0]
    allowed = dataclasses.replace(s1, excluded_firms=frozenset(), excluded_firm_modules=frozenset())
    assert false_claims(dataclasses.replace(problem, learners=(allowed,)), plan, sf)


def test_a_group_with_fewer_allowed_modules_than_required_is_an_eligibility_shortfall_without_a_module() -> None:
    problem = network(modules={"A": 1, "B": 1}, offers=[("F1", "A", 0, 9, 1)], learners=[learner("s1", allowed=["A"])])
    plan = [A("s1", "A", "F1", 0)]
    sf = explained(problem, plan, "s1", "core")
    assert (sf.reason, sf.module_id) == (R.ELIGIBILITY, None)
    assert false_claims(problem, plan, dataclasses.replace(sf, reason=R.NO_OFFER))
    # Allowed B after all, the group could be completed: the claim is false.
    allowed = dataclasses.replace(problem.learners[0], allowed_modules=frozenset("AB"))
    assert false_claims(dataclasses.replace(problem, learners=(allowed,)), plan, sf)


# ---- availability -----------------------------------------------------------------------------------------


@st.composite
def school_block_cases(draw: st.DrawFn) -> Case:
    """An offer of A whose weeks are cut by unavailable weeks into runs shorter than A."""
    duration = draw(st.integers(2, 3))
    start = draw(st.integers(0, 4))
    end = start + draw(st.integers(duration - 1, 8))
    blocked = set(range(start + duration - 1, end + 1, duration))
    blocked |= set(draw(st.lists(st.integers(0, 14), max_size=3)))
    s1 = learner("s1", last=14, unavailable=frozenset(blocked))
    return network(modules={"A": duration}, offers=[("F1", "A", start, end, 2)], learners=[s1]), []


@FAMILY
@given(case=school_block_cases())
def test_availability_is_true_when_school_blocks_cut_every_offer_short(case: Case) -> None:
    problem, plan = case
    sf = explained(problem, plan, "s1", "core")
    assert sf.reason is R.AVAILABILITY
    refuted_as(problem, plan, sf)
    # Without the school blocks the same claim is false.
    free = dataclasses.replace(problem.learners[0], unavailable=frozenset())
    assert false_claims(dataclasses.replace(problem, learners=(free,)), plan, sf)


@st.composite
def busy_weeks_cases(draw: st.DrawFn) -> tuple[Problem, list[Assignment], bool]:
    """B is offered for exactly its own weeks, which A (planned) overlaps; A's workshop may need the learner."""
    b = draw(st.integers(1, 3))
    a = draw(st.integers(1, 3))
    at = draw(st.integers(0, 9 - b))
    start_a = draw(st.integers(max(0, at - a + 1), min(at + b - 1, 9 - a + 1)))
    minimum = draw(st.booleans())
    problem = network(
        modules={"A": a, "B": b},
        groups={"g1": ("A",), "g2": ("B",)},
        offers=[("F1", "A", 0, 9, 1, 1 if minimum else 0), ("F2", "B", at, at + b - 1, 2)],
        learners=[learner("s1", last=9)],
    )
    return problem, [A("s1", "A", "F1", start_a)], minimum


@FAMILY
@given(case=busy_weeks_cases())
def test_time_taken_by_the_learners_own_module_is_availability_or_min_seats_when_the_workshop_needs_it(
    case: tuple[Problem, list[Assignment], bool],
) -> None:
    problem, plan, minimum = case
    sf = explained(problem, plan, "s1", "g2")
    assert sf.reason is (R.MIN_SEATS if minimum else R.AVAILABILITY)
    refuted_as(problem, plan, sf)
    if not minimum:
        # No workshop needs the learner: a min_seats claim is false.
        assert false_claims(problem, plan, dataclasses.replace(sf, reason=R.MIN_SEATS))
    # With A planned elsewhere (or not at all) the weeks are free: the claim is false.
    assert false_claims(problem, [], sf)


# ---- precedence -------------------------------------------------------------------------------------------


@st.composite
def precedence_cases(draw: st.DrawFn) -> Case:
    """B requires A: either A cannot be planned at all, or it is planned so late that no offer of B follows."""
    a, b = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if draw(st.booleans()):
        offers = [("F1", "B", 0, 15, 1)]
        if draw(st.booleans()):
            offers.append(("F2", "A", 0, 15, 1))  # offered, but at a firm the learner may not attend
        s1 = learner("s1", last=15, excluded_firms=frozenset({"F2"}))
        problem = network(
            modules={"A": a, "B": b},
            groups={"first": ("A",), "second": ("B",)},
            offers=offers,
            learners=[s1],
            precedence=[("B", "A")],
        )
        return problem, []
    at = draw(st.integers(0, 15 - a - b))
    after = at + a
    problem = network(
        modules={"A": a, "B": b},
        groups={"first": ("A",), "second": ("B",)},
        offers=[("F1", "A", 0, 15, 1), ("F1", "B", 0, after + b - 2, 1)],
        learners=[learner("s1", last=15)],
        precedence=[("B", "A")],
    )
    return problem, [A("s1", "A", "F1", at)]


@FAMILY
@given(case=precedence_cases())
def test_precedence_is_true_when_the_required_module_is_missing_or_ends_after_every_offer_starts(case: Case) -> None:
    problem, plan = case
    sf = explained(problem, plan, "s1", "second")
    assert sf.reason is R.PRECEDENCE
    refuted_as(problem, plan, sf)
    # Without the precedence rule the module could be placed: the claim is false.
    curricula = {c: dataclasses.replace(cur, precedence=()) for c, cur in problem.curricula.items()}
    assert false_claims(dataclasses.replace(problem, curricula=curricula), plan, sf)


# ---- firm limit -------------------------------------------------------------------------------------------


@st.composite
def firm_limit_cases(draw: st.DrawFn) -> Case:
    """The learner already does `limit` modules at F1, the only firm (it may attend) offering C."""
    limit = draw(st.integers(1, 2))
    done = ["A", "B"][:limit]
    offers = [("F1", m, 0, 15, 1) for m in [*done, "C"]]
    if draw(st.booleans()):
        offers.append(("F2", "C", 0, 15, 1))
    s1 = learner("s1", last=15, excluded_firm_modules=frozenset({("F2", "C")}))
    problem = network(
        modules={m: 2 for m in [*done, "C"]},
        groups={"done": tuple(done), "open": ("C",)},
        offers=offers,
        learners=[s1],
        max_modules_per_firm=limit,
    )
    return problem, [A("s1", m, "F1", 2 * i) for i, m in enumerate(done)]


@FAMILY
@given(case=firm_limit_cases())
def test_firm_limit_is_true_when_every_firm_offering_the_module_is_used_up_and_false_under_a_higher_limit(
    case: Case,
) -> None:
    problem, plan = case
    sf = explained(problem, plan, "s1", "open")
    assert sf.reason is R.FIRM_LIMIT
    refuted_as(problem, plan, sf)
    limit = problem.settings.max_modules_per_firm
    assert limit is not None
    higher = dataclasses.replace(problem.settings, max_modules_per_firm=limit + 1)
    assert false_claims(dataclasses.replace(problem, settings=higher), plan, sf)


def test_a_firm_with_room_but_only_before_the_prerequisite_ends_does_not_hide_the_firm_limit() -> None:
    # F2 offers B only in weeks before A ends; F1 offers it later but the learner is at the limit there.
    problem = network(
        modules={"A": 2, "B": 1},
        groups={"first": ("A",), "second": ("B",)},
        offers=[("F1", "A", 0, 9, 1), ("F1", "B", 0, 9, 1), ("F2", "B", 0, 1, 1)],
        learners=[learner("s1")],
        precedence=[("B", "A")],
        max_modules_per_firm=1,
    )
    plan = [A("s1", "A", "F1", 2)]
    assert explained(problem, plan, "s1", "second").reason is R.FIRM_LIMIT


# ---- contention -------------------------------------------------------------------------------------------


@st.composite
def contention_cases(draw: st.DrawFn) -> Case:
    """n learners, one offer of `seats` < n seats whose every start overlaps the first weeks, held by the first
    `seats` learners."""
    n = draw(st.integers(2, 5))
    seats = draw(st.integers(1, n - 1))
    duration = draw(st.integers(1, 3))
    slack = draw(st.integers(0, duration - 1))
    last = duration - 1 + slack
    problem = network(
        modules={"A": duration},
        offers=[("F1", "A", 0, last, seats)],
        learners=[learner(f"s{i}", last=last) for i in range(n)],
    )
    return problem, [A(f"s{i}", "A", "F1", 0) for i in range(seats)]


@FAMILY
@given(case=contention_cases())
def test_contention_names_only_seat_holders_and_a_seat_that_resolves_it_and_mutations_are_caught(
    case: Case,
) -> None:
    problem, plan = case
    loser = problem.learners[-1].id
    sf = explained(problem, plan, loser, "core")
    assert sf.reason is R.CONTENTION
    holders = {a.learner_id for a in plan}
    assert sf.competing_learners and set(sf.competing_learners) <= holders
    refuted_as(problem, plan, sf)
    # A named learner who holds no seat there (the learner itself, or another without a seat) is caught.
    for stranger in {loser, problem.learners[len(plan)].id}:
        assert false_claims(problem, plan, dataclasses.replace(sf, competing_learners=(stranger,)))
    # So is a contention that names nobody or suggests nothing.
    assert false_claims(problem, plan, dataclasses.replace(sf, competing_learners=()))
    assert false_claims(problem, plan, dataclasses.replace(sf, suggestions=()))
    # A suggestion that would not give the learner a place: outside the window, no seats, another module.
    (seat,) = sf.suggestions
    window = problem.learners[-1].last_week + 1
    for wrong in (
        dataclasses.replace(seat, first_week=seat.first_week + window, last_week=seat.last_week + window),
        dataclasses.replace(seat, seats=0),
        dataclasses.replace(seat, module_id="B"),
    ):
        assert false_claims(problem, plan, dataclasses.replace(sf, suggestions=(wrong,))), wrong
    # And the claim itself is false once the offer has a seat for everyone.
    roomy = dataclasses.replace(problem, offers=tuple(dataclasses.replace(o, max_seats=9) for o in problem.offers))
    assert false_claims(roomy, plan, sf)


# ---- seat deficits ----------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=small_problems())
def test_every_seat_deficit_is_true_and_a_miscounted_one_is_caught(problem: Problem) -> None:
    plan = construct(problem)
    for d in seat_deficits(problem, plan):
        assert false_deficit_claims(problem, plan, d) == []
        assert false_deficit_claims(problem, plan, dataclasses.replace(d, assigned=d.assigned + 1))
        assert false_deficit_claims(problem, plan, dataclasses.replace(d, required=d.required + 1))


@pytest.mark.parametrize(
    ("deficit", "true"),
    [
        (SeatDeficit("F1", "A", 0, 3, 1), True),
        (SeatDeficit("F1", "A", 0, 3, 2), False),  # one learner is there, not two
        (SeatDeficit("F1", "A", 0, 2, 1), False),  # the minimum is 3
        (SeatDeficit("F1", "A", 5, 3, 0), False),  # no offer (so no minimum) in week 5
    ],
)
def test_a_seat_deficit_states_the_minimum_and_the_learners_of_its_week(deficit: SeatDeficit, true: bool) -> None:
    problem = network(modules={"A": 1}, offers=[("F1", "A", 0, 1, 4, 3)], learners=[learner("s1")])
    assert (false_deficit_claims(problem, [A("s1", "A", "F1", 0)], deficit) == []) is true
