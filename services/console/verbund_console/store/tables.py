"""The console's own tables: the read model folded from the topics, and the coordinators' accounts.

Every name starts with `console_`, so the console can share a PostgreSQL database with the other services.
Times are aware datetimes, stored and read back in UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class ConsoleTable(SQLModel, registry=registry()):
    """Own metadata, so the console's migrations never see another service's tables."""


metadata = ConsoleTable.metadata

# Dropped and refilled by `verbund console rebuild`; the accounts are not.
READ_MODEL_TABLES = (
    "console_applied_events",
    "console_changes",
    "console_networks",
    "console_learners",
    "console_firms",
    "console_modules",
    "console_offers",
    "console_assignments",
    "console_problems",
    "console_rejected",
    "console_plans",
    "console_plan_changes",
    "console_placement_answers",
    "console_inbound_fates",
)


class AppliedEvent(ConsoleTable, table=True):
    """An event already folded in: a redelivered one is skipped (an id is unique within its network only)."""

    __tablename__ = "console_applied_events"

    network_id: str = Field(primary_key=True, max_length=128)
    event_id: str = Field(primary_key=True, max_length=128)


class Network(ConsoleTable, table=True):
    """A network as the console knows it: name, its last change number and its last published plan."""

    __tablename__ = "console_networks"

    network_id: str = Field(primary_key=True, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    last_seq: int = 0
    plan_version: int | None = None
    plan_time: dt.datetime | None = None
    plan_complete: bool = False
    plan_solver: str | None = Field(default=None, max_length=64)


class Change(ConsoleTable, table=True):
    """One applied event of a network, numbered: the live pages catch up from the number they last saw."""

    __tablename__ = "console_changes"

    network_id: str = Field(primary_key=True, max_length=128)
    seq: int = Field(primary_key=True)
    event_type: str = Field(max_length=64)
    subject: str = Field(default="", max_length=200)
    at: dt.datetime


class Learner(ConsoleTable, table=True):
    __tablename__ = "console_learners"
    # The learner timeline pages through a network's learners by name.
    __table_args__ = (Index("ix_console_learners_name", "network_id", "name"),)

    network_id: str = Field(primary_key=True, max_length=128)
    learner_id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=200)
    first_week: str | None = Field(default=None, max_length=8)
    last_week: str | None = Field(default=None, max_length=8)
    withdrawn: bool = False


class Firm(ConsoleTable, table=True):
    __tablename__ = "console_firms"

    network_id: str = Field(primary_key=True, max_length=128)
    firm_id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=200)
    city: str | None = Field(default=None, max_length=200)
    left: bool = False


class Module(ConsoleTable, table=True):
    """A module's name from the network's curricula: an offered module nobody is assigned to yet is named too."""

    __tablename__ = "console_modules"

    network_id: str = Field(primary_key=True, max_length=128)
    module_id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=200)


class Offer(ConsoleTable, table=True):
    __tablename__ = "console_offers"

    network_id: str = Field(primary_key=True, max_length=128)
    offer_id: str = Field(primary_key=True, max_length=128)
    firm_id: str = Field(max_length=128)
    module_id: str = Field(max_length=128)
    first_week: str = Field(max_length=8)
    last_week: str = Field(max_length=8)
    max_seats: int
    min_seats: int = 0
    withdrawn: bool = False


class Assignment(ConsoleTable, table=True):
    """The newest published state of one assignment; a cancelled one is kept, marked, for the record."""

    __tablename__ = "console_assignments"
    __table_args__ = (
        # With `cancelled`: a learner's live phases are found in the index alone (the overview and the learner
        # filters ask it for every learner), and the planner never prefers the live indexes below for it.
        Index("ix_console_assignments_live_learner", "network_id", "learner_id", "cancelled"),
        # The per-firm timeline, the heatmap and a firm's calendar read a firm's assignments.
        Index("ix_console_assignments_firm", "network_id", "firm_id"),
        # A big network's pages (10,000 learners, some 80,000 assignments) ask for the live firm × module pairs,
        # the modules in use and the first and last week planned: each answered from an index, not the rows.
        Index("ix_console_assignments_live_pair", "network_id", "cancelled", "firm_id", "module_id"),
        Index("ix_console_assignments_module", "network_id", "module_id"),
        Index("ix_console_assignments_live_start", "network_id", "cancelled", "start_week", "end_week"),
        Index("ix_console_assignments_live_end", "network_id", "cancelled", "end_week"),
    )

    network_id: str = Field(primary_key=True, max_length=128)
    assignment_id: str = Field(primary_key=True, max_length=128)
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
    plan_version: int
    frozen: bool = False
    cancelled: bool = False


class Problem(ConsoleTable, table=True):
    """A shortfall (unmet requirement of a learner) or a seat deficit (weeks below a firm's minimum)."""

    __tablename__ = "console_problems"
    __table_args__ = (
        Index("ix_console_problems_open", "network_id", "resolved_at"),
        # Whether a learner has an open shortfall, asked for every learner by the overview and the status filter.
        Index("ix_console_problems_learner", "network_id", "learner_id"),
    )

    network_id: str = Field(primary_key=True, max_length=128)
    problem_id: str = Field(primary_key=True, max_length=128)
    kind: str = Field(max_length=16)  # shortfall | deficit
    reason: str = Field(max_length=32)  # a ShortfallReason, or min_seats for a deficit
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    learner_id: str | None = Field(default=None, max_length=128)
    learner_name: str | None = Field(default=None, max_length=200)
    firm_id: str | None = Field(default=None, max_length=128)
    firm_name: str | None = Field(default=None, max_length=200)
    module_id: str | None = Field(default=None, max_length=128)
    module_name: str | None = Field(default=None, max_length=200)
    missing: int = 0
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    plan_version: int
    detected_at: dt.datetime
    resolved_at: dt.datetime | None = None


class Rejected(ConsoleTable, table=True):
    """An input the matcher did not apply, with its reason and where it was."""

    __tablename__ = "console_rejected"

    network_id: str = Field(primary_key=True, max_length=128)
    event_id: str = Field(primary_key=True, max_length=128)
    at: dt.datetime = Field(index=True)
    topic: str = Field(max_length=255)
    partition: int
    offset: int
    reason: str = Field(sa_column=Column(Text, nullable=False))
    original_type: str | None = Field(default=None, max_length=64)
    original_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Added in revision 0002; rows folded before it have them empty until a rebuild.
    service: str | None = Field(default=None, max_length=64)
    key: str | None = Field(default=None, max_length=128)
    original_size: int | None = None
    original_sha256: str | None = Field(default=None, max_length=64)
    original_truncated: bool = False
    original_base64: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    errors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))


