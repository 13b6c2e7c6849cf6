"""Every contract is bounded, its JSON Schema states the same bounds, and an event states its own identity."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import types
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
import pytest
from pydantic import BaseModel
from verbund_schemas import (
    ALL_TYPES,
    INBOUND_TYPES,
    MAX_ORIGINAL_BYTES,
    CapacityOffered,
    EventRejected,
    InvalidEvent,
    LearnerRegistered,
    NetworkConfigured,
    WeekHorizon,
    decode_event,
    encode_event,
    weeks_outside,
)
from verbund_schemas.envelope import MAX_EMAIL_LENGTH, MAX_TIME_LENGTH
from verbund_schemas.weeks import MAX_WEEK_LENGTH

TIME = "2027-01-04T08:00:00Z"


def offer(**data: Any) -> dict[str, Any]:
    return {
        "type": "CapacityOffered",
        "id": "o-1",
        "time": TIME,
        "subject": "net-1",
        "data": {
            "offer_id": "o-1",
            "firm_id": "f-1",
            "module_id": "cnc",
            "first_week": "2027-W10",
            "last_week": "2027-W35",
            "max_seats": 2,
            **data,
        },
    }


def learner(**data: Any) -> dict[str, Any]:
    return {
        "type": "LearnerRegistered",
        "id": "l-1",
        "time": TIME,
        "subject": "net-1",
        "data": {
            "learner_id": "azubi-1",
            "name": "Lena Wolf",
            "contact": {"name": "Lena Wolf", "email": "lena@example.org"},
            "curriculum_id": "vm",
            "first_week": "2027-W01",
            "last_week": "2029-W30",
            **data,
        },
    }


# ------------------------------------------------------------------ the JSON Schema states the models' bounds

_KEYWORDS = {
    "string": {annotated_types.MaxLen: "maxLength", annotated_types.MinLen: "minLength"},
    "array": {annotated_types.MaxLen: "maxItems", annotated_types.MinLen: "minItems"},
    "object": {annotated_types.MaxLen: "maxProperties", annotated_types.MinLen: "minProperties"},
    "number": {
        annotated_types.Ge: "minimum",
        annotated_types.Le: "maximum",
        annotated_types.Gt: "exclusiveMinimum",
        annotated_types.Lt: "exclusiveMaximum",
    },
}


def _bound_value(constraint: Any) -> Any:
    for attribute in ("max_length", "min_length", "ge", "le", "gt", "lt"):
        if hasattr(constraint, attribute):
            return getattr(constraint, attribute)
    raise AssertionError(constraint)


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return _resolve(defs[ref.removeprefix("#/$defs/")], defs) if ref else node


def _mismatches(
    annotation: Any, metadata: list[Any], node: dict[str, Any], defs: dict[str, Any], path: str
) -> list[str]:
    """Where a bound of the model (annotation + metadata) is missing from, or differs in, the JSON Schema `node`."""
    node = _resolve(node, defs)
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        return _mismatches(inner, [*extra, *metadata], node, defs, path)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        branches = [b for b in node.get("anyOf", [node]) if b.get("type") != "null"]
        if len(options) == 1 and len(branches) == 1:
            return _mismatches(options[0], metadata, branches[0], defs, path)
        return []  # unions of events are checked through their members
    kind = {list: "array", dict: "object", str: "string", int: "number", float: "number"}.get(origin or annotation)
    problems = []
    if kind is not None:
        for constraint in metadata:
            keyword = _KEYWORDS[kind].get(type(constraint))
            if keyword is not None and node.get(keyword) != _bound_value(constraint):
                problems.append(f"{path}: model has {keyword}={_bound_value(constraint)}, schema {node.get(keyword)}")
    if origin is list:
        (item,) = get_args(annotation)
        problems += _mismatches(item, [], node["items"], defs, f"{path}[]")
    elif origin is dict:
        key, value = get_args(annotation)
        values = node.get("additionalProperties") or next(iter(node["patternProperties"].values()))
        problems += _mismatches(value, [], values, defs, f"{path}{{}}")
        problems += _mismatches(key, [], node.get("propertyNames", {"type": "string"}), defs, f"{path}{{key}}")
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            problems += _mismatches(
                info.annotation, list(info.metadata), node["properties"][name], defs, f"{path}.{name}"
            )
    return problems


@pytest.mark.parametrize("cls", ALL_TYPES, ids=lambda c: c.EVENT_TYPE)
def test_the_json_schema_states_every_bound_the_model_enforces(cls: type[BaseModel]) -> None:
    schema = cls.model_json_schema(mode="validation")
    assert _mismatches(cls, [], schema, schema.get("$defs", {}), cls.__name__) == []


def _unbounded(node: Any, path: str) -> list[str]:
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in _unbounded(item, f"{path}[{i}]")]
    if not isinstance(node, dict):
        return []
    problems = []
    kind = node.get("type")
    if kind == "string" and "maxLength" not in node and "const" not in node and "enum" not in node:
        problems.append(f"{path}: a string without maxLength")
    if kind == "array" and "maxItems" not in node:
        problems.append(f"{path}: a list without maxItems")
    is_map = isinstance(node.get("additionalProperties"), dict) or "patternProperties" in node
    if kind == "object" and is_map and "maxProperties" not in node:
        problems.append(f"{path}: a map without maxProperties")
    for key, value in node.items():
        if key not in ("examples", "default"):
            problems += _unbounded(value, f"{path}.{key}")
    return problems


@pytest.mark.parametrize("cls", ALL_TYPES, ids=lambda c: c.EVENT_TYPE)
def test_every_string_list_and_map_of_every_contract_is_bounded(cls: type[BaseModel]) -> None:
    assert _unbounded(cls.model_json_schema(mode="validation"), cls.__name__) == []


@pytest.mark.parametrize("cls", ALL_TYPES, ids=lambda c: c.EVENT_TYPE)
def test_the_schema_lists_identity_type_subject_and_data_as_required(cls: type[BaseModel]) -> None:
    schema = cls.model_json_schema(mode="validation")
    assert {"id", "time", "type", "subject", "data"} <= set(schema["required"])
    assert "default" not in schema["properties"]["id"] and "default" not in schema["properties"]["time"]


def test_email_week_and_time_are_bounded_in_the_schema_and_refused_beyond_it() -> None:
    properties = LearnerRegistered.model_json_schema()["$defs"]
    assert properties["Contact"]["properties"]["email"]["anyOf"][0]["maxLength"] == MAX_EMAIL_LENGTH
    assert properties["LearnerData"]["properties"]["first_week"]["maxLength"] == MAX_WEEK_LENGTH
    assert LearnerRegistered.model_json_schema()["properties"]["time"]["maxLength"] == MAX_TIME_LENGTH

    long_email = "a" * (MAX_EMAIL_LENGTH - len("@example.org") + 1) + "@example.org"
    long_week = "2027-W10" + " " * (MAX_WEEK_LENGTH - 7)
    for bad in (
        learner(contact={"name": "Lena", "email": long_email}),
        learner(first_week=long_week),
        {**learner(), "time": TIME + " " * (MAX_TIME_LENGTH - len(TIME) + 1)},
    ):
        with pytest.raises(InvalidEvent):
            decode_event(json.dumps(bad), INBOUND_TYPES)
    # At the limit itself, the week still reads.
    assert decode_event(json.dumps(learner(first_week=" 2027-W01 ")), INBOUND_TYPES).data.first_week == "2027-W01"  # type: ignore[attr-defined]


def test_a_huge_value_is_refused_without_being_repeated_in_the_reason() -> None:
    huge = "x" * 900_000
    with pytest.raises(InvalidEvent) as exc:
        decode_event(json.dumps(learner(contact={"name": "Lena", "email": huge}, first_week=huge)), INBOUND_TYPES)
    text = str(exc.value)
    assert "data.contact.email" in text and "data.first_week" in text
    assert len(text) < 2000


# ------------------------------------------------------------------ identity


@pytest.mark.parametrize("missing", ["id", "time"])
def test_an_event_without_its_own_id_or_time_is_refused_with_a_reason(missing: str) -> None:
    raw = {k: v for k, v in offer().items() if k != missing}
    with pytest.raises(InvalidEvent) as exc:
        decode_event(json.dumps(raw), INBOUND_TYPES)
    assert f"{missing}: Field required" in exc.value.errors
    assert "every event states its own id" in exc.value.reason


def test_an_outbound_event_read_from_the_wire_needs_its_id_too() -> None:
    made = {"type": "PlanPublished", "time": TIME, "subject": "n", "data": {}}
    with pytest.raises(InvalidEvent) as exc:
        decode_event(json.dumps(made))
    assert "id: Field required" in exc.value.errors


def test_the_same_record_decoded_twice_has_the_same_id() -> None:
    raw = json.dumps(offer()).encode()
    assert decode_event(raw).id == decode_event(raw).id == "o-1"


# ------------------------------------------------------------------ plausible weeks


@pytest.mark.parametrize(("field", "week"), [("first_week", "1900-W01"), ("last_week", "9999-W52")])
def test_a_week_outside_the_horizon_is_named_with_its_field_and_the_allowed_range(field: str, week: str) -> None:
    event = decode_event(
        json.dumps(
            offer(
                **{field: week}, **({"first_week": "2027-W01"} if field == "last_week" else {"last_week": "2027-W30"})
            )
        )
    )
    horizon = WeekHorizon.around(dt.date(2026, 11, 30), years_back=5, years_ahead=10)
    assert (horizon.first, horizon.last) == ("2021-W48", "2036-W48")
    assert weeks_outside(event, horizon) == [
        f"data.{field}: {week} is outside the weeks this network plans, 2021-W48 to 2036-W48"
    ]


def test_weeks_in_nested_spans_are_checked_too() -> None:
    event = decode_event(json.dumps(learner(unavailable=[{"first_week": "2027-W10", "last_week": "2099-W10"}])))
    horizon = WeekHorizon.around(dt.date(2026, 11, 30), years_back=5, years_ahead=10)
    assert [line.split(":")[0] for line in weeks_outside(event, horizon)] == ["data.unavailable.0.last_week"]
    assert weeks_outside(decode_event(json.dumps(learner())), horizon) == []


def test_a_network_may_state_its_own_horizon() -> None:
    raw = {
        "type": "NetworkConfigured",
        "id": "n-1",
        "time": TIME,
        "subject": "net-1",
        "data": {"name": "Verbund", "week_horizon_years_back": 1, "week_horizon_years_ahead": 20},
    }
    event = decode_event(json.dumps(raw))
    assert isinstance(event, NetworkConfigured)
    assert (event.data.week_horizon_years_back, event.data.week_horizon_years_ahead) == (1, 20)


# ------------------------------------------------------------------ rejections stay small


def test_the_rejection_of_a_huge_record_is_small_and_says_how_big_the_original_was() -> None:
    raw = json.dumps(offer(colour="ä" * 450_000)).encode()
    rejected = EventRejected.of_record(
        service="matcher",
        topic="verbund.inbound",
        partition=0,
        offset=9,
        key="k" * 10_000,
        raw=raw,
        reason="r" * 100_000,
        errors=["e" * 100_000] * 1000,
        event_id="i" * 100_000,
        event_type="t" * 100_000,
    )
    wire = encode_event(rejected)
    assert len(wire) < 64 * 1024
    data = rejected.data
    assert data.original_size == len(raw) and data.original_truncated
    assert data.original_sha256 == hashlib.sha256(raw).hexdigest()
    assert base64.b64decode(data.original_base64) == raw[:MAX_ORIGINAL_BYTES]
    assert data.original_text is not None and raw.decode().startswith(data.original_text)
    assert decode_event(wire) == rejected


def test_a_small_record_is_carried_whole() -> None:
    rejected = EventRejected.of_record(
        service="matcher", topic="t", partition=0, offset=1, key="net-1", raw=b"{oops}", reason="not JSON"
    )
    assert not rejected.data.original_truncated and rejected.data.original_text == "{oops}"


def test_a_record_above_the_size_limit_is_refused_before_it_is_read() -> None:
    raw = json.dumps(offer(colour="x" * 2000)).encode()
    with pytest.raises(InvalidEvent) as exc:
        decode_event(raw, INBOUND_TYPES, max_bytes=1024)
    assert f"the record is {len(raw)} bytes; an event may have at most 1024 bytes" in exc.value.reason
    assert exc.value.event_id is None  # not even the id was read
    assert isinstance(decode_event(raw, INBOUND_TYPES, max_bytes=len(raw)), CapacityOffered)


# ------------------------------------------------------------------ tolerant readers


def test_fields_a_newer_producer_added_are_accepted_and_kept() -> None:
    raw = offer(shift="early")
    raw["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    event = decode_event(json.dumps(raw), INBOUND_TYPES)
    assert isinstance(event, CapacityOffered) and event.data.max_seats == 2
    again = json.loads(encode_event(event))
    assert again["traceparent"] == raw["traceparent"] and again["data"]["shift"] == "early"


def test_what_stays_strict_for_a_tolerant_reader() -> None:
    for bad in (
        {**offer(), "type": "CapacityOffered2"},  # an unknown type is never guessed
        {**offer(), "schemaversion": 2},  # a newer major version is refused
        offer(max_seats="many"),  # a known field keeps its type
        {k: v for k, v in offer().items() if k != "subject"},  # required stays required
    ):
        with pytest.raises(InvalidEvent):
            decode_event(json.dumps(bad), INBOUND_TYPES)
