"""Alembic environment: migrates the matcher's database, from the CLI or from the running service."""

from __future__ import annotations

import os

import verbund_matcher.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from sqlmodel import SQLModel
from verbund_runtime.migrations import run_migrations

# From the CLI the URL is the service's own setting; the running service passes its connection instead.
run_migrations(SQLModel.metadata, url=os.environ.get("VERBUND_DATABASE_URL", "sqlite+aiosqlite:///verbund.db"))
