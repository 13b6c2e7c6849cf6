"""The parked topic's records: an inbound record set aside after its retries, with where it came from and why."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from verbund_schemas import MAX_ORIGINAL_BYTES

from .poison import ParkedRecord

# Header names of a parked record (docs/decisions/0003-parking-failed-records.md); the value is the original
# record's bytes, whole when they are at most the service's VERBUND_MAX_EVENT_BYTES, else their first 4 KiB.
PARKED_BY = "verbund.parked.by"
TOPIC = "verbund.parked.topic"
PARTITION = "verbund.parked.partition"
OFFSET = "verbund.parked.offset"
REASON = "verbund.parked.reason"
ATTEMPTS = "verbund.parked.attempts"
FIRST_FAILURE = "verbund.parked.first_failure"
LAST_FAILURE = "verbund.parked.last_failure"
SIZE = "verbund.parked.size"
SHA256 = "verbund.parked.sha256"
TRUNCATED = "verbund.parked.truncated"
# A record with this header (and an empty value) says the parked record at "<partition>:<offset>" was replayed.
REPLAY_OF = "verbund.parked.replay_of"
REPLAYED_AT = "verbund.parked.replayed_at"


@dataclass(frozen=True)
class ParkedMessage:
    """What goes on the parked topic for one parked record."""

    key: bytes | None
    value: bytes
    headers: dict[str, str]


def parked_message(parked: ParkedRecord, *, service: str, max_event_bytes: int) -> ParkedMessage:
    """The record's bytes bounded as in EventRejected, so a parked record always fits on the topic."""
    r = parked.record
    raw = r.value or b""
    truncated = len(raw) > max_event_bytes
    return ParkedMessage(
        key=r.key,
        value=raw[:MAX_ORIGINAL_BYTES] if truncated else raw,
        headers={
            PARKED_BY: service,
            TOPIC: r.topic,
            PARTITION: str(r.partition),
            OFFSET: str(r.offset),
            REASON: parked.reason,
            ATTEMPTS: str(parked.attempts),
            FIRST_FAILURE: parked.first_failure.isoformat(),
            LAST_FAILURE: parked.last_failure.isoformat(),
            SIZE: str(len(raw)),
            SHA256: hashlib.sha256(raw).hexdigest(),
            TRUNCATED: "true" if truncated else "false",
        },
    )
