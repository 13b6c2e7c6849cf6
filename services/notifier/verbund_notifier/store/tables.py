"""The notifier's own tables: contact directory, consumed events, deliveries, and the state digests need."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class NotifierTable(SQLModel, registry=registry()):
    """Own metadata, so the notifier's migrations never see another service's tables."""


metadata = NotifierTable.metadata


class Party(NotifierTable, table=True):
    """Someone messages go to or are about: a learner, a firm, or a network coordinator.

    Only what messaging needs: name, address, language, channel; a firm's address for calendar entries;
    a learner's home firm. `left_at` marks a withdrawn learner or a departed firm, kept until nothing
    pending needs it.
    """

    __tablename__ = "parties"

    network_id: str = Field(primary_key=True, max_length=128)
    role: str = Field(primary_key=True, max_length=16)  # learner | firm | coordinator
    party_id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=200)
    contact_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    language: str = Field(default="de", max_length=8)
    channel: str | None = Field(default=None, max_length=16)  # None: nobody to message (firm without contact)
    webhook_url: str | None = Field(default=None, max_length=2000)
    home_firm_id: str | None = Field(default=None, max_length=128)
    address: str | None = Field(default=None, max_length=500)
    left_at: dt.datetime | None = None


class ProcessedEvent(NotifierTable, table=True):
    """Inbox: ids of events already applied, per network, written in the same transaction as their effects.

    An event id is unique within its network only, so the key is (network id, event id).
    """

    __tablename__ = "processed_events"

    network_id: str = Field(primary_key=True, max_length=128)
    event_id: str = Field(primary_key=True, max_length=128)
    event_type: str = Field(max_length=64)
    processed_at: dt.datetime


class Delivery(NotifierTable, table=True):
    """One message to one recipient over one channel; the outbox the delivery worker drains."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("source_event_id", "recipient", "channel", name="uq_delivery_event_recipient_channel"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    notification_id: str = Field(primary_key=True, max_length=64)
    source_event_id: str = Field(max_length=200)
    source_event_type: str = Field(max_length=64)
    network_id: str = Field(max_length=128)
    recipient: str = Field(max_length=200)  # role:id, e.g. learner:L-001
    channel: str = Field(max_length=16)
    kind: str = Field(max_length=64)
    language: str = Field(max_length=8)
    address: str | None = Field(default=None, max_length=2000)
    subject: str | None = Field(default=None, max_length=500)
    body_text: str | None = Field(default=None, sa_type=Text)
    body_html: str | None = Field(default=None, sa_type=Text)
    calendar: str | None = Field(default=None, sa_type=Text)  # iCalendar text
    calendar_method: str | None = Field(default=None, max_length=16)
    calendar_name: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: dt.datetime
    lease_until: dt.datetime | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    logged: bool = False  # NotificationDelivered/Failed published


class AssignmentRecord(NotifierTable, table=True):
    """A learner's phase as last announced: what reminders and digests read, and the calendar SEQUENCE."""

    __tablename__ = "assignments"

    assignment_id: str = Field(primary_key=True, max_length=128)
    network_id: str = Field(index=True, max_length=128)
    learner_id: str = Field(max_length=128)
    learner_name: str = Field(max_length=200)
    module_id: str = Field(max_length=128)
    module_name: str = Field(max_length=200)
    firm_id: str = Field(max_length=128)
    firm_name: str = Field(max_length=200)
    start_week: str = Field(max_length=8)
    end_week: str = Field(max_length=8)
    start_date: dt.date
    end_date: dt.date
    sequence: int = 0
    cancelled: bool = False
    plan_version: int = 1


class OpenShortfall(NotifierTable, table=True):
    """A shortfall not yet resolved, for the coordinators' weekly digest."""

    __tablename__ = "shortfalls"

    shortfall_id: str = Field(primary_key=True, max_length=128)
    network_id: str = Field(index=True, max_length=128)
    learner_id: str = Field(max_length=128)
    learner_name: str = Field(max_length=200)
    group_id: str = Field(max_length=128)
    module_id: str | None = Field(default=None, max_length=128)
    reason: str = Field(max_length=32)
    message: str = Field(sa_type=Text)
    missing: int = 1


class OpenDeficit(NotifierTable, table=True):
    """A firm x module announced with weeks below its minimum and not yet resolved: for the digest and the
    resolution message (the resolution event names no weeks)."""

    __tablename__ = "seat_deficits"

    deficit_id: str = Field(primary_key=True, max_length=128)
    network_id: str = Field(index=True, max_length=128)
    firm_id: str = Field(max_length=128)
    firm_name: str = Field(max_length=200)
    module_id: str = Field(max_length=128)
    module_name: str = Field(max_length=200)
    spans: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    spans_omitted: int = 0
    missing_learner_weeks: int = 0
    plan_version: int = 1


class NetworkRecord(NotifierTable, table=True):
    """A network the notifier has heard of: its name for digests."""

    __tablename__ = "networks"

    network_id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=200)


class CatalogName(NotifierTable, table=True):
    """The name of a module or requirement group, from the network's curricula: messages show it, not the id."""

    __tablename__ = "catalog_names"

    network_id: str = Field(primary_key=True, max_length=128)
    kind: str = Field(primary_key=True, max_length=16)  # module | group
    item_id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=200)


class HeldEvent(NotifierTable, table=True):
    """An assignment or shortfall event that came before whom it concerns was registered here.

    The assignments and shortfalls topics are consumed apart from the inbound topic, so after a restart or a
    rebalance an assignment can arrive before its learner's registration. It is kept here, in arrival order,
    and applied as soon as the directory knows every party it names (or knows they left).
    """

    __tablename__ = "held_events"

    seq: int | None = Field(default=None, primary_key=True)
    network_id: str = Field(index=True, max_length=128)
    event_id: str = Field(max_length=128)
    event_type: str = Field(max_length=64)
    # The assignment, shortfall or deficit the event is about: a later event about it waits behind this one.
    subject_key: str = Field(index=True, max_length=200)
    body: str = Field(sa_type=Text)  # the event as consumed, re-read when it is applied
    held_at: dt.datetime


class DepartedParty(NotifierTable, table=True):
    """Ids only of a learner who withdrew or a firm that left, once their contact was deleted.

    An assignment about them that arrives later is applied without waiting for a registration that will not
    come; a new registration under the same id removes the row.
    """

    __tablename__ = "departed_parties"

    network_id: str = Field(primary_key=True, max_length=128)
    role: str = Field(primary_key=True, max_length=16)
    party_id: str = Field(primary_key=True, max_length=128)
    left_at: dt.datetime


class Erasure(NotifierTable, table=True):
    """The record that a learner's personal data was erased here: ids, when and how much, never the data.

    The learner id is the network's pseudonym; it is what lets a network answer "was the request carried out".
    """

    __tablename__ = "erasures"

    network_id: str = Field(primary_key=True, max_length=128)
    learner_id: str = Field(primary_key=True, max_length=128)
    event_id: str = Field(max_length=128)
    erased_at: dt.datetime
    deliveries_deleted: int = 0
    phases_deleted: int = 0
