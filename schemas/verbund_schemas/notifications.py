"""The notifier's delivery log: one event per message delivered or given up on."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal

from pydantic import Field

from .envelope import Channel, Contract, Envelope


class NotificationData(Contract):
    notification_id: str = Field(description="Derived from source event, recipient and channel")
    source_event_id: str
    source_event_type: str
    recipient: str = Field(description="Recipient's role and id, e.g. learner:L-001 (no personal data)")
    channel: Channel
    kind: str = Field(description="Which message, e.g. assignment_made, reminder, digest")
    attempts: int = Field(ge=1)
    at: dt.datetime


class NotificationDelivered(Envelope):
    EVENT_TYPE: ClassVar[str] = "NotificationDelivered"
    type: Literal["NotificationDelivered"] = "NotificationDelivered"
    data: NotificationData


class NotificationFailedData(NotificationData):
    error: str


class NotificationFailed(Envelope):
    EVENT_TYPE: ClassVar[str] = "NotificationFailed"
    type: Literal["NotificationFailed"] = "NotificationFailed"
    data: NotificationFailedData
