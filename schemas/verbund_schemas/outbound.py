"""Outbound events: what the matcher publishes about plans, assignments and what is missing."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from .envelope import Contract, Day, Envelope, Id, Label, Name, Sentence, shortened
from .weeks import IsoWeek, week_index


class AssignmentData(Contract):
    """One phase of a learner's rotation: `module` at `firm` from `start_week` through `end_week`."""

    assignment_id: Id = Field(description="Stable across changes: derived from network, learner and module")
    learner_id: Id
    learner_name: Name
    module_id: Id
    module_name: Name
    firm_id: Id
    firm_name: Name
    start_week: IsoWeek
    end_week: IsoWeek = Field(description="Last week of the phase (inclusive)")
    start_date: Day = Field(description="Monday of start_week")
    end_date: Day = Field(description="Sunday of end_week")
    plan_version: int = Field(ge=1)
    frozen: bool = Field(default=False, description="Started or within the notice period: will not move")


class AssignmentMade(Envelope):
    EVENT_TYPE: ClassVar[str] = "AssignmentMade"
    type: Literal["AssignmentMade"] = "AssignmentMade"
    data: AssignmentData


class ChangeReason(StrEnum):
    """Why an assignment changed or was cancelled, as a code a reader words in its own language."""

    LEARNER_CHANGED = "learner_changed"  # the learner's own data changed (window, school weeks, preferences)
    LEARNER_WITHDRAWN = "learner_withdrawn"  # the learner left the network
    FIRM_CHANGED = "firm_changed"  # the host firm's data changed
    FIRM_LEFT = "firm_left"  # the host firm left the network
    OFFER_WITHDRAWN = "offer_withdrawn"  # an offer for this module was withdrawn
    OFFER_CHANGED = "offer_changed"  # an offer for this module changed (weeks, seats)
    OFFER_ADDED = "offer_added"  # a new offer for this module made a better placement possible
    POLICY_CHANGED = "policy_changed"  # the network's rules changed
    CURRICULUM_CHANGED = "curriculum_changed"  # the curriculum changed
    ROOM_FOR_OTHERS = "room_for_others"  # moved to make room after changes elsewhere in the network
    REOPTIMISED = "reoptimised"  # a re-optimisation of the whole network found a better plan
    NO_LONGER_PLACEABLE = "no_longer_placeable"  # the module cannot be placed any more (see the shortfall)
    REVISED = "revised"  # the plan was revised, no single cause


def _known_reason(value: object) -> object:
    # Tolerant reader (ADR 0002): a code from a newer producer is not an error; the sentence still says why.
    if isinstance(value, str) and value not in ChangeReason._value2member_map_:
        return None
    return value


ReasonCode = Annotated[
    ChangeReason | None,
    BeforeValidator(_known_reason),
    Field(
        default=None,
        description="Why, as a code (the `reason` sentence is English); absent from older producers, and unknown "
        "codes read as absent",
    ),
]


class PreviousAssignment(Contract):
    firm_id: Id
    firm_name: Name
    start_week: IsoWeek
    end_week: IsoWeek


class AssignmentChangedData(AssignmentData):
    previous: PreviousAssignment
    reason: Sentence = Field(description="Why it changed, in a sentence")
    reason_code: ReasonCode = None


class AssignmentChanged(Envelope):
    EVENT_TYPE: ClassVar[str] = "AssignmentChanged"
    type: Literal["AssignmentChanged"] = "AssignmentChanged"
    data: AssignmentChangedData


class AssignmentCancelledData(AssignmentData):
    reason: Sentence = Field(description="Why it was cancelled, in a sentence")
    reason_code: ReasonCode = None


class AssignmentCancelled(Envelope):
    EVENT_TYPE: ClassVar[str] = "AssignmentCancelled"
    type: Literal["AssignmentCancelled"] = "AssignmentCancelled"
    data: AssignmentCancelledData


MAX_CAUSES = 20
"""Most inbound events one PlanPublished names as its cause; `caused_by_count` says how many there were."""


class InboundCause(Contract):
    """An inbound event applied in the batch whose replan produced a plan version."""

    event_id: Id
    type: Label = Field(description="The inbound event's type, e.g. CapacityWithdrawn")


