"""names of modules and requirement groups, so messages show names rather than ids

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-11 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalog_names',
    sa.Column('network_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('network_id', 'kind', 'item_id')
    )


def downgrade() -> None:
    op.drop_table('catalog_names')
