"""erasures: the pseudonymised record of each learner whose personal data was erased

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("network_id", sa.String(length=128), primary_key=True),
        sa.Column("learner_id", sa.String(length=128), primary_key=True),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deliveries_deleted", sa.Integer(), nullable=False),
        sa.Column("phases_deleted", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("erasures")
