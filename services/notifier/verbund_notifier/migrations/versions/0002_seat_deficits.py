"""open seat deficits for digests and resolution messages

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('seat_deficits',
    sa.Column('deficit_id', sa.String(length=128), nullable=False),
    sa.Column('network_id', sa.String(length=128), nullable=False),
    sa.Column('firm_id', sa.String(length=128), nullable=False),
    sa.Column('firm_name', sa.String(length=200), nullable=False),
    sa.Column('module_id', sa.String(length=128), nullable=False),
    sa.Column('module_name', sa.String(length=200), nullable=False),
    sa.Column('spans', sa.JSON(), nullable=False),
    sa.Column('spans_omitted', sa.Integer(), nullable=False),
    sa.Column('missing_learner_weeks', sa.Integer(), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('deficit_id')
    )
    with op.batch_alter_table('seat_deficits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seat_deficits_network_id'), ['network_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('seat_deficits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seat_deficits_network_id'))

    op.drop_table('seat_deficits')