def _first_causes(value: object) -> object:
    # A batch may apply hundreds of events; the record stays small and the count says how many there were.
    return value[:MAX_CAUSES] if isinstance(value, list) else value


class PlanPublishedData(Contract):
    plan_version: int = Field(ge=1)
    objective: int
    bound: int | None = Field(default=None, description="Best bound the solver proved; None if unknown")
    learners: int = Field(ge=0)
    assignments: int = Field(ge=0)
    shortfalls: int = Field(ge=0)
    made: int = Field(default=0, ge=0)
    changed: int = Field(default=0, ge=0)
    cancelled: int = Field(default=0, ge=0)
    solver: Label = Field(description="Which solver produced the plan, e.g. repair, cpsat, lns")
    solve_seconds: float = Field(ge=0)
    # Added after version 1 was published: optional, and a plan that does not say it is complete is not.
    complete: bool = Field(
        default=False,
        description="True only when the plan meets every hard rule: no week below a minimum, no unplaced requirement",
    )
    deficits: int = Field(default=0, ge=0, description="Firm x module pairs with weeks below their minimum")
    deficit_weeks: int = Field(default=0, ge=0, description="Firm x module x weeks below their minimum")
    missing_learner_weeks: int = Field(
        default=0, ge=0, description="Learners missing to reach every minimum, summed over the deficit weeks"
    )
    # Added after version 1 was published: optional; empty from older producers and for the plans the scheduled
    # re-optimisation publishes, which no inbound event caused.
    caused_by: Annotated[list[InboundCause], BeforeValidator(_first_causes)] = Field(
        default_factory=list,
        max_length=MAX_CAUSES,
        description="The inbound events (the first ones, in the order they were applied) of the batch whose replan "
        "produced this version; empty when the scheduled re-optimisation did",
    )
    caused_by_count: int = Field(
        default=0,
        ge=0,
        description="How many inbound events that batch applied to the network (caused_by names the first ones)",
    )


class PlanPublished(Envelope):
    """A network's plan has a new version; the assignment events of that version precede it."""

    EVENT_TYPE: ClassVar[str] = "PlanPublished"
    type: Literal["PlanPublished"] = "PlanPublished"
    data: PlanPublishedData


MAX_COMPETING = 200
"""Most competing learners one shortfall names; the sentence says how many there are."""

MAX_SUGGESTIONS = 50


def shortened_list(limit: int) -> BeforeValidator:
    """Keep the first `limit` items of a list the matcher writes, instead of failing on a longer one."""
    return BeforeValidator(lambda value: value[:limit] if isinstance(value, list) else value)


class ShortfallReason(StrEnum):
    NO_OFFER = "no_offer"  # no firm offers the module inside the learner's window
    ELIGIBILITY = "eligibility"  # offers exist, but only at firms the learner may not attend
    AVAILABILITY = "availability"  # offers exist, but not for enough consecutive available weeks
    PRECEDENCE = "precedence"  # the module's prerequisite cannot be placed before it
    CONTENTION = "contention"  # seats exist but other learners hold them
    FIRM_LIMIT = "firm_limit"  # the per-firm module limit leaves no firm
    MIN_SEATS = "min_seats"  # the offer only runs with a larger group than can be formed


class SeatSuggestion(Contract):
    """Extra capacity that would resolve the shortfall."""

    firm_id: Id | None = Field(default=None, description="None: any firm")
    module_id: Id
    first_week: IsoWeek
    last_week: IsoWeek
    seats: int = Field(ge=1)


class ShortfallData(Contract):
    shortfall_id: Id = Field(description="Stable: derived from network, learner and group/module")
    learner_id: Id
    learner_name: Name
    group_id: Id
    module_id: Id | None = Field(default=None, description="The module that could not be placed, if one")
    missing: int = Field(ge=1, description="How many modules of the group are unmet")
    reason: ShortfallReason
    message: Sentence = Field(description="A sentence a coordinator understands")
    competing_learners: Annotated[list[Id], shortened_list(MAX_COMPETING)] = Field(
        default_factory=list, max_length=MAX_COMPETING, description=f"The first {MAX_COMPETING} at most"
    )
    suggestions: Annotated[list[SeatSuggestion], shortened_list(MAX_SUGGESTIONS)] = Field(
        default_factory=list, max_length=MAX_SUGGESTIONS
    )
    plan_version: int = Field(ge=1)


