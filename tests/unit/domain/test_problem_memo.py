"""build_problem with a memo gives the problem it gives without one, whatever the events in between: a batch of
registrations only adds the newcomers to the remembered learners; anything else makes it visit every learner."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from domain_events import Events, answer
from verbund_matcher.domain.network import NetworkState
from verbund_matcher.domain.problem_builder import ProblemMemo, build_problem
from verbund_schemas import Envelope

TODAY = dt.date(2027, 1, 4)


def _step(rng: random.Random, state: NetworkState, ev: Events, serial: int) -> list[Envelope]:
    """One batch of events: mostly registrations, sometimes an update, a withdrawal, a decline or a curriculum."""
    present = sorted(state.learners)
    kind = rng.choice(["register"] * 5 + ["update", "withdraw", "decline", "curriculum", "nothing"])
    if kind == "register" or not present:
        return [
            ev.learner(f"l-{serial}-{i}", first_week=f"2027-W{rng.randint(5, 20):02d}", last_week="2027-W45")
            for i in range(rng.randint(1, 4))
        ]
    chosen = rng.choice(present)
    if kind == "update":
        return [ev.learner_updated(chosen, first_week=f"2027-W{rng.randint(3, 20):02d}", last_week="2027-W44")]
    if kind == "withdraw":
        return [ev.learner_withdrawn(chosen)]
    if kind == "decline":
        return [answer(rng.choice(["declined", "accepted"]), chosen, rng.choice(["firm-a", "firm-b"]))]
    if kind == "curriculum":
        return [ev.curriculum(name=f"Verfahrensmechaniker {serial}")]
    return []


@pytest.mark.parametrize("seed", range(6))
def test_the_memo_gives_the_fresh_problem_after_every_batch(state: NetworkState, ev: Events, seed: int) -> None:
    rng = random.Random(seed)
    memo = ProblemMemo()
    for serial in range(60):
        for event in _step(rng, state, ev, serial):
            state.apply(event)
        remembered = build_problem(state, today=TODAY, memo=memo)
        fresh = build_problem(state, today=TODAY)
        assert remembered == fresh, serial
        assert [s.id for s in remembered.learners] == sorted(state.learners)


def test_learners_registered_in_a_batch_are_added_and_the_others_are_the_same_objects(
    state: NetworkState, ev: Events
) -> None:
    for i in range(5):
        state.apply(ev.learner(f"l-{i}"))
    memo = ProblemMemo()
    before = {s.id: s for s in build_problem(state, today=TODAY, memo=memo).learners}
    state.apply(ev.learner("l-25", first_week="2027-W02"))  # earlier than anyone: week 0 moves
    state.apply(ev.learner("l-3a"))
    after = build_problem(state, today=TODAY, memo=memo)
    assert after == build_problem(state, today=TODAY)
    assert [s.id for s in after.learners] == ["l-0", "l-1", "l-2", "l-25", "l-3", "l-3a", "l-4"]
    state.apply(ev.learner("l-5"))
    again = build_problem(state, today=TODAY, memo=memo)
    assert again == build_problem(state, today=TODAY)
    kept = {s.id: s for s in after.learners}
    assert all(s is kept[s.id] for s in again.learners if s.id != "l-5")
    assert before.keys() <= kept.keys()
