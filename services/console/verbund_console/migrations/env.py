"""Alembic environment for the console's tables (sync driver; the URL comes from the caller's Config)."""

from __future__ import annotations

from verbund_runtime.migrations import run_migrations

from verbund_console.store.tables import metadata

run_migrations(metadata, version_table="console_alembic_version")