class Plan(ConsoleTable, table=True):
    """One published plan version of a network, for the plan history."""

    __tablename__ = "console_plans"

    network_id: str = Field(primary_key=True, max_length=128)
    plan_version: int = Field(primary_key=True)
    published_at: dt.datetime
    complete: bool = False
    solver: str = Field(default="", max_length=64)
    objective: int = 0
    learners: int = 0
    assignments: int = 0
    shortfalls: int = 0
    deficits: int = 0
    made: int = 0
    changed: int = 0
    cancelled: int = 0
    # The inbound events ({"event_id", "type"}) of the batch that produced the version: the first ones, and how
    # many there were; none for the scheduled re-optimisation and for versions from before the matcher said.
    caused_by: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))
    caused_by_count: int = 0


class PlanChange(ConsoleTable, table=True):
    """One assignment made, changed or cancelled by a plan version: the plan history's lines.

    The assignments table keeps only each assignment's newest state; this keeps every step, with where a changed
    one was before and why (the matcher's sentence and its reason code)."""

    __tablename__ = "console_plan_changes"
    __table_args__ = (Index("ix_console_plan_changes_version", "network_id", "plan_version"),)

    network_id: str = Field(primary_key=True, max_length=128)
    event_id: str = Field(primary_key=True, max_length=128)
    plan_version: int
    at: dt.datetime
    kind: str = Field(max_length=16)  # made | changed | cancelled
    assignment_id: str = Field(max_length=128)
    learner_id: str = Field(max_length=128)
    learner_name: str = Field(max_length=200)
    module_id: str = Field(max_length=128)
    module_name: str = Field(max_length=200)
    firm_id: str = Field(max_length=128)
    firm_name: str = Field(max_length=200)
    start_week: str = Field(max_length=8)
    end_week: str = Field(max_length=8)
    previous_firm_id: str | None = Field(default=None, max_length=128)
    previous_firm_name: str | None = Field(default=None, max_length=200)
    previous_start_week: str | None = Field(default=None, max_length=8)
    previous_end_week: str | None = Field(default=None, max_length=8)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reason_code: str | None = Field(default=None, max_length=32)


