"""Persistence of the notifier: tables, engine and migrations, and the queries the service layer runs."""

from .database import alembic_config, create_engine, job_store_url, migrate, session_factory, sync_url

__all__ = ["alembic_config", "create_engine", "job_store_url", "migrate", "session_factory", "sync_url"]
