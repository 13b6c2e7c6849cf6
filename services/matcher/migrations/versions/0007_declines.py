"""declines: placements firms declined, kept apart from the learner's registration

Declines applied before this revision were written into the registration's excluded_firm_modules and stay
there (they cannot be told from a coordinator's own exclusions); a LearnerUpdated replaces them as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "declines",
        sa.Column("network_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("learner_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("firm_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("module_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.PrimaryKeyConstraint("network_id", "learner_id", "firm_id", "module_id"),
    )


def downgrade() -> None:
    op.drop_table("declines")
