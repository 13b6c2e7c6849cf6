"""A rendered message for one recipient, and the id that makes it one message however often its event arrives."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """What a message answers to: the event (or reminder/digest occurrence) and its network."""

    event_id: str
    event_type: str
    network_id: str


@dataclass(frozen=True)
class Outgoing:
    """A rendered message for one recipient, ready to be stored and sent."""

    network_id: str
    source_event_id: str
    source_event_type: str
    recipient: str  # role:id
    channel: str
    kind: str
    language: str
    address: str
    subject: str
    text: str
    html: str
    calendar: str | None = None
    calendar_method: str | None = None
    calendar_name: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def notification_id(source_event_id: str, recipient: str, channel: str) -> str:
    """Stable across redeliveries and replicas: the same event, recipient and channel give the same id."""
    digest = hashlib.sha256(f"{source_event_id}\x1f{recipient}\x1f{channel}".encode()).hexdigest()
    return digest[:32]


def webhook_payload(message: Outgoing, nid: str) -> dict[str, Any]:
    """The JSON body a webhook receives (signed as sent)."""
    return {
        "notification_id": nid,
        "kind": message.kind,
        "network_id": message.network_id,
        "recipient": message.recipient,
        "language": message.language,
        "source_event_id": message.source_event_id,
        "source_event_type": message.source_event_type,
        "subject": message.subject,
        "text": message.text,
        "details": message.details,
        "calendar": message.calendar,
    }
