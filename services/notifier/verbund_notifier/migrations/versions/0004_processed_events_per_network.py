"""processed events keyed by network and event id: the same id in two networks is two events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 09:00:00.000000
"""

import warnings
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _primary_key(name: str, columns: list[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite cannot change a primary key in place: batch mode copies the table (and SQLAlchemy remarks
        # that the copy's key differs from the reflected one, which is the point).
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*_alembic_tmp_processed_events.*", category=sa.exc.SAWarning)
            with op.batch_alter_table("processed_events", recreate="always") as batch_op:
                batch_op.create_primary_key(name, columns)
        return
    existing = sa.inspect(bind).get_pk_constraint("processed_events")["name"] or "processed_events_pkey"
    op.drop_constraint(existing, "processed_events", type_="primary")
    op.create_primary_key(name, "processed_events", columns)


def upgrade() -> None:
    # Every existing row already names its network: it stays a duplicate there, and only there.
    _primary_key("pk_processed_events", ["network_id", "event_id"])


def downgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM processed_events WHERE network_id <> (SELECT MIN(p.network_id) FROM processed_events p "
            "WHERE p.event_id = processed_events.event_id)"
        )
    )
    _primary_key("pk_processed_events", ["event_id"])
