"""Header names of a record on the parked topic: where it came from, why it was parked, and replay markers."""

from __future__ import annotations

from typing import Any, Final

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
    # A record with this header (and an empty value) says the parked record at "<partition>:<offset>" was
    # replayed.
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
)


def parked_topic_description(what: str) -> str:
    """The parked topic as a service's AsyncAPI document describes it; `what` says which records it parks."""
    return (
        f"{what} set aside after their retries ran out (the database or the broker was away), so the consumer "
        "could go on; an operator replays them with `verbund parked replay` "
        "(docs/decisions/0003-parking-failed-records.md). Key: the original key (network id). Headers: "
        + ", ".join(_HEADERS)
        + f"; a replay marker has an empty value and {ParkedHeader.REPLAY_OF}, {ParkedHeader.REPLAYED_AT}."
    )