class ShortfallDetected(Envelope):
    EVENT_TYPE: ClassVar[str] = "ShortfallDetected"
    type: Literal["ShortfallDetected"] = "ShortfallDetected"
    data: ShortfallData


class ShortfallResolvedData(Contract):
    shortfall_id: Id
    learner_id: Id
    group_id: Id
    module_id: Id | None = None
    plan_version: int = Field(ge=1)
    message: Sentence = ""


class ShortfallResolved(Envelope):
    EVENT_TYPE: ClassVar[str] = "ShortfallResolved"
    type: Literal["ShortfallResolved"] = "ShortfallResolved"
    data: ShortfallResolvedData


MAX_DEFICIT_SPANS = 520
"""Most spans one SeatDeficitDetected lists (ten years of weeks whose counts all differ); the rest are counted."""


class DeficitSpan(Contract):
    """Consecutive weeks of one firm x module with the same minimum and the same planned number of learners."""

    first_week: IsoWeek
    last_week: IsoWeek = Field(description="Last week of the span (inclusive)")
    minimum: int = Field(ge=1, le=10_000, description="The offers' min_seats in these weeks")
    planned: int = Field(ge=0, le=10_000, description="Learners the plan puts there in these weeks")

    @model_validator(mode="after")
    def _below_minimum(self) -> DeficitSpan:
        if week_index(self.last_week, self.first_week) < 0:
            raise ValueError(f"last_week {self.last_week} is before first_week {self.first_week}")
        if self.planned >= self.minimum:
            raise ValueError(f"planned {self.planned} is not below minimum {self.minimum}: no deficit")
        return self

    @property
    def weeks(self) -> int:
        return week_index(self.last_week, self.first_week) + 1

    @property
    def missing_learner_weeks(self) -> int:
        return self.weeks * (self.minimum - self.planned)


class SeatDeficitData(Contract):
    """Weeks in which a firm's offer for a module has fewer learners than its minimum: the workshop would not run.

    One event per network x firm x module; it lists every such week of the current plan, joined into spans.
    """

    deficit_id: Id = Field(description="Stable: derived from network, firm and module")
    firm_id: Id
    firm_name: Name
    module_id: Id
    module_name: Name
    spans: list[DeficitSpan] = Field(min_length=1, max_length=MAX_DEFICIT_SPANS, description="In week order")
    spans_omitted: int = Field(
        default=0, ge=0, description=f"Later spans left out to keep the event bounded ({MAX_DEFICIT_SPANS} at most)"
    )
    missing_learner_weeks: int = Field(ge=1, description="Learners missing per week, summed over every span")
    message: Sentence = Field(description="A sentence a coordinator understands")
    plan_version: int = Field(ge=1)


class SeatDeficitDetected(Envelope):
    """A firm x module has weeks below its minimum in the plan, or their set changed since the last such event."""

    EVENT_TYPE: ClassVar[str] = "SeatDeficitDetected"
    type: Literal["SeatDeficitDetected"] = "SeatDeficitDetected"
    data: SeatDeficitData


class SeatDeficitResolvedData(Contract):
    deficit_id: Id
    firm_id: Id
    firm_name: Name
    module_id: Id
    module_name: Name
    plan_version: int = Field(ge=1)
    message: Sentence = ""


class SeatDeficitResolved(Envelope):
    """Every week of a firm x module announced below its minimum now meets it (or has no minimum any more)."""

    EVENT_TYPE: ClassVar[str] = "SeatDeficitResolved"
    type: Literal["SeatDeficitResolved"] = "SeatDeficitResolved"
    data: SeatDeficitResolvedData


MAX_ORIGINAL_BYTES = 4096
"""Most bytes of the rejected record a rejection carries: enough to see what was sent, small enough to publish."""

