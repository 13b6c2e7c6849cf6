"""Alembic environment for the notifier's tables (sync driver; the URL comes from the caller's Config)."""

from __future__ import annotations

from verbund_runtime.migrations import run_migrations

from verbund_notifier.store.tables import metadata


def _include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # The scheduler's job table is APScheduler's own.
    return not (type_ == "table" and name == "notifier_jobs")


run_migrations(metadata, version_table="notifier_alembic_version", include_object=_include)
