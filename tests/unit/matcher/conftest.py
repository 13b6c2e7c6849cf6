"""Unit tests of the matcher share the forced-network streams with its integration tests, and a fresh database."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_matcher.store.database import create_engine, migrate, session_factory

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "integration" / "matcher"))


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated SQLite database of the matcher's own, per test."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'matcher.db'}")
    await migrate(engine)
    yield session_factory(engine)
    await engine.dispose()
