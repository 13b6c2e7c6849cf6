"""Plan history (published versions and each assignment step) and the whole of each rejection.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_plans",
        sa.Column("network_id", sa.String(length=128), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("solver", sa.String(length=64), nullable=False),
        sa.Column("objective", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.Column("assignments", sa.Integer(), nullable=False),
        sa.Column("shortfalls", sa.Integer(), nullable=False),
        sa.Column("deficits", sa.Integer(), nullable=False),
        sa.Column("made", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("network_id", "plan_version"),
    )
    op.create_table(
        "console_plan_changes",
        sa.Column("network_id", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("assignment_id", sa.String(length=128), nullable=False),
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("learner_name", sa.String(length=200), nullable=False),
        sa.Column("module_id", sa.String(length=128), nullable=False),
        sa.Column("module_name", sa.String(length=200), nullable=False),
        sa.Column("firm_id", sa.String(length=128), nullable=False),
        sa.Column("firm_name", sa.String(length=200), nullable=False),
        sa.Column("start_week", sa.String(length=8), nullable=False),
        sa.Column("end_week", sa.String(length=8), nullable=False),
        sa.Column("previous_firm_id", sa.String(length=128), nullable=True),
        sa.Column("previous_firm_name", sa.String(length=200), nullable=True),
        sa.Column("previous_start_week", sa.String(length=8), nullable=True),
        sa.Column("previous_end_week", sa.String(length=8), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("network_id", "event_id"),
    )
    with op.batch_alter_table("console_plan_changes", schema=None) as batch_op:
        batch_op.create_index("ix_console_plan_changes_version", ["network_id", "plan_version"], unique=False)
    with op.batch_alter_table("console_assignments", schema=None) as batch_op:
        batch_op.create_index("ix_console_assignments_firm", ["network_id", "firm_id"], unique=False)
    with op.batch_alter_table("console_rejected", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("key", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("original_size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("original_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("original_truncated", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("original_base64", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("errors", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("console_rejected", schema=None) as batch_op:
        for name in ("errors", "original_base64", "original_truncated", "original_sha256", "original_size", "key"):
            batch_op.drop_column(name)
        batch_op.drop_column("service")
    with op.batch_alter_table("console_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_console_assignments_firm")
    with op.batch_alter_table("console_plan_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_console_plan_changes_version")
    op.drop_table("console_plan_changes")
    op.drop_table("console_plans")
