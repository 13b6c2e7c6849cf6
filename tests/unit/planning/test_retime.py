"""One or two modules re-placed for every learner at once: more weeks at their minimum and more requirements
placed, never fewer, every rule kept, and the same plan from the same input."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from verbund_matcher.planning import Assignment, Problem
from verbund_matcher.planning.chains import Handovers
from verbund_matcher.planning.construct import construct
from verbund_matcher.planning.lns import Incumbent
from verbund_matcher.planning.retime import (
    Retimed,
    around,
    behind_prerequisites,
    contended,
    cornered,
    late,
    retime,
    retime_rounds,
    spread,
)
from verbund_matcher.planning.scope import learner_scope
from verbund_matcher.planning.seats import seat_table

from .networks import learner, network
from .strategies import small_problems
from .test_shifts import short, valid


def retimed(problem: Problem, assignments: list[Assignment], modules: tuple[str, ...]) -> Retimed:
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    return retime(problem, assignments, modules, seat_table(problem.offers), scopes, time_limit=5.0)


def test_a_learners_two_modules_trade_weeks_so_an_open_one_fits() -> None:
    # A runs only in weeks 0-1, where s1 does B; B runs in weeks 0-3. A alone cannot move in, A and B together can.
    problem = network(
        modules={"A": 2, "B": 2},
        offers=[("x", "A", 0, 1, 1), ("y", "B", 0, 3, 1)],
        learners=[learner("s1", last=3)],
    )
    plan = [Assignment("s1", "B", "y", 0)]
    assert not retimed(problem, plan, ("A",)).changed
    after = retimed(problem, plan, ("A", "B"))
    assert after.changed
    assert sorted(after.assignments) == [Assignment("s1", "A", "x", 0), Assignment("s1", "B", "y", 2)]
    assert valid(problem, after.assignments) == []


def test_every_learner_of_a_module_is_re_placed_to_fill_a_minimum() -> None:
    # x needs two learners in weeks 2-3; both are at y, at two different starts, with room to move.
    problem = network(
        modules={"A": 2},
        offers=[("x", "A", 2, 3, 2, 2), ("y", "A", 0, 5, 2)],
        learners=[learner("s1", last=5), learner("s2", last=5)],
    )
    plan = [Assignment("s1", "A", "y", 0), Assignment("s2", "A", "y", 4)]
    assert short(problem, plan) == 4
    after = retimed(problem, plan, ("A",))
    assert sorted(after.assignments) == [Assignment("s1", "A", "x", 2), Assignment("s2", "A", "x", 2)]
    assert short(problem, after.assignments) == 0


def test_the_order_of_two_modules_traded_together_is_kept() -> None:
    # B requires A; both may move, and the only way to fit both keeps A first.
    problem = network(
        modules={"A": 2, "B": 2},
        offers=[("x", "A", 0, 3, 1), ("y", "B", 0, 3, 1)],
        learners=[learner("s1", last=3)],
        precedence=[("B", "A")],
    )
    plan = [Assignment("s1", "A", "x", 0)]
    after = retimed(problem, plan, ("A", "B"))
    assert sorted(after.assignments) == [Assignment("s1", "A", "x", 0), Assignment("s1", "B", "y", 2)]
    assert valid(problem, after.assignments) == []


def test_a_frozen_assignment_stays_where_it_is() -> None:
    frozen = Assignment("s1", "B", "y", 0)
    problem = network(
        modules={"A": 2, "B": 2},
        offers=[("x", "A", 0, 1, 1), ("y", "B", 0, 3, 1)],
        learners=[learner("s1", last=3)],
        frozen=[frozen],
    )
    after = retimed(problem, [frozen], ("A", "B"))
    assert after.assignments == [frozen]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=small_problems())
def test_rounds_never_add_weeks_below_a_minimum_nor_drop_a_placement_nor_break_a_rule(problem: Problem) -> None:
    start = construct(problem)
    table = seat_table(problem.offers)
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    current, work = retime_rounds(problem, Incumbent(problem, table, start), scopes, limit=2.0)
    after = current.assignments()
    required = sum(sum(s.required.values()) for s in scopes.values())
    assert work > 0 or (short(problem, start), len(start)) == (0, required)
    assert short(problem, after) <= short(problem, start)
    assert (short(problem, after), -len(after)) <= (short(problem, start), -len(start))
    assert valid(problem, after) == []
    again, _ = retime_rounds(problem, Incumbent(problem, table, start), scopes, limit=2.0)
    assert again.assignments() == after


def test_a_learner_swaps_an_elective_for_another_of_its_group_that_a_workshop_needs() -> None:
    # s1 must take one of E1, E2; x runs E2 only with one learner. Alone, E2 cannot be added (the group is full);
    # together, E1 is given up for E2 at x, and the group keeps its count.
    problem = network(
        modules={"E1": 2, "E2": 2},
        groups={"wahl": ("E1", "E2")},
        offers=[("y", "E1", 0, 5, 1), ("x", "E2", 2, 3, 1, 1)],
        learners=[learner("s1", last=5, required={"wahl": 1}, allowed=("E1", "E2"))],
    )
    plan = [Assignment("s1", "E1", "y", 0)]
    assert short(problem, plan) == 2
    assert not retimed(problem, plan, ("E2",)).changed
    after = retimed(problem, plan, ("E1", "E2"))
    assert after.assignments == [Assignment("s1", "E2", "x", 2)]
    assert short(problem, after.assignments) == 0
    assert valid(problem, after.assignments) == []


def test_a_module_another_one_requires_is_never_swapped_away() -> None:
    # B requires E1 and stays where it is: E1 may move but not be given up for E2.
    problem = network(
        modules={"E1": 2, "E2": 2, "B": 2},
        groups={"wahl": ("E1", "E2"), "core": ("B",)},
        offers=[("y", "E1", 0, 5, 1), ("x", "E2", 0, 1, 1, 1), ("y", "B", 0, 9, 1)],
        learners=[learner("s1", last=9, required={"wahl": 1, "core": 1}, allowed=("E1", "E2", "B"))],
        precedence=[("B", "E1")],
    )
    plan = [Assignment("s1", "E1", "y", 2), Assignment("s1", "B", "y", 4)]
    after = retimed(problem, plan, ("E1", "E2"))
    assert Assignment("s1", "B", "y", 4) in after.assignments
    assert any(a.module_id == "E1" for a in after.assignments)
    assert valid(problem, after.assignments) == []


def test_a_learner_re_planned_whole_makes_room_for_an_open_module() -> None:
    # A runs only in weeks 0-1, where s1 does B, and B could also run in weeks 2-3: re-planning s1 whole (with A
    # for everybody) moves B and places A.
    problem = network(
        modules={"A": 2, "B": 2},
        offers=[("x", "A", 0, 1, 1), ("y", "B", 0, 3, 1)],
        learners=[learner("s1", last=3)],
    )
    plan = [Assignment("s1", "B", "y", 0)]
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    after = retime(problem, plan, ("A",), seat_table(problem.offers), scopes, time_limit=5.0, whole=("s1",))
    assert sorted(after.assignments) == [Assignment("s1", "A", "x", 0), Assignment("s1", "B", "y", 2)]


def late_prerequisite() -> tuple[Problem, list[Assignment]]:
    """s1 needs A, B and C; B requires A and runs only in week 1, so A must be in week 0, where s1 does C and s2
    holds A's one seat; C runs in weeks 0 and 3 only, and s3 holds week 3."""
    problem = network(
        modules={"A": 1, "B": 1, "C": 1},
        offers=[
            ("x", "A", 0, 0, 1),
            ("x", "A", 2, 3, 1),
            ("x", "B", 1, 1, 1),
            ("y", "C", 0, 0, 1),
            ("y", "C", 3, 3, 1),
        ],
        learners=[
            learner("s1", last=3),
            learner("s2", last=3, required={"core": 1}, allowed=("A",)),
            learner("s3", last=3, required={"core": 1}, allowed=("C",)),
        ],
        precedence=[("B", "A")],
    )
    plan = [
        Assignment("s1", "C", "y", 0),
        Assignment("s1", "A", "x", 2),
        Assignment("s2", "A", "x", 0),
        Assignment("s3", "C", "y", 3),
    ]
    return problem, plan


