"""Alembic environment for the console's tables (sync driver; the URL comes from the caller's Config)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from verbund_console.store.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        version_table="console_alembic_version",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, literal_binds=True, version_table="console_alembic_version")
    with context.begin_transaction():
        context.run_migrations()
else:
    given = config.attributes.get("connection")
    if given is not None:
        # From the running service (verbund_runtime.migrations), inside its transaction and lock.
        _run(given)
    else:
        engine = create_engine(str(url), poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
