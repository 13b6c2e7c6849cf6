"""NetworkState: which events it applies, which it rejects, and that every rejection says why."""

from __future__ import annotations

import copy

import pytest
from domain_events import Events
from verbund_matcher.domain.network import ChangeKind, NetworkState, Rejection
from verbund_schemas import PlanPublished


def rejected(state: NetworkState, event: object) -> str:
    """Apply an event that must be rejected; check the state is untouched and return the reason."""
    before = copy.deepcopy(state)
    with pytest.raises(Rejection) as caught:
        state.apply(event)  # type: ignore[arg-type]
    assert state == before, "a rejected event must not change the state"
    return caught.value.reason


# ---------------------------------------------------------------- accepted


def test_a_full_network_folds_into_state(state: NetworkState, ev: Events) -> None:
    change = state.apply(ev.learner("l-1", home_firm_id="firm-a"))
    assert change.kind is ChangeKind.LEARNER_ADDED
    assert state.config is not None and state.config.name == "Verbund Test"
    assert set(state.curricula) == {"cur"}
    assert set(state.firms) == {"firm-a", "firm-b"}
    assert set(state.offers) == {"o-1"}
    assert state.learners["l-1"].home_firm_id == "firm-a"


def test_capacity_change_keeps_the_fields_it_does_not_name(state: NetworkState, ev: Events) -> None:
    change = state.apply(ev.offer_changed("o-1", max_seats=5))
    assert change.kind is ChangeKind.OFFER_CHANGED
    offer = state.offers["o-1"]
    assert (offer.max_seats, offer.first_week, offer.last_week) == (5, "2027-W10", "2027-W30")


def test_a_departing_firm_takes_its_offers_with_it(state: NetworkState, ev: Events) -> None:
    change = state.apply(ev.firm_left("firm-a"))
    assert change.kind is ChangeKind.FIRM_LEFT
    assert "firm-a" not in state.firms and state.departed_firms == {"firm-a"}
    assert state.offers == {} and state.withdrawn_offers == {"o-1"}


def test_a_firm_that_left_can_register_again(state: NetworkState, ev: Events) -> None:
    state.apply(ev.firm_left("firm-a"))
    state.apply(ev.firm("firm-a"))
    assert "firm-a" in state.firms and "firm-a" not in state.departed_firms


def test_a_withdrawn_learner_can_register_again(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    assert state.apply(ev.learner_withdrawn("l-1")).kind is ChangeKind.LEARNER_WITHDRAWN
    state.apply(ev.learner("l-1"))
    assert "l-1" in state.learners and not state.withdrawn_learners


def test_a_curriculum_may_be_replaced_when_its_learners_still_fit(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1", required_counts={"core": 2}))
    state.apply(ev.curriculum(name="Neue Fassung"))
    assert state.curricula["cur"].name == "Neue Fassung"


def test_weeks_span_covers_learner_windows_and_offers(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1", first_week="2027-W12", last_week="2028-W02"))
    assert state.weeks_span() == ("2027-W10", "2028-W02")


# ---------------------------------------------------------------- rejected, one test per reason


def test_event_for_another_network_is_rejected(state: NetworkState) -> None:
    other = Events("net-2").learner("l-1")
    assert "routed to 'net-1'" in rejected(state, other)


def test_registering_a_firm_twice_is_rejected(state: NetworkState, ev: Events) -> None:
    assert "already registered; send FirmUpdated" in rejected(state, ev.firm("firm-a"))


def test_updating_an_unknown_firm_is_rejected(state: NetworkState, ev: Events) -> None:
    reason = rejected(state, ev.firm_updated("firm-x"))
    assert "unknown firm 'firm-x'" in reason and "FirmRegistered" in reason


def test_updating_a_firm_that_left_is_rejected(state: NetworkState, ev: Events) -> None:
    state.apply(ev.firm_left("firm-b"))
    assert "it left the network; register it again" in rejected(state, ev.firm_updated("firm-b"))


def test_removing_an_unknown_firm_is_rejected(state: NetworkState, ev: Events) -> None:
    assert "cannot remove unknown firm 'firm-x'" in rejected(state, ev.firm_left("firm-x"))


def test_offering_an_existing_offer_id_with_other_details_is_rejected(state: NetworkState, ev: Events) -> None:
    assert "already exists with other details; send CapacityChanged" in rejected(state, ev.offer("o-1", max_seats=5))


def test_restating_an_offer_or_an_update_changes_nothing_to_plan(state: NetworkState, ev: Events) -> None:
    # A firm's system that re-sends everything it offers must not make the network replan (or be rejected).
    before = dict(state.offers)
    assert state.apply(ev.offer("o-1")).effective is False
    assert state.offers == before
    assert state.apply(ev.offer_changed("o-1", max_seats=2)).effective is False
    assert state.apply(ev.offer_changed("o-1", max_seats=3)).effective is True
    state.apply(ev.learner("l-9"))
    assert state.apply(ev.learner_updated("l-9")).effective is False
    assert state.apply(ev.learner_updated("l-9", last_week="2027-W41")).effective is True


def test_reusing_a_withdrawn_offer_id_is_rejected(state: NetworkState, ev: Events) -> None:
    state.apply(ev.offer_withdrawn("o-1"))
    assert "was withdrawn; offer the capacity again under a new offer_id" in rejected(state, ev.offer("o-1"))


def test_offering_capacity_at_an_unknown_firm_is_rejected(state: NetworkState, ev: Events) -> None:
    assert "cannot offer capacity for unknown firm 'firm-x'" in rejected(state, ev.offer("o-2", firm_id="firm-x"))


def test_offering_a_module_no_curriculum_has_is_rejected(state: NetworkState, ev: Events) -> None:
    reason = rejected(state, ev.offer("o-2", module_id="welding"))
    assert "module 'welding' is in no published curriculum" in reason
    assert "known modules: basics, cnc, extrusion, moulding" in reason


def test_changing_an_unknown_offer_is_rejected(state: NetworkState, ev: Events) -> None:
    assert "cannot change unknown offer 'o-9'" in rejected(state, ev.offer_changed("o-9", max_seats=3))


def test_changing_a_withdrawn_offer_is_rejected(state: NetworkState, ev: Events) -> None:
    state.apply(ev.offer_withdrawn("o-1"))
    assert "cannot change offer 'o-1': it was withdrawn" in rejected(state, ev.offer_changed("o-1", max_seats=3))


def test_a_change_that_makes_the_offer_invalid_is_rejected(state: NetworkState, ev: Events) -> None:
    reason = rejected(state, ev.offer_changed("o-1", min_seats=3))
    assert "after this change would be invalid" in reason and "min_seats 3 is more than max_seats 2" in reason


def test_withdrawing_an_unknown_offer_is_rejected(state: NetworkState, ev: Events) -> None:
    assert "cannot withdraw unknown offer 'o-9'" in rejected(state, ev.offer_withdrawn("o-9"))


def test_withdrawing_an_offer_of_a_firm_that_left_is_rejected(state: NetworkState, ev: Events) -> None:
    state.apply(ev.firm_left("firm-a"))
    assert "it was withdrawn (or its firm left)" in rejected(state, ev.offer_withdrawn("o-1"))


def test_registering_a_learner_twice_is_rejected(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    assert "already registered; send LearnerUpdated" in rejected(state, ev.learner("l-1"))


def test_a_learner_with_an_unknown_curriculum_is_rejected(state: NetworkState, ev: Events) -> None:
    reason = rejected(state, ev.learner("l-1", curriculum_id="cur-x"))
    assert "unknown curriculum 'cur-x' (known: cur)" in reason


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"required_counts": {"nope": 1}}, "required_counts names unknown group 'nope'"),
        ({"required_counts": {"elective": 3}}, "group 'elective' has 2 modules but 3 are required"),
        ({"allowed_modules": ["basics", "welding"]}, "allowed_modules names unknown module 'welding'"),
        ({"module_preferences": {"welding": 2}}, "module_preferences names unknown module 'welding'"),
        (
            {"excluded_firm_modules": [{"firm_id": "firm-a", "module_id": "welding"}]},
            "excluded_firm_modules names unknown module 'welding'",
        ),
        ({"home_firm_id": "firm-x"}, "home_firm_id 'firm-x' is not a registered firm"),
    ],
)
def test_a_learner_who_does_not_fit_the_curriculum_is_rejected(
    state: NetworkState, ev: Events, fields: dict[str, object], problem: str
) -> None:
    reason = rejected(state, ev.learner("l-1", **fields))
    assert "does not fit curriculum 'cur'" in reason and problem in reason


