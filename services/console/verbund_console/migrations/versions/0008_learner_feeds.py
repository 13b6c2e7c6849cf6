"""Learners' calendar links, kept only as the SHA-256 of their tokens.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_learner_feeds",
        sa.Column("feed_id", sa.String(length=32), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("network_id", sa.String(length=128), nullable=False),
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("feed_id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_index("ix_console_learner_feeds_network_id", "console_learner_feeds", ["network_id"])


def downgrade() -> None:
    op.drop_index("ix_console_learner_feeds_network_id", table_name="console_learner_feeds")
    op.drop_table("console_learner_feeds")
