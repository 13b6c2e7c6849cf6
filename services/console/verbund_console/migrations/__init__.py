"""Alembic migrations of the console's read model and accounts."""
