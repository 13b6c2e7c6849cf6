"""held events and departed parties: assignments wait for their learner's registration instead of a timer

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "held_events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("network_id", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("subject_key", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_held_events_network_id", "held_events", ["network_id"])
    op.create_index("ix_held_events_subject_key", "held_events", ["subject_key"])
    op.create_table(
        "departed_parties",
        sa.Column("network_id", sa.String(length=128), primary_key=True),
        sa.Column("role", sa.String(length=16), primary_key=True),
        sa.Column("party_id", sa.String(length=128), primary_key=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("departed_parties")
    op.drop_index("ix_held_events_subject_key", table_name="held_events")
    op.drop_index("ix_held_events_network_id", table_name="held_events")
    op.drop_table("held_events")
