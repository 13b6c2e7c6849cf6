"""Every changed or cancelled assignment says why, as a sentence and as a code a reader words in its own language."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from forced_network import ForcedNetwork, encode
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_matcher.domain.network import Change, ChangeKind
from verbund_matcher.planning.model import Shortfall, ShortfallReason
from verbund_matcher.service.ingest import Record, handle_batch
from verbund_matcher.service.maintenance import reoptimise_network
from verbund_matcher.service.plan_events import REASON_OF_KIND, cancel_reason, change_reason
from verbund_matcher.service.replan import PlannerSettings
from verbund_matcher.store.networks import PublishedAssignment
from verbund_matcher.store.tables import OutboxRow, PublishedAssignmentRow
from verbund_schemas import AssignmentCancelledData, AssignmentChangedData, ChangeReason

Sessions = async_sessionmaker[AsyncSession]
TODAY = dt.date(2030, 12, 2)
PLANNER = PlannerSettings(workers=1, full_time_limit=5)

OFFER_WITHDRAWN = Change(ChangeKind.OFFER_WITHDRAWN, "O1", "Firm One withdrew its offer for M1")
OFFER_ELSEWHERE = Change(ChangeKind.OFFER_WITHDRAWN, "O9", "Firm Nine withdrew its offer for M9")
OWN_CHANGES = [
    (Change(ChangeKind.LEARNER_CHANGED, "L1", "Lea's registration changed"), ChangeReason.LEARNER_CHANGED),
    (Change(ChangeKind.LEARNER_WITHDRAWN, "L1", "Lea was withdrawn"), ChangeReason.LEARNER_WITHDRAWN),
    (Change(ChangeKind.FIRM, "F1", "Firm One's details changed"), ChangeReason.FIRM_CHANGED),
    (Change(ChangeKind.FIRM_LEFT, "F1", "Firm One left the network"), ChangeReason.FIRM_LEFT),
    (Change(ChangeKind.OFFER_ADDED, "O1", "Firm One offered 2 seats for M1 from 2031-W01"), ChangeReason.OFFER_ADDED),
    (Change(ChangeKind.OFFER_CHANGED, "O1", "Firm One changed its offer for M1"), ChangeReason.OFFER_CHANGED),
    (OFFER_WITHDRAWN, ChangeReason.OFFER_WITHDRAWN),
]
POLICY = Change(ChangeKind.POLICY, "n-1", "the network's policy changed")
CURRICULUM = Change(ChangeKind.CURRICULUM, "C1", "curriculum Forced was published")
OTHER_LEARNER_ADDED = Change(ChangeKind.LEARNER_ADDED, "L2", "Max was registered")


def old_assignment(**overrides: Any) -> PublishedAssignment:
    fields: dict[str, Any] = {
        "network_id": "n-1",
        "assignment_id": "n-1:L1:M1",
        "learner_id": "L1",
        "learner_name": "Lea",
        "module_id": "M1",
        "module_name": "Grundlagen",
        "firm_id": "F1",
        "firm_name": "Firm One",
        "start_week": "2031-W05",
        "end_week": "2031-W06",
        "frozen": False,
        "plan_version": 1,
    }
    return PublishedAssignment(**(fields | overrides))


def test_every_kind_of_change_has_a_reason_code() -> None:
    assert set(REASON_OF_KIND) == set(ChangeKind)


@pytest.mark.parametrize(("change", "code"), OWN_CHANGES, ids=[c.kind.value for c, _ in OWN_CHANGES])
def test_a_change_to_the_assignment_itself_names_its_kind(change: Change, code: ChangeReason) -> None:
    reason = change_reason("L1", "M1", {"F1", "F2"}, [OFFER_ELSEWHERE, change], "repair", curriculum_id="C1")
    assert reason.code is code
    assert reason.text == f"Replanned because {change.description}."


def test_the_weightiest_own_change_gives_the_code() -> None:
    changes = [OWN_CHANGES[2][0], OFFER_WITHDRAWN, OWN_CHANGES[0][0]]
    assert change_reason("L1", "M1", {"F1"}, changes, "repair").code is ChangeReason.LEARNER_CHANGED


def test_another_learner_registered_means_room_for_others() -> None:
    reason = change_reason("L1", "M1", {"F1"}, [OTHER_LEARNER_ADDED], "repair")
    assert reason.code is ChangeReason.ROOM_FOR_OTHERS
    assert reason.text == "Replanned to make room after these changes in the network: Max was registered."


def test_changes_elsewhere_only_mean_room_for_others() -> None:
    assert change_reason("L1", "M1", {"F1"}, [OFFER_ELSEWHERE], "repair").code is ChangeReason.ROOM_FOR_OTHERS


def test_the_networks_rules_and_the_learners_curriculum_bind_the_learner_too() -> None:
    assert change_reason("L1", "M1", {"F1"}, [OFFER_ELSEWHERE, POLICY], "repair").code is ChangeReason.POLICY_CHANGED
    mine = change_reason("L1", "M1", {"F1"}, [CURRICULUM], "repair", curriculum_id="C1")
    assert mine.code is ChangeReason.CURRICULUM_CHANGED
    other = change_reason("L1", "M1", {"F1"}, [CURRICULUM], "repair", curriculum_id="C2")
    assert other.code is ChangeReason.ROOM_FOR_OTHERS
    assert mine.text == other.text  # the sentence is as it was; only the code is more precise


def test_a_reoptimisation_and_an_unexplained_revision_have_their_own_codes() -> None:
    full = change_reason("L1", "M1", {"F1"}, [], "full")
    assert full.code is ChangeReason.REOPTIMISED and "re-optimisation" in full.text
    revised = change_reason("L1", "M1", {"F1"}, [], "repair")
    assert (revised.code, revised.text) == (ChangeReason.REVISED, "Replanned: the network's plan was revised.")


def test_a_cancellation_names_the_withdrawn_learner_or_the_firm_that_left() -> None:
    withdrawn = cancel_reason(old_assignment(), [OWN_CHANGES[1][0]], [], "repair")
    assert (withdrawn.code, withdrawn.text) == (ChangeReason.LEARNER_WITHDRAWN, "Cancelled because Lea was withdrawn.")
    left = cancel_reason(old_assignment(), [OWN_CHANGES[3][0]], [], "repair")
    assert (left.code, left.text) == (ChangeReason.FIRM_LEFT, "Cancelled because Firm One left the network.")


def test_a_cancellation_for_a_shortfall_says_the_module_is_no_longer_placeable() -> None:
    shortfall = Shortfall("L1", "G", 1, ShortfallReason.NO_OFFER, "No firm offers M1 in Lea's window.", module_id="M1")
    reason = cancel_reason(old_assignment(), [OFFER_WITHDRAWN], [shortfall], "repair")
    assert (reason.code, reason.text) == (
        ChangeReason.NO_LONGER_PLACEABLE,
        "Cancelled: No firm offers M1 in Lea's window.",
    )


def test_any_other_cancellation_takes_the_code_of_its_cause() -> None:
    by_offer = cancel_reason(old_assignment(), [OFFER_WITHDRAWN], [], "repair")
    assert by_offer.code is ChangeReason.OFFER_WITHDRAWN and by_offer.text.startswith("Cancelled because")
    assert cancel_reason(old_assignment(), [], [], "full").code is ChangeReason.REOPTIMISED
    assert cancel_reason(old_assignment(), [], [], "repair").code is ChangeReason.REVISED


# ---------------------------------------------------------------- on the matcher's path


async def feed(sessions: Sessions, events: list[dict[str, Any]], start: int) -> None:
    recs = [Record("in", 0, start + i, e["subject"].encode(), encode(e)) for i, e in enumerate(events)]
    await handle_batch(sessions, recs, today=lambda: TODAY, planner=PLANNER)


async def moves(sessions: Sessions) -> list[dict[str, Any]]:
    """Every AssignmentChanged and AssignmentCancelled in the outbox, read back through the contract."""
    async with sessions() as s:
        rows = (await s.exec(select(OutboxRow).order_by(col(OutboxRow.seq)))).all()
    events = [json.loads(r.payload) for r in rows]
    for e in events:
        if e["type"] == "AssignmentChanged":
            AssignmentChangedData.model_validate(e["data"])
        elif e["type"] == "AssignmentCancelled":
            AssignmentCancelledData.model_validate(e["data"])
    return [e for e in events if e["type"] in ("AssignmentChanged", "AssignmentCancelled")]


async def test_every_changed_and_cancelled_assignment_a_batch_publishes_carries_its_code(sessions: Sessions) -> None:
    net = ForcedNetwork("codes")
    events = net.registered(3)
    await feed(sessions, events, 0)
    moved = net._event("LearnerUpdated", {**events[-3]["data"], "first_week": "2031-W45", "last_week": "2031-W48"})
    await feed(sessions, [moved], 100)
    await feed(sessions, [net._event("LearnerWithdrawn", {"learner_id": "L0001"})], 200)
    await feed(sessions, [net._event("FirmLeft", {"firm_id": "F2", "reason": "closed"})], 300)

    published = await moves(sessions)
    assert published and all(e["data"]["reason_code"] is not None for e in published)
    codes = {(e["type"], e["data"]["learner_id"], e["data"]["module_id"]): e["data"]["reason_code"] for e in published}
    assert codes[("AssignmentChanged", "L0000", "M1")] == "learner_changed"
    assert codes[("AssignmentCancelled", "L0001", "M1")] == "learner_withdrawn"
    assert codes[("AssignmentCancelled", "L0002", "M2")] == "firm_left"


async def test_a_change_a_reoptimisation_publishes_says_reoptimised(sessions: Sessions) -> None:
    """L1 likes F3 for M1, but the published plan has it at F1; a cheap move is worth it to the re-optimisation."""
    net = ForcedNetwork("codes-full")
    setup = net.setup()
    setup[0]["data"]["change_penalty"] = 5
    learner = {
        "learner_id": "L1",
        "name": "Lea",
        "contact": {"name": "Lea", "email": "lea@example.org"},
        "curriculum_id": "C-FORCED",
        "first_week": "2031-W05",
        "last_week": "2031-W08",
        "firm_preferences": {"F3": 10},
    }
    offer = {
        "offer_id": "O3",
        "firm_id": "F3",
        "module_id": "M1",
        "first_week": "2031-W01",
        "last_week": "2031-W30",
        "max_seats": 2,
    }
    extra = [
        net._event("FirmRegistered", {"firm_id": "F3", "name": "Firm Three", "location": {"city": "Bonn"}}),
        net._event("CapacityOffered", offer),
        net._event("LearnerRegistered", learner),
    ]
    await feed(sessions, setup + extra, 0)
    async with sessions() as s, s.begin():
        await s.exec(
            update(PublishedAssignmentRow)
            .where(
                col(PublishedAssignmentRow.network_id) == net.network_id, col(PublishedAssignmentRow.module_id) == "M1"
            )
            .values(firm_id="F1", firm_name="Firm One")
        )
    assert await reoptimise_network(sessions, net.network_id, today=TODAY, planner=PLANNER) is not None
    [changed] = await moves(sessions)
    assert (changed["type"], changed["data"]["reason_code"]) == ("AssignmentChanged", "reoptimised")
