"""`alembic upgrade head` from a running service, one replica at a time, and the environment each `env.py` runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.runtime.environment import IncludeObjectFn
from sqlalchemy import Connection, MetaData, create_engine, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def upgrade_locked(connection: Connection, config: Config, lock_id: int) -> None:
    """Upgrade on this connection, inside its transaction; on PostgreSQL under an advisory lock.

    Replicas starting together: one migrates, the others wait for the lock and then find nothing to do.
    SQLite has one writer at a time anyway. The migration environment must use
    `config.attributes["connection"]` when it is set (`run_migrations` does).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine, config: Config, lock_id: int) -> None:
    """Bring a service's schema to its newest revision; idempotent, and safe for replicas starting at once."""
    async with engine.begin() as connection:
        await connection.run_sync(upgrade_locked, config, lock_id)


async def migrate_url(url: str, config: Config, lock_id: int) -> None:
    """`migrate` on a connection of its own to `url` (async driver), closed afterwards."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        await migrate(engine, config, lock_id)
    finally:
        await engine.dispose()


def run_migrations(
    metadata: MetaData,
    *,
    version_table: str = "alembic_version",
    include_object: IncludeObjectFn | None = None,
    url: str | None = None,
) -> None:
    """What a service's `env.py` does: run its migrations offline, on the running service's connection, or alone.

    Called from `env.py` only, where Alembic's `context` is the environment being run.

    The version table is the service's own, so services sharing one PostgreSQL database keep their revisions
    apart. `url` is for the command line (default: the Config's `sqlalchemy.url`); an async driver is run on an
    event loop of its own.
    """

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
            version_table=version_table,
        )
        with context.begin_transaction():
            context.run_migrations()

    url = url or context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(
            url=url,
            target_metadata=metadata,
            literal_binds=True,
            include_object=include_object,
            version_table=version_table,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    given = context.config.attributes.get("connection")
    if given is not None:
        # From the running service (`upgrade_locked`), inside its transaction and lock.
        run(given)
    elif url is None:
        raise ValueError("no database to migrate: set sqlalchemy.url in the Alembic configuration")
    elif make_url(url).get_dialect().is_async:
        asyncio.run(_run_async(url, run))
    else:
        engine = create_engine(url, poolclass=pool.NullPool)
        with engine.connect() as connection:
            run(connection)
            connection.commit()
        engine.dispose()


async def _run_async(url: str, run: Callable[[Connection], None]) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()
    await engine.dispose()


def alembic_config(script_location: Path, url: str) -> Config:
    """A Config for the migrations in `script_location` on `url` (sync driver), without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    # ConfigParser interpolation would read '%' in a password as a reference.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
