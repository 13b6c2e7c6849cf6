"""Newcomers planned from a remembered search get exactly the plan a fresh search gives, and the ledger's tokens
change exactly when what a search reads of a cell changes."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st
from verbund_matcher.planning.construct import SearchMemo
from verbund_matcher.planning.ledger import SeatLedger
from verbund_matcher.planning.model import Assignment, Learner, Module, Offer, Plan, Problem
from verbund_matcher.planning.repair import repair
from verbund_matcher.planning.seats import seat_table

from .strategies import random_problem, small_problems


def _cohort(problem: Problem, copies: int) -> Problem:
    """The problem's learners, each registered `copies` times under other ids (alike learners, interleaved), with
    nothing published or frozen yet."""
    learners = tuple(
        dataclasses.replace(learner, id=f"{learner.id}~{n}", name=f"{learner.name} {n}")
        for n in range(copies)
        for learner in problem.learners
    )
    return dataclasses.replace(problem, learners=learners, previous=(), frozen=())


def _chain(problem: Problem, batch: int, *, remember: bool) -> tuple[list[Plan], SearchMemo | None]:
    """The learners registered `batch` at a time, each batch repaired from the plan before it."""
    people = problem.learners
    first = dataclasses.replace(problem, learners=people[:batch])
    last = (first, repair(first))
    plans = [last[1]]
    for k in range(batch, len(people), batch):
        after = dataclasses.replace(problem, learners=people[: k + batch], previous=last[1].assignments)
        earlier = last[1] if remember else dataclasses.replace(last[1], search_memo=None)
        plan = repair(after, last=(last[0], earlier))
        plans.append(plan)
        last = (after, plan)
    return plans, last[1].search_memo


def _same(a: Plan, b: Plan) -> bool:
    return (
        dataclasses.replace(a, seconds=0.0) == dataclasses.replace(b, seconds=0.0)
        and a.learner_bounds == b.learner_bounds
        and a.gaps_settled == b.gaps_settled
    )


@settings(max_examples=120, deadline=None)
@given(problem=small_problems(), copies=st.integers(2, 4), batch=st.integers(1, 5))
def test_a_remembered_search_gives_the_plan_a_fresh_search_gives(problem: Problem, copies: int, batch: int) -> None:
    cohort = _cohort(problem, copies)
    remembered, _memo = _chain(cohort, batch, remember=True)
    fresh, _ = _chain(cohort, batch, remember=False)
    assert len(remembered) == len(fresh)
    for a, b in zip(remembered, fresh, strict=True):
        assert _same(a, b)


def test_a_cohort_of_alike_learners_is_mostly_planned_from_memory_and_as_without_it() -> None:
    base = random_problem(11, learners=12, modules=6, firms=3, weeks=40, min_seats=True, tight=8.0)
    cohort = _cohort(base, 8)
    remembered, memo = _chain(cohort, 6, remember=True)
    fresh, _ = _chain(cohort, 6, remember=False)
    for a, b in zip(remembered, fresh, strict=True):
        assert _same(a, b)
    assert memo is not None
    assert memo.hits > memo.misses > 0


def test_a_chain_starts_afresh_where_the_last_plan_came_another_way() -> None:
    base = random_problem(3, learners=6, modules=4, firms=2, weeks=30, min_seats=True, tight=2.0)
    cohort = _cohort(base, 3)
    remembered, memo = _chain(cohort, 3, remember=True)
    assert memo is not None
    assert all(p.search_memo is memo for p in remembered[1:])
    # A full repair (here: the first plan) carries no memo; the next newcomer-only repair starts a new one.
    assert remembered[0].search_memo is None


def _status(ledger: SeatLedger, weeks: range) -> tuple[frozenset[int], frozenset[int]]:
    """What a search reads of cell (F, M): its full weeks and its weeks below the minimum."""
    max_weeks = ledger.table.max_seats.get(("F", "M"), {})
    min_weeks = ledger.table.min_seats.get(("F", "M"), {})
    held = ledger.used.get(("F", "M"), {})
    return (
        frozenset(w for w in weeks if held.get(w, 0) >= max_weeks.get(w, 0)),
        frozenset(w for w in weeks if held.get(w, 0) < min_weeks.get(w, 0)),
    )


@settings(max_examples=300, deadline=None)
@given(
    seats=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=10, max_size=10),
    steps=st.lists(st.tuples(st.integers(0, 8), st.sampled_from([1, -1])), max_size=30),
    duration=st.integers(1, 3),
)
def test_the_token_changes_exactly_when_a_full_or_short_week_changes(
    seats: list[tuple[int, int]], steps: list[tuple[int, int]], duration: int
) -> None:
    offers = [Offer(f"o{w}", "F", "M", w, w, most, min(least, most)) for w, (most, least) in enumerate(seats) if most]
    ledger = SeatLedger(seat_table(offers), {"M": Module("M", "M", duration)})
    ledger.tokens = {}
    weeks = range(-1, 14)
    for start, sign in steps:
        before = _status(ledger, weeks)
        token = ledger.tokens.get(("F", "M"), 0)
        ledger.take([Assignment("L", "M", "F", start)], sign)
        changed = _status(ledger, weeks) != before
        assert (ledger.tokens.get(("F", "M"), 0) != token) == changed


def test_learners_alike_share_a_signature_and_others_do_not() -> None:
    from verbund_matcher.planning.construct import learner_signature

    a = Learner("a", "A", "C", 0, 10, {}, frozenset({"M"}))
    assert learner_signature(a) == learner_signature(dataclasses.replace(a, id="b", name="B"))
    assert learner_signature(a) != learner_signature(dataclasses.replace(a, firm_pref={"F": 1}))
    assert learner_signature(a) != learner_signature(dataclasses.replace(a, unavailable=frozenset({3})))
