"""Every event type by name, and decoding raw bytes into events with reasons a person can act on."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeAlias

from pydantic import Field, ValidationError

from .envelope import IDENTITY_FIELDS, Envelope
from .inbound import (
    CapacityChanged,
    CapacityOffered,
    CapacityWithdrawn,
    ContactErased,
    CurriculumPublished,
    FirmLeft,
    FirmRegistered,
    FirmUpdated,
    LearnerErased,
    LearnerPreferencesStated,
    LearnerRegistered,
    LearnerUpdated,
    LearnerWithdrawn,
    NetworkConfigured,
    PlacementAnswered,
)
from .notifications import NotificationDelivered, NotificationFailed
from .outbound import (
    AssignmentCancelled,
    AssignmentChanged,
    AssignmentMade,
    EventRejected,
    PlanPublished,
    SeatDeficitDetected,
    SeatDeficitResolved,
    ShortfallDetected,
    ShortfallResolved,
)
from .parked import OutboxReplayRequested

InboundEvent: TypeAlias = Annotated[
    NetworkConfigured
    | CurriculumPublished
    | FirmRegistered
    | FirmUpdated
    | FirmLeft
    | CapacityOffered
    | CapacityChanged
    | CapacityWithdrawn
    | LearnerRegistered
    | LearnerUpdated
    | LearnerWithdrawn
    | LearnerErased
    | ContactErased
    | LearnerPreferencesStated
    | PlacementAnswered,
    Field(discriminator="type"),
]

AssignmentEvent: TypeAlias = Annotated[
    AssignmentMade | AssignmentChanged | AssignmentCancelled | PlanPublished,
    Field(discriminator="type"),
]

# What the shortfalls topic carries: unmet requirements of learners and weeks below a firm's minimum.
ShortfallEvent: TypeAlias = Annotated[
    ShortfallDetected | ShortfallResolved | SeatDeficitDetected | SeatDeficitResolved,
    Field(discriminator="type"),
]

NotificationEvent: TypeAlias = Annotated[NotificationDelivered | NotificationFailed, Field(discriminator="type")]

INBOUND_TYPES: tuple[type[Envelope], ...] = (
    NetworkConfigured,
    CurriculumPublished,
    FirmRegistered,
    FirmUpdated,
    FirmLeft,
    CapacityOffered,
    CapacityChanged,
    CapacityWithdrawn,
    LearnerRegistered,
    LearnerUpdated,
    LearnerWithdrawn,
    LearnerErased,
    ContactErased,
    LearnerPreferencesStated,
    PlacementAnswered,
)
OUTBOUND_TYPES: tuple[type[Envelope], ...] = (
    AssignmentMade,
    AssignmentChanged,
    AssignmentCancelled,
    PlanPublished,
    ShortfallDetected,
    ShortfallResolved,
    SeatDeficitDetected,
    SeatDeficitResolved,
    EventRejected,
)
NOTIFICATION_TYPES: tuple[type[Envelope], ...] = (NotificationDelivered, NotificationFailed)
# What operators ask of a service through the parked topic.
OPERATOR_TYPES: tuple[type[Envelope], ...] = (OutboxReplayRequested,)
ALL_TYPES: tuple[type[Envelope], ...] = INBOUND_TYPES + OUTBOUND_TYPES + NOTIFICATION_TYPES + OPERATOR_TYPES
BY_NAME: dict[str, type[Envelope]] = {t.EVENT_TYPE: t for t in ALL_TYPES}


class InvalidEvent(ValueError):
    """Raised for bytes that are not a valid event; `reason` is a sentence, `errors` one line per problem."""

    def __init__(
        self,
        reason: str,
        errors: list[str] | None = None,
        event_id: str | None = None,
        event_type: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or []
        self.event_id = event_id
        self.event_type = event_type

    def __str__(self) -> str:
        if not self.errors:
            return self.reason
        return self.reason + "\n" + "\n".join(f"  - {e}" for e in self.errors)


DEFAULT_MAX_EVENT_BYTES = 256 * 1024
"""Default of VERBUND_MAX_EVENT_BYTES: the largest Kafka record value the services read as an event."""

_SHOWN_INPUT = 60
"""Characters of a wrong value repeated in a reason: enough to recognise it, never the whole payload."""


def shown(value: object) -> str:
    """A value as a reason may repeat it: its repr, cut short."""
    return _cut(repr(value), _SHOWN_INPUT)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def describe_validation_error(exc: ValidationError) -> list[str]:
    """One line per error: the field path and what is wrong with it."""
    lines = []
    for err in exc.errors(include_url=False):
        # A dict key of the payload is part of the path: cut it like any value a sender chose.
        path = ".".join(_cut(str(p), 40) for p in err["loc"] if not _is_union_tag(p)) or "(event)"
        given = err.get("input")
        detail = "" if isinstance(given, dict | list) or given is None else f" (got {shown(given)})"
        lines.append(f"{path}: {err['msg']}{detail}")
    return lines


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and part in BY_NAME


def load_event(obj: Any, allowed: tuple[type[Envelope], ...] = ALL_TYPES) -> Envelope:
    """Validate a decoded JSON object as one of the `allowed` event types."""
    if not isinstance(obj, dict):
        raise InvalidEvent(f"an event must be a JSON object, not {type(obj).__name__}")
    event_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    event_type = obj.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidEvent(
            "the event has no 'type'; set it to one of: " + ", ".join(t.EVENT_TYPE for t in allowed),
            event_id=event_id,
        )
    cls = BY_NAME.get(event_type)
    if cls is None or cls not in allowed:
        raise InvalidEvent(
            f"unknown event type {shown(event_type)} here; expected one of: "
            + ", ".join(t.EVENT_TYPE for t in allowed),
            event_id=event_id,
            event_type=event_type,
        )
    unstated = [f"{name}: Field required" for name in IDENTITY_FIELDS if obj.get(name) in (None, "")]
    try:
        event = cls.model_validate(obj)
    except ValidationError as exc:
        errors = describe_validation_error(exc)
        raise InvalidEvent(
            f"{event_type} event does not match its contract (schemas/json/{event_type}.json)"
            + (_IDENTITY_HINT if unstated else ""),
            [*(u for u in unstated if u not in errors), *errors],
            event_id=event_id,
            event_type=event_type,
        ) from exc
    if unstated:
        raise InvalidEvent(
            f"{event_type} event does not match its contract (schemas/json/{event_type}.json)" + _IDENTITY_HINT,
            unstated,
            event_id=event_id,
            event_type=event_type,
        )
    return event


_IDENTITY_HINT = (
    "; every event states its own id (unique in its network, the same when the producer sends it again) and the "
    "time it happened — `verbund publish` fills both in"
)


def check_size(raw: bytes | str, max_bytes: int) -> None:
    """Refuse a record larger than `max_bytes` before anything reads it (VERBUND_MAX_EVENT_BYTES)."""
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise InvalidEvent(
            f"the record is {size} bytes; an event may have at most {max_bytes} bytes (VERBUND_MAX_EVENT_BYTES): "
            "send large lists as several events, or raise the limit on every consumer"
        )


def decode_event(
    raw: bytes | str, allowed: tuple[type[Envelope], ...] = ALL_TYPES, max_bytes: int | None = None
) -> Envelope:
    """Decode wire bytes (one JSON object) into an event, or raise InvalidEvent saying why not.

    With `max_bytes`, a larger record is refused before it is decoded at all.
    """
    if max_bytes is not None:
        check_size(raw, max_bytes)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise InvalidEvent(f"the message is not UTF-8 text (byte {exc.start}); events are JSON") from exc
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidEvent(f"the message is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    return load_event(obj, allowed)


def encode_event(event: Envelope) -> bytes:
    """Wire form: compact UTF-8 JSON, readable by any Kafka client."""
    return event.model_dump_json(exclude_none=False).encode("utf-8")
