"""The parked topic's records: an inbound record set aside after its retries, or an outbox event Kafka refused."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from verbund_schemas import MAX_ORIGINAL_BYTES, OUTBOX_ORIGIN, ParkedHeader, topic

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


@dataclass(frozen=True)
class ParkedOutboxRow:
    """An outbox row the relay has just parked (docs/decisions/0003-parking-failed-records.md)."""

    seq: int
    event_id: str
    event_type: str
    topic_role: str
    key: str
    payload: str
    attempts: int
    reason: str
    parked_at: dt.datetime


def outbox_notice(row: ParkedOutboxRow) -> ParkedMessage:
    """The notice of a parked outbox event: its first bytes only, since Kafka may have refused it for its size and
    the event itself stays in the outbox, from where a replay sends it."""
    raw = row.payload.encode("utf-8")
    truncated = len(raw) > MAX_ORIGINAL_BYTES
    when = row.parked_at.isoformat()
    return ParkedMessage(
        key=row.key.encode("utf-8"),
        value=raw[:MAX_ORIGINAL_BYTES] if truncated else raw,
        headers={
            ParkedHeader.BY: "matcher",
            ParkedHeader.ORIGIN: OUTBOX_ORIGIN,
            ParkedHeader.TOPIC: topic(row.topic_role),
            ParkedHeader.EVENT_ID: row.event_id,
            ParkedHeader.EVENT_TYPE: row.event_type,
            ParkedHeader.OUTBOX_SEQ: str(row.seq),
            ParkedHeader.REASON: row.reason,
            ParkedHeader.ATTEMPTS: str(row.attempts),
            # The relay keeps no time of the first refusal; the row's parking time is what a replay request names.
            ParkedHeader.LAST_FAILURE: when,
            ParkedHeader.SIZE: str(len(raw)),
            ParkedHeader.SHA256: hashlib.sha256(raw).hexdigest(),
            ParkedHeader.TRUNCATED: "true" if truncated else "false",
        },
    )