def test_an_update_that_does_not_fit_the_curriculum_is_rejected(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    assert "allowed_modules names unknown module 'x'" in rejected(
        state, ev.learner_updated("l-1", allowed_modules=["x"])
    )


def test_updating_an_unknown_learner_is_rejected(state: NetworkState, ev: Events) -> None:
    assert "cannot update unknown learner 'l-9'; send LearnerRegistered" in rejected(state, ev.learner_updated("l-9"))


def test_updating_a_withdrawn_learner_is_rejected(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1"))
    state.apply(ev.learner_withdrawn("l-1"))
    assert "cannot update learner 'l-1': they were withdrawn" in rejected(state, ev.learner_updated("l-1"))


def test_withdrawing_an_unknown_learner_is_rejected(state: NetworkState, ev: Events) -> None:
    assert "cannot withdraw unknown learner 'l-9'" in rejected(state, ev.learner_withdrawn("l-9"))


def test_a_curriculum_that_drops_what_a_learner_uses_is_rejected(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1", required_counts={"elective": 1}, allowed_modules=["basics", "cnc", "moulding"]))
    smaller = ev.curriculum(
        modules=[
            {"module_id": "basics", "name": "Grundlagen", "duration_weeks": 2},
            {"module_id": "moulding", "name": "Spritzgießen", "duration_weeks": 3},
        ],
        groups=[{"group_id": "core", "name": "Pflicht", "module_ids": ["basics", "moulding"], "required": 2}],
    )
    reason = rejected(state, smaller)
    assert "drops elective, cnc" in reason and "learner 'l-1'" in reason


def test_a_curriculum_that_shrinks_a_group_below_a_learners_count_is_rejected(state: NetworkState, ev: Events) -> None:
    state.apply(ev.learner("l-1", required_counts={"elective": 2}))
    fewer = ev.curriculum(
        groups=[
            {"group_id": "core", "name": "Pflicht", "module_ids": ["basics", "moulding"], "required": 2},
            {"group_id": "elective", "name": "Wahl", "module_ids": ["extrusion"], "required": 1},
        ],
    )
    reason = rejected(state, fewer)
    assert "leaves group 'elective' 1 modules, but learner 'l-1' must do 2" in reason


def test_an_outbound_event_is_rejected(state: NetworkState) -> None:
    published = PlanPublished.model_validate(
        {
            "subject": "net-1",
            "data": {
                "plan_version": 1,
                "objective": 0,
                "learners": 0,
                "assignments": 0,
                "shortfalls": 0,
                "solver": "cpsat",
                "solve_seconds": 0.1,
            },
        }
    )
    assert "PlanPublished is not an inbound event" in rejected(state, published)
