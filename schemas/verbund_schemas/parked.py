"""The parked topic's contract: header names of a parked record, replay markers, and the outbox replay request."""

from __future__ import annotations

from typing import Any, ClassVar, Final, Literal

from pydantic import Field

from .envelope import Contract, Envelope, EventId, Timestamp
from .outbound import MAX_ORIGINAL_BYTES


class ParkedHeader:
    """The headers of a parked record (docs/decisions/0003-parking-failed-records.md).

    Written by the matcher and the notifier when they park a record, read by `verbund parked list` and
    `replay`. The record's key is the original key (the network id); its value the original bytes, whole when
    they are at most the parking service's VERBUND_MAX_EVENT_BYTES, else the first MAX_ORIGINAL_BYTES.
    """

    BY: Final = "verbund.parked.by"  # the service that parked it: matcher or notifier
    TOPIC: Final = "verbund.parked.topic"
    PARTITION: Final = "verbund.parked.partition"
    OFFSET: Final = "verbund.parked.offset"
    REASON: Final = "verbund.parked.reason"
    ATTEMPTS: Final = "verbund.parked.attempts"
    FIRST_FAILURE: Final = "verbund.parked.first_failure"
    LAST_FAILURE: Final = "verbund.parked.last_failure"
    SIZE: Final = "verbund.parked.size"  # of the original bytes
    SHA256: Final = "verbund.parked.sha256"  # of the original bytes
    TRUNCATED: Final = "verbund.parked.truncated"  # "true" when the value holds only the first bytes
    # "outbox" on an outbox event the matcher's relay parked (Kafka refused it); absent on a consumed record. Such
    # a notice has no partition and offset: the event never reached a topic. It names the event and its outbox
    # row, and its value is the event's first bytes; the event itself stays in the matcher's outbox.
    ORIGIN: Final = "verbund.parked.origin"
    EVENT_ID: Final = "verbund.parked.event_id"
    EVENT_TYPE: Final = "verbund.parked.event_type"
    OUTBOX_SEQ: Final = "verbund.parked.outbox_seq"
    # A record with this header says the parked record at "<partition>:<offset>" was replayed: an empty value for
    # a consumed record (its bytes were sent back to its topic), an OutboxReplayRequested for an outbox event.
    REPLAY_OF: Final = "verbund.parked.replay_of"
    REPLAYED_AT: Final = "verbund.parked.replayed_at"


PARKED_RECORD_SCHEMA: Final[dict[str, Any]] = {
    "title": "ParkedRecord",
    "type": "string",
    "contentMediaType": "application/octet-stream",
    "description": "The original record's bytes: whole when at most VERBUND_MAX_EVENT_BYTES, else the first "
    f"{MAX_ORIGINAL_BYTES} ({ParkedHeader.TRUNCATED} says which). Normally one of the events of the topic it was "
    f"consumed from ({ParkedHeader.TOPIC}).",
}

OUTBOX_ORIGIN: Final = "outbox"
"""The value of ParkedHeader.ORIGIN on an outbox event the relay parked."""


class OutboxReplayRequestedData(Contract):
    """Which parked outbox event to hand back to the matcher's relay, as the parked notice named it."""

    outbox_seq: int = Field(ge=1, description="The event's row in the matcher's outbox")
    event_id: EventId = Field(description="The parked event's id; a row with another id is left alone")
    parked_at: Timestamp = Field(
        description="When the relay parked it, as the notice said; a row parked again since (or sent) is left alone"
    )
    parked_record: str = Field(
        max_length=32, pattern=r"^[0-9]+:[0-9]+$", description="The notice: <partition>:<offset>"
    )


class OutboxReplayRequested(Envelope):
    """An operator asks the matcher to try a parked outbox event again (`verbund parked replay`).

    Written on the parked topic, keyed by the network id, with ParkedHeader.REPLAY_OF naming the notice, so the
    same record marks the notice replayed. The matcher releases the row only when it is still parked as the notice
    said: a request read twice, or after the event went out, changes nothing.
    """

    EVENT_TYPE: ClassVar[str] = "OutboxReplayRequested"
    type: Literal["OutboxReplayRequested"] = "OutboxReplayRequested"
    data: OutboxReplayRequestedData


_HEADERS = (
    ParkedHeader.BY,
    ParkedHeader.TOPIC,
    ParkedHeader.PARTITION,
    ParkedHeader.OFFSET,
    ParkedHeader.REASON,
    ParkedHeader.ATTEMPTS,
    ParkedHeader.FIRST_FAILURE,
    ParkedHeader.LAST_FAILURE,
    ParkedHeader.SIZE,
    ParkedHeader.SHA256,
    ParkedHeader.TRUNCATED,
    ParkedHeader.ORIGIN,
    ParkedHeader.EVENT_ID,
    ParkedHeader.EVENT_TYPE,
    ParkedHeader.OUTBOX_SEQ,
)


def parked_topic_description(what: str) -> str:
    """The parked topic as a service's AsyncAPI document describes it; `what` says which records it parks."""
    return (
        f"{what} set aside after their retries ran out (the database or the broker was away), so the consumer "
        "could go on; an operator replays them with `verbund parked replay` "
        "(docs/decisions/0003-parking-failed-records.md). Key: the original key (network id). Headers: "
        + ", ".join(_HEADERS)
        + f" ({ParkedHeader.ORIGIN}={OUTBOX_ORIGIN} and the last three on an outbox event the relay parked)"
        + f"; a replay marker has {ParkedHeader.REPLAY_OF}, {ParkedHeader.REPLAYED_AT} and an empty value, "
        "or an OutboxReplayRequested for an outbox event."
    )
