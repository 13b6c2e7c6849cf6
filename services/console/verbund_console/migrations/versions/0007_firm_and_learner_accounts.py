"""Firm users' and learners' accounts (memberships) and firms' answers to planned placements.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 15:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_memberships",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("network_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("email", "network_id", "role", "subject_id"),
    )
    op.create_table(
        "console_placement_answers",
        sa.Column("network_id", sa.String(length=128), nullable=False),
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("module_id", sa.String(length=128), nullable=False),
        sa.Column("firm_id", sa.String(length=128), nullable=False),
        sa.Column("start_week", sa.String(length=8), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("answered_by", sa.String(length=256), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("network_id", "learner_id", "module_id", "firm_id", "start_week"),
    )


def downgrade() -> None:
    op.drop_table("console_placement_answers")
    op.drop_table("console_memberships")
