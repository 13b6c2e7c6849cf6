"""The parked topic's records: an inbound record set aside after its retries, with where it came from and why."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from verbund_schemas import MAX_ORIGINAL_BYTES, ParkedHeader

from .poison import ParkedRecord


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
        # The header names are the contract's (verbund_schemas.ParkedHeader): the notifier writes the same, and
        # `verbund parked` reads both.
        headers={
            ParkedHeader.BY: service,
            ParkedHeader.TOPIC: r.topic,
            ParkedHeader.PARTITION: str(r.partition),
            ParkedHeader.OFFSET: str(r.offset),
            ParkedHeader.REASON: parked.reason,
            ParkedHeader.ATTEMPTS: str(parked.attempts),
            ParkedHeader.FIRST_FAILURE: parked.first_failure.isoformat(),
            ParkedHeader.LAST_FAILURE: parked.last_failure.isoformat(),
            ParkedHeader.SIZE: str(len(raw)),
            ParkedHeader.SHA256: hashlib.sha256(raw).hexdigest(),
            ParkedHeader.TRUNCATED: "true" if truncated else "false",
        },
    )