class InboundFate(ConsoleTable, table=True):
    """What the console knows of an inbound event's fate at the matcher, until the matcher has decided on it.

    `folded`: the event is in the read model and `writes` holds each row it wrote with the values it replaced, so
    the matcher's rejection can take it out again (domain/rejected_inbound.py). `rejected`: the rejection was read
    (first, or after the fold was taken out); the event read at `position` is not folded (again). Kept until a plan
    version names the event as applied (`accepted`, then dropped once no older kept fold could still need it) or for
    a week (store/batch_writes.py)."""

    __tablename__ = "console_inbound_fates"
    __table_args__ = (
        # The later folds of a learner's rows (or of rows of no learner) and an erasure's: one index for both.
        Index("ix_console_inbound_fates_learner", "network_id", "learner_id", "seq"),
    )

    network_id: str = Field(primary_key=True, max_length=128)
    event_id: str = Field(primary_key=True, max_length=128)
    fate: str = Field(max_length=16)  # folded | rejected
    position: str = Field(default="", max_length=300)  # topic:partition:offset; empty when unknown
    # The same event read again elsewhere while folded here: it stands in when the first copy is rejected.
    resent: str | None = Field(default=None, max_length=300)
    seq: int | None = None  # the network's change number of the fold: later folds lie over it
    at: dt.datetime = Field(index=True)
    learner_id: str | None = Field(default=None, max_length=128)  # whose name `writes` holds, for an erasure
    accepted: bool = False
    writes: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))


class User(ConsoleTable, table=True):
    """A coordinator who may sign in; the password only as an argon2 hash."""

    __tablename__ = "console_users"

    email: str = Field(primary_key=True, max_length=254)
    password_hash: str = Field(max_length=200)
    created_at: dt.datetime


class Grant(ConsoleTable, table=True):
    """A network a coordinator may see."""

    __tablename__ = "console_grants"

    email: str = Field(primary_key=True, max_length=254)
    network_id: str = Field(primary_key=True, max_length=128)


class Membership(ConsoleTable, table=True):
    """A firm a firm user acts for, or the learner an account is, in one network (coordinators have grants)."""

    __tablename__ = "console_memberships"

    email: str = Field(primary_key=True, max_length=254)
    network_id: str = Field(primary_key=True, max_length=128)
    role: str = Field(primary_key=True, max_length=16)  # firm | learner
    subject_id: str = Field(primary_key=True, max_length=128)  # the firm's or the learner's id


class PlacementAnswer(ConsoleTable, table=True):
    """A firm's answer to a planned placement, as sent (the matcher may still refuse it: see rejected events)."""

    __tablename__ = "console_placement_answers"

    network_id: str = Field(primary_key=True, max_length=128)
    learner_id: str = Field(primary_key=True, max_length=128)
    module_id: str = Field(primary_key=True, max_length=128)
    firm_id: str = Field(primary_key=True, max_length=128)
    start_week: str = Field(primary_key=True, max_length=8)
    answer: str = Field(max_length=16)  # accepted | declined
    reason: str = Field(default="", max_length=500)
    answered_by: str = Field(default="", max_length=256)
    answered_at: dt.datetime


class SigninFailure(ConsoleTable, table=True):
    """A failed sign-in, counted per account and address for the rate limit (in the database: replicas share it)."""

    __tablename__ = "console_signin_failures"
    __table_args__ = (Index("ix_console_signin_failures_key", "email", "address", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    address: str = Field(max_length=64)
    at: dt.datetime
