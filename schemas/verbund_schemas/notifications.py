"""The notifier's delivery log: one event per message delivered or given up on."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from .envelope import Channel, Contract, Envelope, Sentence, Timestamp


class NotificationData(Contract):
    notification_id: str = Field(max_length=64, description="Derived from source event, recipient and channel")
    source_event_id: str = Field(max_length=200)
    source_event_type: str = Field(max_length=64)
    recipient: str = Field(max_length=200, description="Recipient's role and id, e.g. learner:L-001 (no personal data)")
    channel: Channel
    kind: str = Field(max_length=64, description="Which message, e.g. assignment_made, reminder, digest")
    attempts: int = Field(ge=1)
    at: Timestamp


class NotificationDelivered(Envelope):
    EVENT_TYPE: ClassVar[str] = "NotificationDelivered"
    type: Literal["NotificationDelivered"] = "NotificationDelivered"
    data: NotificationData


class NotificationFailedData(NotificationData):
    error: Sentence


class NotificationFailed(Envelope):
    EVENT_TYPE: ClassVar[str] = "NotificationFailed"
    type: Literal["NotificationFailed"] = "NotificationFailed"
    data: NotificationFailedData
