"""Inbound events until the matcher has decided on them, so a rejected one is taken back out of the read model.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Events folded before it are taken as applied: `verbund console rebuild` takes out those the matcher rejected.
    op.create_table(
        "console_inbound_fates",
        sa.Column("network_id", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("fate", sa.String(length=16), nullable=False),
        sa.Column("position", sa.String(length=300), nullable=False),
        sa.Column("resent", sa.String(length=300), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("learner_id", sa.String(length=128), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("writes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("network_id", "event_id"),
    )
    op.create_index("ix_console_inbound_fates_at", "console_inbound_fates", ["at"])
    op.create_index(
        "ix_console_inbound_fates_learner", "console_inbound_fates", ["network_id", "learner_id", "seq"]
    )


def downgrade() -> None:
    op.drop_index("ix_console_inbound_fates_learner", table_name="console_inbound_fates")
    op.drop_index("ix_console_inbound_fates_at", table_name="console_inbound_fates")
    op.drop_table("console_inbound_fates")
