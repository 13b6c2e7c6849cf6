"""published seat deficits, one row per network x firm x module

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('published_deficits',
    sa.Column('network_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('deficit_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('network_id', 'deficit_id')
    )


def downgrade() -> None:
    op.drop_table('published_deficits')
