"""The matcher's tables: network state, published plans, inbox (applied ids) and outbox (to publish)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _json() -> Any:
    return Field(sa_column=Column(JSON, nullable=False))


class NetworkRow(SQLModel, table=True):
    """One network: its policy and the bookkeeping of its published plan.

    `version` grows with every committed change of the network; it is the optimistic lock on SQLite
    (PostgreSQL additionally locks the row with SELECT ... FOR UPDATE).
    """

    __tablename__ = "networks"

    network_id: str = Field(primary_key=True, max_length=128)
    config: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    version: int = 0
    plan_version: int = 0
    objective: int | None = None
    bound: int | None = None
    solver: str = ""
    last_full_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # Set when planning failed after the network's state changed: the published plan is stale from then on,
    # until a replan succeeds (service/stale_plans.py). Kept here so a restart or another replica sees it.
    plan_stale_since: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    plan_failed_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    plan_failures: int = 0  # failed tries since the plan went stale; the retry's backoff grows with it
    plan_error: str | None = Field(default=None, max_length=128)  # the last failure's exception type, no message
    updated_at: dt.datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True)))


class CurriculumRow(SQLModel, table=True):
    __tablename__ = "curricula"

    network_id: str = Field(primary_key=True, max_length=128)
    curriculum_id: str = Field(primary_key=True, max_length=128)
    payload: dict[str, Any] = _json()


class FirmRow(SQLModel, table=True):
    __tablename__ = "firms"

    network_id: str = Field(primary_key=True, max_length=128)
    firm_id: str = Field(primary_key=True, max_length=128)
    payload: dict[str, Any] = _json()


class OfferRow(SQLModel, table=True):
    __tablename__ = "offers"

    network_id: str = Field(primary_key=True, max_length=128)
    offer_id: str = Field(primary_key=True, max_length=128)
    payload: dict[str, Any] = _json()


class LearnerRow(SQLModel, table=True):
    __tablename__ = "learners"

    network_id: str = Field(primary_key=True, max_length=128)
    learner_id: str = Field(primary_key=True, max_length=128)
    payload: dict[str, Any] = _json()


class WithdrawnRow(SQLModel, table=True):
    """Ids that left (firm), were withdrawn (offer, learner): later events about them are rejected clearly."""

    __tablename__ = "withdrawn"

    network_id: str = Field(primary_key=True, max_length=128)
    kind: str = Field(primary_key=True, max_length=16)
    entity_id: str = Field(primary_key=True, max_length=128)


class DeclineRow(SQLModel, table=True):
    """A placement a firm declined (learner × firm × module): kept apart from the registration, which LearnerUpdated
    replaces whole; goes when the learner is withdrawn or erased, or when the placement is accepted after all."""

    __tablename__ = "declines"

    network_id: str = Field(primary_key=True, max_length=128)
    learner_id: str = Field(primary_key=True, max_length=128)
    firm_id: str = Field(primary_key=True, max_length=128)
    module_id: str = Field(primary_key=True, max_length=128)


class PublishedAssignmentRow(SQLModel, table=True):
    """An assignment of the network's current published plan, as the outside world knows it."""

    __tablename__ = "published_assignments"

    network_id: str = Field(primary_key=True, max_length=128)
    assignment_id: str = Field(primary_key=True, max_length=128)
    learner_id: str = Field(max_length=128)
    learner_name: str = ""
    module_id: str = Field(max_length=128)
    module_name: str = ""
    firm_id: str = Field(max_length=128)
    firm_name: str = ""
    start_week: str = Field(max_length=8)
    end_week: str = Field(max_length=8)
    frozen: bool = False
    plan_version: int = 1


class PublishedShortfallRow(SQLModel, table=True):
    """A shortfall of the current published plan (its ShortfallData as JSON)."""

    __tablename__ = "published_shortfalls"

    network_id: str = Field(primary_key=True, max_length=128)
    shortfall_id: str = Field(primary_key=True, max_length=128)
    payload: dict[str, Any] = _json()


class PublishedDeficitRow(SQLModel, table=True):
    """A firm x module with weeks below its minimum in the current published plan (its SeatDeficitData as JSON)."""

    __tablename__ = "published_deficits"

    network_id: str = Field(primary_key=True, max_length=128)
    deficit_id: str = Field(primary_key=True, max_length=128)
    payload: dict[str, Any] = _json()


class InboxRow(SQLModel, table=True):
    """An inbound record already handled (applied or rejected); written in the transaction that handled it.

    An applied event is remembered as (event id, network id): an id is unique within its network only, so the
    same id in another network is another event. A rejected record is remembered by its Kafka position
    (`kafka:<topic>:<partition>:<offset>`) under the network id '' (`UNSCOPED`), as no other record shares it.
    """

    __tablename__ = "inbox"

    message_id: str = Field(primary_key=True, max_length=300)
    network_id: str = Field(default="", primary_key=True, max_length=128)
    topic: str = Field(max_length=255)
    partition: int
    offset: int = Field(sa_column=Column(BigInteger, nullable=False))
    outcome: str = Field(max_length=16)
    handled_at: dt.datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True)))


UNSCOPED = ""
"""The inbox's network id of records remembered by their Kafka position."""


class OutboxRow(SQLModel, table=True):
    """An event to publish; its id is fixed here, so a re-publish after a crash carries the same id.

    A row Kafka refuses for a reason that will not go away (too large, a topic that rejects it) is tried
    `attempts` times, then parked: `parked_at` and `park_reason` set, skipped by the relay until an operator
    replays it (`verbund parked replay`). A broker that is down counts no attempts: that is not the row's fault.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "seq"),)

    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=128, unique=True)
    event_type: str = Field(max_length=64)
    topic_role: str = Field(max_length=32, description="assignments, shortfalls or rejected")
    key: str = Field(max_length=128)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: dt.datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True)))
    sent_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    parked_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class RelayLeaseRow(SQLModel, table=True):
    """One row; the relay updates it first in its transaction, so only one relay publishes at a time."""

    __tablename__ = "relay_lease"

    id: int = Field(default=1, primary_key=True)
    holder: str = ""
    taken_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class DataKeyRow(SQLModel, table=True):
    """A holder's data key, wrapped; `wrapped` is emptied when the key is destroyed, the row stays as the record.

    The row without its key is what tells a later event about an erased learner from one about a new learner.
    """

    __tablename__ = "data_keys"
    __table_args__ = (UniqueConstraint("network_id", "holder", name="uq_data_keys_holder"),)

    key_id: str = Field(primary_key=True, max_length=64)
    network_id: str = Field(max_length=128)
    holder: str = Field(max_length=160, description="learner:<id>, firm:<id> or network (its coordinators)")
    wrapped: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True)))
    destroyed_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, for bulk statements that need no ORM objects."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table
