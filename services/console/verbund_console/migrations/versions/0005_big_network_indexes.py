"""Indexes for a big network's pages: live firm × module pairs, modules in use, first and last planned week, learners
by name.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 14:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ASSIGNMENT_INDEXES = {
    "ix_console_assignments_live_pair": ["network_id", "cancelled", "firm_id", "module_id"],
    "ix_console_assignments_module": ["network_id", "module_id"],
    "ix_console_assignments_live_start": ["network_id", "cancelled", "start_week"],
    "ix_console_assignments_live_end": ["network_id", "cancelled", "end_week"],
}


def upgrade() -> None:
    for name, columns in ASSIGNMENT_INDEXES.items():
        op.create_index(name, "console_assignments", columns)
    op.create_index("ix_console_learners_name", "console_learners", ["network_id", "name"])


def downgrade() -> None:
    op.drop_index("ix_console_learners_name", table_name="console_learners")
    for name in ASSIGNMENT_INDEXES:
        op.drop_index(name, table_name="console_assignments")
