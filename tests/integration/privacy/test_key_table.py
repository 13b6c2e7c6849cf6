"""The key table on SQLite and PostgreSQL: one key per holder, wrapped at rest, gone for good once destroyed."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest
from sqlalchemy import text
from verbund_matcher.store.database import create_engine, migrate, session_factory
from verbund_matcher.store.keys import KeyTable, MasterKey, MasterKeyProblem, destroy_key
from verbund_schemas import PersonalDataErased

pytestmark = pytest.mark.timeout(120)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_holder_has_one_key_which_a_destroy_removes_for_every_reader(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "fresh_postgres_url")
    engine = create_engine(url)
    await migrate(engine)
    sessions = session_factory(engine)
    master = MasterKey.from_file(tmp_path / "master.key")
    keys, other_replica = KeyTable(sessions, master), KeyTable(sessions, master)
    try:
        # Producers and replicas asking at once for a new holder's key all get the same one.
        first, *rest = await asyncio.gather(*(k.key_for("net-1", "learner:L-1") for k in (keys, other_replica) * 3))
        assert all(k == first for k in rest)
        assert await keys.key("net-1", first.key_id) == first
        assert await keys.key("net-2", first.key_id) is None, "a key belongs to its network only"
        assert (await keys.key_for("net-1", "learner:L-2")).key_id != first.key_id

        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT wrapped FROM data_keys WHERE holder = 'learner:L-1'"))).scalar()
        assert base64.urlsafe_b64encode(first.secret).decode() not in str(stored)
        assert first.secret not in base64.urlsafe_b64decode(str(stored))

        async with sessions() as session:
            assert await destroy_key(session, "net-1", "learner:L-1")
            await session.commit()
        async with sessions() as session:
            assert not await destroy_key(session, "net-1", "learner:L-1"), "destroying twice changes nothing"
            await session.commit()

        assert await other_replica.key("net-1", first.key_id) is None
        assert await other_replica.destroyed("net-1", "learner:L-1")
        with pytest.raises(PersonalDataErased):
            await other_replica.key_for("net-1", "learner:L-1")
        assert await keys.key_for("net-1", "learner:L-2"), "other learners keep their keys"
    finally:
        await engine.dispose()


async def test_a_key_table_read_with_another_master_key_opens_nothing(sqlite_url: str, tmp_path: Path) -> None:
    engine = create_engine(sqlite_url)
    await migrate(engine)
    sessions = session_factory(engine)
    try:
        made = await KeyTable(sessions, MasterKey.from_file(tmp_path / "a.key")).key_for("net-1", "learner:L-1")
        with pytest.raises(MasterKeyProblem, match="does not open with this master key"):
            await KeyTable(sessions, MasterKey.from_file(tmp_path / "b.key")).key("net-1", made.key_id)
    finally:
        await engine.dispose()


def test_the_master_key_file_is_written_once_for_its_owner_only_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    MasterKey.from_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    written = path.read_text()
    MasterKey.from_file(path)
    assert path.read_text() == written
    with pytest.raises(MasterKeyProblem, match="does not exist"):
        MasterKey.from_file(tmp_path / "missing.key", create=False)
    (tmp_path / "short.key").write_text("c2hvcnQ=\n")
    with pytest.raises(MasterKeyProblem, match="32 bytes"):
        MasterKey.from_file(tmp_path / "short.key")