def test_an_open_module_behind_a_late_prerequisite_is_placed_with_the_prerequisite_and_one_more_module() -> None:
    problem, plan = late_prerequisite()
    table = seat_table(problem.offers)
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    # Neither pairs of modules for everybody nor s1 re-planned whole reach it: s2 and s3 hold the seats s1 needs.
    assert not retimed(problem, plan, ("A", "B")).changed
    assert not retimed(problem, plan, ("B", "C")).changed
    assert not retime(problem, plan, ("B",), table, scopes, time_limit=5.0, whole=("s1",)).changed
    found = behind_prerequisites(Handovers(problem, plan, table, scopes, max_looks=1 << 62))
    assert (("B", "A", "C"), ("s1",)) in found
    after = retime(problem, plan, ("B", "A", "C"), table, scopes, time_limit=5.0, whole=("s1",))
    mine = sorted(a for a in after.assignments if a.learner_id == "s1")
    assert mine == [Assignment("s1", "A", "x", 0), Assignment("s1", "B", "x", 1), Assignment("s1", "C", "y", 3)]
    assert Assignment("s3", "C", "y", 0) in after.assignments
    assert valid(problem, after.assignments) == []


def test_rounds_place_an_open_module_behind_a_late_prerequisite() -> None:
    problem, plan = late_prerequisite()
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    current, _ = retime_rounds(problem, Incumbent(problem, seat_table(problem.offers), plan), scopes, limit=20.0)
    assert current.count == 5
    assert valid(problem, current.assignments()) == []


