"""inbox keyed by network and event id: the same id in two networks is two events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:00:00.000000
"""

import warnings
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rejected records are remembered by their Kafka position, which no other network can share: under ''.
UNSCOPED = ''


def _primary_key(columns: list[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        # SQLite cannot change a primary key in place: batch mode copies the table (and SQLAlchemy remarks
        # that the copy's key differs from the reflected one, which is the point).
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='.*_alembic_tmp_inbox.*', category=sa.exc.SAWarning)
            with op.batch_alter_table('inbox', recreate='always') as batch_op:
                batch_op.alter_column(
                    'network_id', existing_type=sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False
                )
                batch_op.create_primary_key('pk_inbox', columns)
        return
    name = sa.inspect(bind).get_pk_constraint('inbox')['name'] or 'inbox_pkey'
    op.alter_column('inbox', 'network_id', existing_type=sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False)
    op.drop_constraint(name, 'inbox', type_='primary')
    op.create_primary_key('pk_inbox', 'inbox', columns)


def upgrade() -> None:
    # Rows written before: applied events keep their network, so an event id seen before is still a duplicate
    # in that network; rejected rows and rows without a network move under ''.
    op.execute(
        sa.text("UPDATE inbox SET network_id = :unscoped WHERE network_id IS NULL OR outcome = 'rejected'").bindparams(
            unscoped=UNSCOPED
        )
    )
    _primary_key(['message_id', 'network_id'])


def downgrade() -> None:
    # The same event id may now be in several networks: keep one row per id (any), as the old key requires.
    op.execute(
        sa.text(
            "DELETE FROM inbox WHERE network_id <> (SELECT MIN(i.network_id) FROM inbox i "
            "WHERE i.message_id = inbox.message_id)"
        )
    )
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        with op.batch_alter_table('inbox', recreate='always') as batch_op:
            batch_op.create_primary_key('pk_inbox', ['message_id'])
            batch_op.alter_column(
                'network_id', existing_type=sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True
            )
        return
    op.drop_constraint('pk_inbox', 'inbox', type_='primary')
    op.create_primary_key('inbox_pkey', 'inbox', ['message_id'])
    op.alter_column('inbox', 'network_id', existing_type=sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
