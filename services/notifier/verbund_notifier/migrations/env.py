"""Alembic environment for the notifier's tables (sync driver; the URL comes from the caller's Config)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from verbund_notifier.store.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")


def _include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # The scheduler's job table is APScheduler's own.
    return not (type_ == "table" and name == "notifier_jobs")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=_include,
        render_as_batch=connection.dialect.name == "sqlite",
        version_table="notifier_alembic_version",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, literal_binds=True, include_object=_include)
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
