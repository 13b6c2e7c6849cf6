"""The console's read model and accounts.

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 11:37:46.068570
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('console_applied_events',
    sa.Column('network_id', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('network_id', 'event_id')
    )
    op.create_table('console_assignments',
    sa.Column('network_id', sa.String(length=128), nullable=False),
    sa.Column('assignment_id', sa.String(length=128), nullable=False),
    sa.Column('learner_id', sa.String(length=128), nullable=False),
    sa.Column('learner_name', sa.String(length=200), nullable=False),
    sa.Column('module_id', sa.String(length=128), nullable=False),
    sa.Column('module_name', sa.String(length=200), nullable=False),
    sa.Column('firm_id', sa.String(length=128), nullable=False),
    sa.Column('firm_name', sa.String(length=200), nullable=False),
    sa.Column('start_week', sa.String(length=8), nullable=False),
    sa.Column('end_week', sa.String(length=8), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('network_id', 'assignment_id')
    )
    with op.batch_alter_table('console_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_console_assignments_learner', ['network_id', 'learner_id'], unique=False)

    op.create_table('console_changes',
    sa.Column('network_id', sa.String(length=128), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('network_id', 'seq')
    )
    op.create_table('console_firms',
    sa.Column('network_id', sa.String(length=128), nullable=False),
    sa.Column('firm_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=200), nullable=True),
    sa.Column('left', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('network_id', 'firm_id')
    )
    op.create_table('console_grants',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('network_id', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('email', 'network_id')
    )
    op.create_table('console_learners',
    sa.Column('network_id', sa.String(length=128), nullable=False),
    sa.Column('learner_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('first_week', sa.String(length=8), nullable=True),
    sa.Column('last_week', sa.String(length=8), nullable=True),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('network_id', 'learner_id')
    )
    op.create_table('console_networks',
    sa.Column('network_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=True),
    sa.Column('plan_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('plan_complete', sa.Boolean(), nullable=False),
    sa.Column('plan_solver', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('network_id')
    )
    op.create_table('console_offers',
    sa.Column('network_id', sa.String(length=128), nullable=False),
    sa.Column('offer_id', sa.String(length=128), nullable=False),
    sa.Column('firm_id', sa.String(length=128), nullable=False),
    sa.Column('module_id', sa.String(length=128), nullable=False),
    sa.Column('first_week', sa.String(length=8), nullable=False),
    sa.Column('last_week', sa.String(length=8), nullable=False),
    sa.Column('max_seats', sa.Integer(), nullable=False),
    sa.Column('min_seats', sa.Integer(), nullable=False),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('network_id', 'offer_id')
    )
    op.create_table('console_problems',
    sa.Column('network_id', sa.String(length=128), nullable=False),
    sa.Column('problem_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('learner_id', sa.String(length=128), nullable=True),
    sa.Column('learner_name', sa.String(length=200), nullable=True),
    sa.Column('firm_id', sa.String(length=128), nullable=True),
    sa.Column('firm_name', sa.String(length=200), nullable=True),
    sa.Column('module_id', sa.String(length=128), nullable=True),
    sa.Column('module_name', sa.String(length=200), nullable=True),
    sa.Column('missing', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('network_id', 'problem_id')
    )
    with op.batch_alter_table('console_problems', schema=None) as batch_op:
        batch_op.create_index('ix_console_problems_open', ['network_id', 'resolved_at'], unique=False)

    op.create_table('console_rejected',
    sa.Column('network_id', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('offset', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('original_type', sa.String(length=64), nullable=True),
    sa.Column('original_text', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('network_id', 'event_id')
    )
    with op.batch_alter_table('console_rejected', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_rejected_at'), ['at'], unique=False)

    op.create_table('console_signin_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('console_signin_failures', schema=None) as batch_op:
        batch_op.create_index('ix_console_signin_failures_key', ['email', 'address', 'at'], unique=False)

    op.create_table('console_users',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('email')
    )


def downgrade() -> None:
    op.drop_table('console_users')
    with op.batch_alter_table('console_signin_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_console_signin_failures_key')

    op.drop_table('console_signin_failures')
    with op.batch_alter_table('console_rejected', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_rejected_at'))

    op.drop_table('console_rejected')
    with op.batch_alter_table('console_problems', schema=None) as batch_op:
        batch_op.drop_index('ix_console_problems_open')

    op.drop_table('console_problems')
    op.drop_table('console_offers')
    op.drop_table('console_networks')
    op.drop_table('console_learners')
    op.drop_table('console_grants')
    op.drop_table('console_firms')
    op.drop_table('console_changes')
    with op.batch_alter_table('console_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_console_assignments_learner')

    op.drop_table('console_assignments')
    op.drop_table('console_applied_events')