def test_an_open_module_with_a_place_behind_its_prerequisite_is_left_to_the_other_neighbourhoods() -> None:
    problem, _ = late_prerequisite()
    table = seat_table(problem.offers)
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    # A in week 0 and C in week 3: B has its place in week 1 (its seat is free), so nothing is behind A.
    moved = [
        Assignment("s1", "A", "x", 0),
        Assignment("s1", "C", "y", 3),
        Assignment("s2", "A", "x", 2),
        Assignment("s3", "C", "y", 0),
    ]
    assert behind_prerequisites(Handovers(problem, moved, table, scopes, max_looks=1 << 62)) == []


def held_seat() -> tuple[Problem, list[Assignment]]:
    """s1 needs A, which runs in week 0 only for s1 (its window); s2 holds that seat with A, and its B in week 1
    keeps A from moving there. Both A and B have one seat a week in weeks 0-1."""
    problem = network(
        modules={"A": 1, "B": 1},
        offers=[("x", "A", 0, 1, 1), ("y", "B", 0, 1, 1)],
        learners=[
            learner("s1", last=0, required={"core": 1}, allowed=("A",)),
            learner("s2", last=1),
        ],
    )
    plan = [Assignment("s2", "A", "x", 0), Assignment("s2", "B", "y", 1)]
    return problem, plan


def test_an_open_module_whose_seat_another_holds_is_placed_with_the_holder_re_planned_whole() -> None:
    problem, plan = held_seat()
    table = seat_table(problem.offers)
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    # The module for everybody cannot move s2's A (its B is in the way), nor can s1 alone make room.
    assert not retimed(problem, plan, ("A",)).changed
    assert not retime(problem, plan, ("A",), table, scopes, time_limit=5.0, whole=("s1",)).changed
    found = contended(Handovers(problem, plan, table, scopes, max_looks=1 << 62))
    assert found == [(("A",), ("s1", "s2"))]
    after = retime(problem, plan, ("A",), table, scopes, time_limit=5.0, whole=("s1", "s2"))
    assert sorted(after.assignments) == [
        Assignment("s1", "A", "x", 0),
        Assignment("s2", "A", "x", 1),
        Assignment("s2", "B", "y", 0),
    ]
    assert valid(problem, after.assignments) == []


def test_rounds_place_an_open_module_whose_seat_another_holds() -> None:
    problem, plan = held_seat()
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    current, _ = retime_rounds(problem, Incumbent(problem, seat_table(problem.offers), plan), scopes, limit=10.0)
    assert current.count == 3
    assert valid(problem, current.assignments()) == []


def test_no_holder_is_named_where_the_open_module_has_a_free_seat() -> None:
    problem, _ = held_seat()
    table = seat_table(problem.offers)
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    moved = [Assignment("s2", "A", "x", 1), Assignment("s2", "B", "y", 0)]
    assert contended(Handovers(problem, moved, table, scopes, max_looks=1 << 62)) == []


def test_only_the_prerequisite_neighbourhoods_get_the_longer_step() -> None:
    problem, plan = late_prerequisite()
    table = seat_table(problem.offers)
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    state = Handovers(problem, plan, table, scopes, max_looks=1 << 62)
    behind = behind_prerequisites(state)
    assert behind and all(late(n) for n in behind)
    current = Incumbent(problem, table, plan)
    others = [n for n in around(problem, current, scopes) if n not in behind]
    assert others and not any(late(n) for n in others)


