"""A learner re-placed by repair gets every module that fits, even when keeping a published start would not."""

from __future__ import annotations

from verbund_matcher.planning import Assignment, evaluate, repair, validate

from .networks import learner, network

A = Assignment


def test_a_window_moved_earlier_re_places_both_modules_rather_than_keep_the_first_start() -> None:
    # Published for weeks 4..7: A at 4, B at 6. The window is now 2..5: A at 4 still fits on its own, but
    # only A at 2 leaves room for B (which must follow A) before the window ends.
    problem = network(
        modules={"A": 2, "B": 2},
        offers=[("F1", "A", 0, 20, 5), ("F2", "B", 0, 20, 5)],
        precedence=[("B", "A")],
        learners=[learner("s1", first=2, last=5)],
        previous=[A("s1", "A", "F1", 4), A("s1", "B", "F2", 6)],
    )
    plan = repair(problem)
    assert validate(problem, plan) == []
    assert plan.objective == evaluate(problem, plan.assignments).objective
    assert plan.shortfalls == ()
    assert set(plan.assignments) == {A("s1", "A", "F1", 2), A("s1", "B", "F2", 4)}
