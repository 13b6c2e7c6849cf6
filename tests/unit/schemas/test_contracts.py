"""The event contracts: wire round trips, readable rejections, and committed JSON Schema files kept current."""

from __future__ import annotations

import base64
import json

import pytest
from verbund_schemas import (
    ALL_TYPES,
    INBOUND_TYPES,
    CapacityOffered,
    InvalidEvent,
    decode_event,
    encode_event,
    load_topics,
    week_index,
)
from verbund_schemas.generate import JSON_DIR, render_json_schemas

CURRICULUM = {
    "type": "CurriculumPublished",
    "id": "c-1",
    "time": "2027-01-04T08:00:00Z",
    "subject": "net-1",
    "data": {
        "curriculum_id": "vm-kunststoff",
        "name": "Verfahrensmechaniker",
        "modules": [
            {"module_id": "spritzguss", "name": "Spritzgießen", "duration_weeks": 12, "priority": 2},
            {"module_id": "extrusion", "name": "Extrusion", "duration_weeks": 8},
        ],
        "groups": [
            {"group_id": "pflicht", "name": "Pflicht", "module_ids": ["spritzguss", "extrusion"], "required": 2}
        ],
        "precedence": [{"module_id": "extrusion", "requires": "spritzguss"}],
    },
}
OFFER = {
    "type": "CapacityOffered",
    "id": "o-1",
    "time": "2027-01-04T08:00:00Z",
    "subject": "net-1",
    "data": {
        "offer_id": "o-1",
        "firm_id": "f-1",
        "module_id": "spritzguss",
        "first_week": "2027-W10",
        "last_week": "2027-W35",
        "max_seats": 2,
    },
}


def test_every_event_type_has_a_committed_json_schema_that_is_current() -> None:
    rendered = render_json_schemas()
    assert set(rendered) == {f"{t.EVENT_TYPE}.json" for t in ALL_TYPES}
    stale = [name for name, text in rendered.items() if (JSON_DIR / name).read_text(encoding="utf-8") != text]
    assert not stale, f"run `make docs`: these files are stale: {stale}"


def test_an_event_survives_the_wire_unchanged() -> None:
    event = decode_event(json.dumps(OFFER).encode())
    assert isinstance(event, CapacityOffered)
    again = decode_event(encode_event(event))
    assert again == event
    assert again.id == event.id and again.specversion == "1.0" and again.schemaversion == 1


def test_a_date_is_accepted_where_a_week_is_expected_and_becomes_its_iso_week() -> None:
    raw = json.loads(json.dumps(OFFER))
    raw["data"]["first_week"] = "2027-03-10"  # a Wednesday in week 10
    event = decode_event(json.dumps(raw))
    assert isinstance(event, CapacityOffered)
    assert event.data.first_week == "2027-W10"


def test_curriculum_with_precedence_and_groups_is_valid() -> None:
    event = decode_event(json.dumps(CURRICULUM))
    assert event.type == "CurriculumPublished"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"subject": "n"}', "has no 'type'"),
        (b'{"type": "Nonsense", "subject": "n"}', "unknown event type 'Nonsense'"),
    ],
)
def test_undecodable_bytes_are_rejected_with_a_reason(raw: bytes, expected: str) -> None:
    with pytest.raises(InvalidEvent) as exc:
        decode_event(raw, INBOUND_TYPES)
    assert expected in exc.value.reason


def test_schema_violations_name_each_field_and_what_is_wrong() -> None:
    raw = json.loads(json.dumps(OFFER))
    raw["data"].update({"max_seats": 0, "first_week": "2027-W53"})
    with pytest.raises(InvalidEvent) as exc:
        decode_event(json.dumps(raw))
    errors = "\n".join(exc.value.errors)
    assert exc.value.event_type == "CapacityOffered"
    assert "data.max_seats" in errors
    assert "2027 has weeks 01 to 52" in errors


def test_min_seats_above_max_seats_is_rejected() -> None:
    raw = json.loads(json.dumps(OFFER))
    raw["data"].update({"min_seats": 3, "max_seats": 2})
    with pytest.raises(InvalidEvent) as exc:
        decode_event(json.dumps(raw))
    assert "min_seats 3 is more than max_seats 2" in str(exc.value)


def test_outbound_types_are_refused_where_only_inbound_ones_belong() -> None:
    raw = {"type": "PlanPublished", "id": "p", "time": "2027-01-04T08:00:00Z", "subject": "n", "data": {}}
    with pytest.raises(InvalidEvent) as exc:
        decode_event(json.dumps(raw), INBOUND_TYPES)
    assert "unknown event type 'PlanPublished' here" in exc.value.reason


def test_a_curriculum_naming_unknown_modules_is_rejected() -> None:
    raw = json.loads(json.dumps(CURRICULUM))
    raw["data"]["groups"][0]["module_ids"].append("ghost")
    with pytest.raises(InvalidEvent) as exc:
        decode_event(json.dumps(raw))
    assert "unknown modules: ghost" in str(exc.value)


def test_week_index_counts_across_year_boundaries() -> None:
    assert week_index("2027-W01", "2026-W52") == 2  # 2026 has 53 ISO weeks
    assert week_index("2027-W10", "2027-W10") == 0


def test_every_event_type_is_on_exactly_one_topic_and_keys_are_network_ids() -> None:
    topics = load_topics()
    placed = [e for t in topics.values() for e in t.events]
    assert sorted(placed) == sorted(t.EVENT_TYPE for t in ALL_TYPES)
    assert {t.key for t in topics.values()} == {"network_id"}


def test_a_rejection_keeps_the_exact_bytes_and_files_junk_keys_under_unknown() -> None:
    from verbund_schemas import EventRejected

    junk = EventRejected.of_record(
        service="notifier", topic="t", partition=0, offset=7, key="not a network!", raw=b"\xff  {", reason="r"
    )
    assert junk.subject == "unknown"
    assert junk.data.original_text is None
    assert base64.b64decode(junk.data.original_base64) == b"\xff  {"

    keyed = EventRejected.of_record(
        service="matcher", topic="t", partition=1, offset=8, key="net-1", raw=b"  {oops} \n", reason="r"
    )
    assert keyed.subject == "net-1" and keyed.source == "verbund-matcher"
    assert keyed.data.original_text == "  {oops} \n"
