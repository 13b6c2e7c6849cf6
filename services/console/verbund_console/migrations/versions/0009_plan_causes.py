"""The inbound events each plan version names as its cause, for the plan history.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Versions folded before name no cause: a rebuild from the topics fills them where the matcher said one.
    with op.batch_alter_table("console_plans") as table:
        table.add_column(sa.Column("caused_by", sa.JSON(), nullable=False, server_default="[]"))
        table.add_column(sa.Column("caused_by_count", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("console_plans") as table:
        table.drop_column("caused_by_count")
        table.drop_column("caused_by")
