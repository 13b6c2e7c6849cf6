"""Changed and cancelled assignments carry a reason code a reader words itself; unknown codes are tolerated."""

from __future__ import annotations

import json

from verbund_schemas import AssignmentCancelled, ChangeReason, decode_event


def cancelled(**extra: object) -> bytes:
    data = {
        "assignment_id": "N-1.L-1.M-1",
        "learner_id": "L-1",
        "learner_name": "Lena",
        "module_id": "M-1",
        "module_name": "Fräsen",
        "firm_id": "F-1",
        "firm_name": "Meier",
        "start_week": "2027-W10",
        "end_week": "2027-W13",
        "start_date": "2027-03-08",
        "end_date": "2027-04-04",
        "plan_version": 2,
        "reason": "Cancelled because learner L-1 withdrew.",
        **extra,
    }
    event = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "verbund-matcher",
        "type": "AssignmentCancelled",
        "time": "2026-11-29T10:00:00Z",
        "subject": "N-1",
        "data": data,
    }
    return json.dumps(event).encode()


def test_a_known_code_is_read() -> None:
    event = decode_event(cancelled(reason_code="learner_withdrawn"))
    assert isinstance(event, AssignmentCancelled)
    assert event.data.reason_code is ChangeReason.LEARNER_WITHDRAWN


def test_an_older_producer_without_a_code_and_a_newer_one_with_an_unknown_code_both_read() -> None:
    for raw in (cancelled(), cancelled(reason_code="a_code_from_the_future")):
        event = decode_event(raw)
        assert isinstance(event, AssignmentCancelled)
        assert event.data.reason_code is None
        assert event.data.reason.startswith("Cancelled")
