"""The constructive search's free starts: the same starts as looking at every week of every range one by one, and
the same whether kept across learners or worked out for each."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from verbund_matcher.planning.construct import Constructor, _free_starts
from verbund_matcher.planning.ledger import SeatLedger
from verbund_matcher.planning.model import Assignment, Firm, Module, Offer, Problem, Settings
from verbund_matcher.planning.seats import seat_table

from .strategies import small_problems


def week_by_week(ledger: SeatLedger, duration: int, ranges: Sequence[tuple[int, int]]) -> list[int]:
    """Every start in `ranges` with a free seat in each of its weeks, found by looking at each week."""
    max_weeks = ledger.table.max_seats.get(("F", "M"), {})
    held = ledger.used.get(("F", "M"), {})
    return [
        start
        for lo, hi in ranges
        for start in range(lo, hi + 1)
        if all(max_weeks.get(w, 0) - held.get(w, 0) > 0 for w in range(start, start + duration))
    ]


@st.composite
def sorted_disjoint_ranges(draw: st.DrawFn) -> list[tuple[int, int]]:
    bounds = sorted(set(draw(st.lists(st.integers(0, 60), max_size=8))))
    return [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds) - 1, 2)]


@settings(max_examples=400, deadline=None)
@given(
    offers=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 15), st.integers(0, 3)), min_size=0, max_size=4),
    held=st.dictionaries(st.integers(0, 70), st.integers(0, 4), max_size=30),
    duration=st.integers(1, 6),
    ranges=sorted_disjoint_ranges(),
)
def test_free_starts_are_the_starts_with_a_free_seat_in_every_week(
    offers: list[tuple[int, int, int]],
    held: dict[int, int],
    duration: int,
    ranges: list[tuple[int, int]],
) -> None:
    table = seat_table(
        Offer(f"o{i}", "F", "M", first, first + length, seats) for i, (first, length, seats) in enumerate(offers)
    )
    ledger = SeatLedger(table, {"M": Module("M", "M", duration)})
    ledger.used[("F", "M")] = dict(held)
    assert _free_starts(ledger, "F", "M", duration, ranges) == week_by_week(ledger, duration, ranges)


@settings(max_examples=150, deadline=None)
@given(problem=small_problems())
def test_free_starts_kept_across_learners_give_the_plan_worked_out_afresh_for_each(problem: Problem) -> None:
    shared = Constructor(problem, shared_free_starts=True)
    afresh = Constructor(problem)
    for builder in (shared, afresh):
        builder.reserve_frozen()
    for learner in afresh.order(problem.learners):
        assert shared.plan(learner) == afresh.plan(learner)
    assert shared.ledger.used == afresh.ledger.used


@settings(max_examples=300, deadline=None)
@given(
    seats=st.lists(st.integers(0, 2), min_size=12, max_size=12),
    steps=st.lists(st.tuples(st.integers(0, 9), st.sampled_from([1, -1])), max_size=25),
    duration=st.integers(1, 4),
    ranges=sorted_disjoint_ranges(),
)
def test_the_kept_free_starts_follow_every_take_and_release(
    seats: list[int], steps: list[tuple[int, int]], duration: int, ranges: list[tuple[int, int]]
) -> None:
    offers = tuple(Offer(f"o{w}", "F", "M", w, w, n) for w, n in enumerate(seats) if n)
    problem = Problem(
        settings=Settings(),
        modules={"M": Module("M", "M", duration)},
        curricula={},
        firms={"F": Firm("F", "F")},
        offers=offers,
        learners=(),
    )
    builder = Constructor(problem, shared_free_starts=True)
    for start, sign in steps:
        builder.free_starts("F", "M", duration, ranges)  # index it before the change, as a search would
        builder.ledger.take([Assignment("L", "M", "F", start)], sign)
        assert builder.free_starts("F", "M", duration, ranges) == _free_starts(
            builder.ledger, "F", "M", duration, ranges
        )
