"""Seat deficits become one payload per firm x module; only new, changed and vanished ones are announced."""

from __future__ import annotations

from typing import Any

from verbund_matcher.planning.model import SeatDeficit
from verbund_matcher.service.deficits import (
    changes,
    deficit_payloads,
    detected_event,
    resolved_event,
)
from verbund_schemas import MAX_DEFICIT_SPANS, SeatDeficitDetected, SeatDeficitResolved, decode_event, week_at

NETWORK = "N-PLAST"
ORIGIN = "2031-W01"
FIRMS = {"F1": "Spritzguss Meier"}
MODULES = {"CNC": "CNC-Fräsen", "LAS": "Laserschweißen"}


def payloads(*deficits: SeatDeficit) -> dict[str, dict[str, Any]]:
    return deficit_payloads(
        NETWORK,
        deficits,
        firm_name=lambda f: FIRMS.get(f, f),
        module_name=lambda m: MODULES.get(m, m),
        label=lambda i: week_at(ORIGIN, i),
    )


def weeks(firm: str, module: str, first: int, last: int, required: int, assigned: int) -> list[SeatDeficit]:
    return [SeatDeficit(firm, module, w, required, assigned) for w in range(first, last + 1)]


def test_consecutive_weeks_with_the_same_counts_become_one_span_and_others_their_own() -> None:
    found = payloads(*weeks("F1", "CNC", 0, 2, 3, 1), *weeks("F1", "CNC", 3, 3, 3, 2), *weeks("F1", "CNC", 6, 6, 3, 1))
    (payload,) = found.values()
    assert payload["spans"] == [
        {"first_week": "2031-W01", "last_week": "2031-W03", "minimum": 3, "planned": 1},
        {"first_week": "2031-W04", "last_week": "2031-W04", "minimum": 3, "planned": 2},
        {"first_week": "2031-W07", "last_week": "2031-W07", "minimum": 3, "planned": 1},
    ]
    assert payload["missing_learner_weeks"] == 3 * 2 + 1 + 2
    assert (payload["firm_name"], payload["module_name"]) == ("Spritzguss Meier", "CNC-Fräsen")
    assert "2031-W01 and 2031-W07" in payload["message"] and "would not run" in payload["message"]


def test_a_new_deficit_is_detected_and_nothing_resolved() -> None:
    now = payloads(*weeks("F1", "CNC", 0, 1, 2, 1))
    found = changes(now, {})
    assert found.detected == list(now) and found.resolved == [] and found.any


def test_unchanged_deficits_announce_nothing() -> None:
    before = payloads(*weeks("F1", "CNC", 0, 1, 2, 1), *weeks("F1", "LAS", 4, 9, 4, 0))
    again = payloads(*weeks("F1", "LAS", 4, 9, 4, 0), *weeks("F1", "CNC", 0, 1, 2, 1))
    found = changes(again, before)
    assert (found.detected, found.resolved, found.any) == ([], [], False)


def test_changed_weeks_of_one_cell_are_detected_again_and_the_other_cell_stays_quiet() -> None:
    before = payloads(*weeks("F1", "CNC", 0, 1, 2, 1), *weeks("F1", "LAS", 4, 9, 4, 0))
    now = payloads(*weeks("F1", "CNC", 0, 0, 2, 1), *weeks("F1", "LAS", 4, 9, 4, 0))
    found = changes(now, before)
    (cnc,) = found.detected
    assert now[cnc]["module_id"] == "CNC" and now[cnc]["spans"][0]["last_week"] == "2031-W01"
    assert found.resolved == []


def test_a_cell_whose_weeks_all_meet_the_minimum_is_resolved() -> None:
    before = payloads(*weeks("F1", "CNC", 0, 1, 2, 1), *weeks("F1", "LAS", 4, 9, 4, 0))
    now = payloads(*weeks("F1", "LAS", 4, 9, 4, 0))
    found = changes(now, before)
    assert found.detected == []
    (gone,) = found.resolved
    assert before[gone]["module_id"] == "CNC"


def test_announcements_are_valid_events_that_survive_the_wire() -> None:
    payload = next(iter(payloads(*weeks("F1", "CNC", 0, 1, 2, 1)).values()))
    detected = detected_event(NETWORK, payload, 4, "verbund-matcher")
    resolved = resolved_event(NETWORK, payload, 5, "verbund-matcher")
    assert decode_event(detected.model_dump_json()) == detected
    assert decode_event(resolved.model_dump_json()) == resolved
    assert isinstance(detected, SeatDeficitDetected) and detected.data.plan_version == 4
    assert isinstance(resolved, SeatDeficitResolved) and resolved.data.deficit_id == payload["deficit_id"]
    assert "no longer below its minimum" in resolved.data.message


def test_a_cell_with_more_spans_than_an_event_holds_keeps_the_first_and_counts_the_rest() -> None:
    # Every other week below the minimum: as many spans as weeks with a deficit.
    scattered = [SeatDeficit("F1", "CNC", 2 * i, 2, 1) for i in range(MAX_DEFICIT_SPANS + 3)]
    payload = next(iter(payloads(*scattered).values()))
    assert len(payload["spans"]) == MAX_DEFICIT_SPANS and payload["spans_omitted"] == 3
    assert payload["missing_learner_weeks"] == MAX_DEFICIT_SPANS + 3
    event = detected_event(NETWORK, payload, 1, "verbund-matcher")
    assert len(event.model_dump_json()) < 1_000_000  # fits a Kafka record of the default size