def test_a_prerequisite_neighbourhood_is_named_for_a_crowded_place_only_when_asked() -> None:
    # B requires A; s1's only place for B (week 2) is held by s2, whose B could as well be in week 1.
    problem = network(
        modules={"A": 1, "B": 1, "C": 1},
        offers=[("x", "A", 0, 1, 1), ("x", "B", 1, 2, 1), ("y", "C", 0, 3, 1)],
        learners=[
            learner("s1", last=2),
            learner("s2", last=2, required={"core": 2}, allowed=("A", "B")),
        ],
        precedence=[("B", "A")],
    )
    plan = [
        Assignment("s1", "C", "y", 0),
        Assignment("s1", "A", "x", 1),
        Assignment("s2", "A", "x", 0),
        Assignment("s2", "B", "x", 2),
    ]
    table = seat_table(problem.offers)
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    state = Handovers(problem, plan, table, scopes, max_looks=1 << 62)
    assert behind_prerequisites(state) == []
    assert behind_prerequisites(state, crowded=True) == [(("B", "A", "C"), ("s1",))]
    after = retime(problem, plan, ("B", "A", "C"), table, scopes, time_limit=5.0, whole=("s1",))
    assert len(after.assignments) == 5
    assert valid(problem, after.assignments) == []


def test_rounds_go_on_past_their_limit_up_to_the_settled_one_once_no_minimum_is_short() -> None:
    problem, plan = held_seat()
    table = seat_table(problem.offers)
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    stopped, work = retime_rounds(problem, Incumbent(problem, table, plan), scopes, limit=0.0)
    assert (stopped.count, work) == (2, 0.0)
    went_on, work = retime_rounds(problem, Incumbent(problem, table, plan), scopes, limit=0.0, settled=10.0)
    assert went_on.count == 3 and work > 0
    assert valid(problem, went_on.assignments()) == []


def walled_in() -> tuple[Problem, list[Assignment]]:
    """s1 needs A and C in weeks 0-1; C runs in week 0 only, at y (s1 may not go to z), where s2 holds the seat;
    s1's A sits in week 0 too. s2 could as well do C at z."""
    problem = network(
        modules={"A": 1, "C": 1},
        offers=[("x", "A", 0, 1, 1), ("y", "C", 0, 0, 1), ("z", "C", 0, 0, 1)],
        learners=[
            learner("s1", last=1, allowed=("A", "C"), excluded_firms=frozenset({"z"})),
            learner("s2", last=1, required={"core": 1}, allowed=("C",)),
        ],
    )
    plan = [Assignment("s1", "A", "x", 0), Assignment("s2", "C", "y", 0)]
    return problem, plan


def test_an_open_module_without_a_place_beside_the_learners_plan_is_placed_with_the_seats_holders() -> None:
    problem, plan = walled_in()
    table = seat_table(problem.offers)
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    state = Handovers(problem, plan, table, scopes, max_looks=1 << 62)
    # s1's own A leaves C no place, so no seat of C is in s1's way: contended names nobody.
    assert state.places("s1", "C") == []
    assert contended(state) == []
    assert cornered(state) == [(("C",), ("s1", "s2"))]
    assert (("C",), ("s1", "s2")) in around(problem, Incumbent(problem, table, plan), scopes)
    after = retime(problem, plan, ("C",), table, scopes, time_limit=5.0, whole=("s1", "s2"))
    assert sorted(after.assignments) == [
        Assignment("s1", "A", "x", 1),
        Assignment("s1", "C", "y", 0),
        Assignment("s2", "C", "z", 0),
    ]
    assert valid(problem, after.assignments) == []


def test_spread_names_the_learners_with_room_for_the_prerequisite_before_a_short_week() -> None:
    # x runs B in week 2 only with one learner; B requires A. Every learner could be at x in week 2, but s1 starts
    # too late to do A first; s3, without B yet, comes before s2, who does B later.
    problem = network(
        modules={"A": 1, "B": 1},
        offers=[("x", "B", 2, 2, 2, 1), ("x", "B", 3, 5, 2), ("y", "A", 0, 5, 3)],
        learners=[learner("s1", first=2, last=5), learner("s2", last=5), learner("s3", last=5)],
        precedence=[("B", "A")],
    )
    plan = [Assignment("s2", "A", "y", 0), Assignment("s2", "B", "x", 3)]
    table = seat_table(problem.offers)
    scopes = {s.id: learner_scope(problem, s) for s in problem.learners}
    assert spread(problem, Incumbent(problem, table, plan), scopes) == [(("B",), ("s3", "s2"))]
    held = [*plan, Assignment("s3", "A", "y", 0), Assignment("s3", "B", "x", 2)]
    assert spread(problem, Incumbent(problem, table, held), scopes) == []
