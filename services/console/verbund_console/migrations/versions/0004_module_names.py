"""Module names from the curricula, so offered modules nobody is assigned to are named, not shown by id.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_modules",
        sa.Column("network_id", sa.String(length=128), nullable=False),
        sa.Column("module_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("network_id", "module_id"),
    )


def downgrade() -> None:
    op.drop_table("console_modules")