MAX_REJECTION_ERRORS = 20
MAX_ERROR_LENGTH = 300
MAX_REASON_LENGTH = 1000


class EventRejectedData(Contract):
    """An input that was not applied: where it was, its first bytes with the size and hash of all of them, and a
    reason a person can act on. Bounded, so that a rejection is always small enough to publish.
    """

    # The original text must arrive exactly as it was sent, surrounding white space included.
    model_config = ConfigDict(str_strip_whitespace=False)

    service: Label = Field(description="Which consumer rejected it")
    topic: str = Field(max_length=255)
    partition: int
    offset: int
    key: Annotated[str, shortened(128)] | None = Field(default=None, max_length=128)
    original_event_id: Annotated[str, shortened(128)] | None = Field(default=None, max_length=128)
    original_type: Annotated[str, shortened(64)] | None = Field(default=None, max_length=64)
    original_text: str | None = Field(
        default=None,
        max_length=MAX_ORIGINAL_BYTES,
        description=f"The original bytes as text, if they are UTF-8 (the first {MAX_ORIGINAL_BYTES} bytes at most)",
    )
    original_base64: str = Field(
        max_length=(MAX_ORIGINAL_BYTES + 2) // 3 * 4,
        description=f"The original bytes, base64 (the first {MAX_ORIGINAL_BYTES} at most)",
    )
    # Added within version 1: optional, so rejections published before them still read.
    original_size: int | None = Field(default=None, ge=0, description="Bytes of the whole original record")
    original_sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", max_length=64, description="SHA-256 of the whole original record"
    )
    original_truncated: bool = Field(default=False, description="True when only the first bytes are carried")
    reason: Annotated[str, shortened(MAX_REASON_LENGTH)] = Field(
        max_length=MAX_REASON_LENGTH, description="What is wrong and what to do about it"
    )
    errors: Annotated[
        list[Annotated[str, shortened(MAX_ERROR_LENGTH), Field(max_length=MAX_ERROR_LENGTH)]],
        shortened_list(MAX_REJECTION_ERRORS),
    ] = Field(
        default_factory=list,
        max_length=MAX_REJECTION_ERRORS,
        description=f"Each validation error: where and what (the first {MAX_REJECTION_ERRORS})",
    )


class EventRejected(Envelope):
    EVENT_TYPE: ClassVar[str] = "EventRejected"
    type: Literal["EventRejected"] = "EventRejected"
    data: EventRejectedData

    @classmethod
    def of_record(
        cls,
        *,
        service: str,
        topic: str,
        partition: int,
        offset: int,
        key: str | None,
        raw: bytes,
        reason: str,
        errors: Sequence[str] = (),
        event_id: str | None = None,
        event_type: str | None = None,
        network_id: str | None = None,
    ) -> EventRejected:
        """The rejection of one consumed Kafka record: its first bytes as text (when UTF-8) and as base64.

        The subject is the network id when one is known, else the key when it could be one, else "unknown":
        junk may carry no usable id at all, and the rejection must still be publishable.
        """
        kept = raw[:MAX_ORIGINAL_BYTES]
        subject = network_id or (key if key is not None and _ID.fullmatch(key) else None) or "unknown"
        return cls(
            source=f"verbund-{service}",
            subject=subject,
            data=EventRejectedData(
                service=service,
                topic=topic,
                partition=partition,
                offset=offset,
                key=key,
                original_event_id=event_id,
                original_type=event_type,
                original_text=_text_of(kept, truncated=len(raw) > len(kept)),
                original_base64=base64.b64encode(kept).decode("ascii"),
                original_size=len(raw),
                original_sha256=hashlib.sha256(raw).hexdigest(),
                original_truncated=len(raw) > len(kept),
                reason=reason,
                errors=list(errors),
            ),
        )


def _text_of(kept: bytes, *, truncated: bool) -> str | None:
    """The bytes as text if they are UTF-8; a cut through the last character is forgiven when they were cut."""
    try:
        return kept.decode("utf-8")
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(kept) - 3 and exc.reason == "unexpected end of data":
            return kept[: exc.start].decode("utf-8")
        return None


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
