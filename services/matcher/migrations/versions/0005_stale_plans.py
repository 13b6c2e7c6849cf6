"""networks whose published plan is stale because planning failed: since when, last failure, tries, error type

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("networks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_stale_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("plan_failed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("plan_failures", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("plan_error", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("networks", schema=None) as batch_op:
        batch_op.drop_column("plan_error")
        batch_op.drop_column("plan_failures")
        batch_op.drop_column("plan_failed_at")
        batch_op.drop_column("plan_stale_since")
