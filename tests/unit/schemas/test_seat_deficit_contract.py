"""The seat deficit contracts: they survive the wire, say only what is a deficit, and stay bounded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from verbund_schemas import (
    MAX_DEFICIT_SPANS,
    InvalidEvent,
    PlanPublished,
    SeatDeficitDetected,
    SeatDeficitResolved,
    decode_event,
    encode_event,
)
from verbund_schemas.catalog import ShortfallEvent


def detected(**data: Any) -> dict[str, Any]:
    payload = {
        "deficit_id": "N1:F1:CNC",
        "firm_id": "F1",
        "firm_name": "Spritzguss Meier",
        "module_id": "CNC",
        "module_name": "CNC-Fräsen",
        "spans": [{"first_week": "2031-W01", "last_week": "2031-W03", "minimum": 3, "planned": 1}],
        "missing_learner_weeks": 6,
        "message": "Spritzguss Meier needs at least 3 learner(s) a week for CNC-Fräsen in 2031-W01..2031-W03.",
        "plan_version": 2,
        **data,
    }
    return {
        "type": "SeatDeficitDetected",
        "id": "d-1",
        "time": "2031-01-06T08:00:00Z",
        "subject": "N1",
        "data": payload,
    }


def test_a_seat_deficit_survives_the_wire_unchanged() -> None:
    event = decode_event(json.dumps(detected()))
    assert isinstance(event, SeatDeficitDetected)
    assert decode_event(encode_event(event)) == event
    (span,) = event.data.spans
    assert (span.weeks, span.missing_learner_weeks) == (3, 6)
    resolved = SeatDeficitResolved.model_validate(
        {
            "type": "SeatDeficitResolved",
            "id": "r-1",
            "time": "2031-01-06T08:00:00Z",
            "subject": "N1",
            "data": {
                "deficit_id": "N1:F1:CNC",
                "firm_id": "F1",
                "firm_name": "Spritzguss Meier",
                "module_id": "CNC",
                "module_name": "CNC-Fräsen",
                "plan_version": 3,
            },
        }
    )
    assert decode_event(encode_event(resolved)) == resolved


def test_both_travel_with_the_shortfalls_on_their_topic() -> None:
    from pydantic import TypeAdapter

    adapter: TypeAdapter[Any] = TypeAdapter(ShortfallEvent)
    assert isinstance(adapter.validate_python(detected()), SeatDeficitDetected)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"spans": []}, "spans"),
        ({"spans": [{"first_week": "2031-W01", "last_week": "2031-W01", "minimum": 3, "planned": 3}]}, "not below"),
        ({"spans": [{"first_week": "2031-W05", "last_week": "2031-W01", "minimum": 3, "planned": 1}]}, "before"),
        ({"firm_name": "x" * 201}, "firm_name"),
        ({"module_name": "x" * 201}, "module_name"),
        ({"deficit_id": "x" * 129}, "deficit_id"),
        ({"missing_learner_weeks": 0}, "missing_learner_weeks"),
        (
            {"spans": [{"first_week": "2031-W01", "last_week": "2031-W01", "minimum": 2, "planned": 1}] * 521},
            "spans",
        ),
    ],
)
def test_a_deficit_that_is_none_or_unbounded_is_refused(change: dict[str, Any], complaint: str) -> None:
    with pytest.raises(InvalidEvent) as exc:
        decode_event(json.dumps(detected(**change)))
    assert complaint in str(exc.value)


def test_a_message_longer_than_its_limit_is_shortened_so_the_matcher_never_fails_on_its_own_sentence() -> None:
    event = decode_event(json.dumps(detected(message="x" * 5000)))
    assert isinstance(event, SeatDeficitDetected)
    assert len(event.data.message) == 2000 and event.data.message.endswith("…")


def test_the_span_limit_is_the_documented_one() -> None:
    assert MAX_DEFICIT_SPANS == 520


def test_a_plan_that_does_not_say_it_is_complete_is_not() -> None:
    # A PlanPublished of version 1 written before the field existed still validates, and is not complete.
    old = {
        "type": "PlanPublished",
        "id": "p-1",
        "time": "2031-01-06T08:00:00Z",
        "subject": "N1",
        "data": {
            "plan_version": 1,
            "objective": 10,
            "learners": 1,
            "assignments": 1,
            "shortfalls": 0,
            "solver": "repair",
            "solve_seconds": 0.1,
        },
    }
    event = decode_event(json.dumps(old))
    assert isinstance(event, PlanPublished)
    assert event.schemaversion == 1
    assert (event.data.complete, event.data.deficits, event.data.deficit_weeks) == (False, 0, 0)
