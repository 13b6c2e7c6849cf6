"""Queue a message as a pending delivery, at most once per (source event, recipient, channel)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .tables import Delivery


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


async def enqueue(session: AsyncSession, message: Outgoing, now: dt.datetime) -> bool:
    """Add a pending delivery unless this one exists already; True when it was added."""
    nid = notification_id(message.source_event_id, message.recipient, message.channel)
    if await session.get(Delivery, nid) is not None:
        return False
    session.add(
        Delivery(
            notification_id=nid,
            source_event_id=message.source_event_id,
            source_event_type=message.source_event_type,
            network_id=message.network_id,
            recipient=message.recipient,
            channel=message.channel,
            kind=message.kind,
            language=message.language,
            address=message.address,
            subject=message.subject,
            body_text=message.text,
            body_html=message.html,
            calendar=message.calendar,
            calendar_method=message.calendar_method,
            calendar_name=message.calendar_name,
            payload=webhook_payload(message, nid) if message.channel == "webhook" else None,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return True
