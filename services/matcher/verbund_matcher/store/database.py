"""The database engine and `alembic upgrade head` for SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_runtime import databases
from verbund_runtime.migrations import migrate as upgrade

from .bulk import write_inserts_before_commit
from .networks import write_bumps_before_commit

# services/matcher/verbund_matcher/store/database.py -> services/matcher
_SERVICE_DIR = Path(__file__).resolve().parents[2]
ALEMBIC_INI = _SERVICE_DIR / "alembic.ini"

_SQLITE_PRAGMAS = (
    *databases.WRITE_AHEAD_LOG,
    # FULL: a commit is on disk before the consumer commits its offsets. With NORMAL a power loss could
    # roll back batches whose offsets Kafka already has, and their events would be lost for good.
    "synchronous=FULL",
    "busy_timeout=30000",
)


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL and a busy timeout so the relay and the consumer can share it.

    Statement parameters are left out of error messages: they hold events' payloads, which no log line carries.
    """
    return databases.create_engine(url, sqlite_pragmas=_SQLITE_PRAGMAS, pool_size=5, max_overflow=5)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine` that write deferred inserts and version bumps just before they commit.

    sessionmaker gives its sessions a Session class of their own, so the listeners are attached to this factory's
    sessions only: not to SQLAlchemy's Session for the whole process, where every other user (another matcher,
    another service in the same process) would run them too.
    """
    sync = sessionmaker(class_=Session)
    write_inserts_before_commit(sync)  # inserts first: a version bump may fail the commit (StaleNetwork)
    write_bumps_before_commit(sync)
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, sync_session_class=sync.class_)


def alembic_config() -> Config:
    if not ALEMBIC_INI.is_file():
        raise FileNotFoundError(
            f"{ALEMBIC_INI} is missing; the matcher reads its migrations from services/matcher in the "
            "repository (install it with pip install -e services/matcher)"
        )
    return Config(str(ALEMBIC_INI))


MIGRATION_LOCK_ID = 7466521


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration; idempotent, and safe for replicas starting at once."""
    await upgrade(engine, alembic_config(), MIGRATION_LOCK_ID)
