"""Network versions, the optimistic guard of every write: bumped together at commit, a stale copy refused.

On SQLite the bumps of a transaction go out as one executemany; asyncpg does not count the rows of one,
so on PostgreSQL they go out one by one. Both must refuse a network changed since it was read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_matcher.store.database import create_engine, migrate, session_factory
from verbund_matcher.store.networks import LoadedNetwork, StaleNetwork, bump_version, load_locked, lock_networks
from verbund_matcher.store.tables import NetworkRow

Sessions = async_sessionmaker[AsyncSession]
NETWORKS = ("v-1", "v-2", "v-3")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def sessions(request: pytest.FixtureRequest) -> AsyncIterator[Sessions]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_postgres_url")
    engine = create_engine(url)
    await migrate(engine)
    yield session_factory(engine)
    await engine.dispose()


async def load(session: AsyncSession) -> dict[str, LoadedNetwork]:
    return {n: await load_locked(session, row) for n, row in (await lock_networks(session, NETWORKS)).items()}


async def stored(sessions: Sessions) -> dict[str, tuple[int, int | None, str]]:
    async with sessions() as session:
        rows = (await session.exec(select(NetworkRow).where(col(NetworkRow.network_id).in_(NETWORKS)))).all()
    return {r.network_id: (r.version, r.objective, r.solver) for r in rows}


async def test_bumps_are_written_at_commit_once_per_network_with_their_values(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        await load(session)  # creates the rows
    before = await stored(sessions)

    async with sessions() as session, session.begin():
        loaded = await load(session)
        bump_version(session, loaded["v-1"], objective=1)
        bump_version(session, loaded["v-1"], objective=2)  # two bumps of one network: one UPDATE, +2
        bump_version(session, loaded["v-2"], solver="repair")
        bump_version(session, loaded["v-3"], objective=7)  # the same columns as v-1's: one statement for both
        assert loaded["v-1"].row.version == before["v-1"][0] + 2, "the row shows its new version at once"

    after = await stored(sessions)
    assert after["v-1"] == (before["v-1"][0] + 2, 2, "")
    assert after["v-2"] == (before["v-2"][0] + 1, None, "repair")
    assert after["v-3"] == (before["v-3"][0] + 1, 7, "")
    assert {n: loaded[n].read_version for n in NETWORKS} == {n: v for n, (v, _, _) in after.items()}


async def test_a_network_changed_since_it_was_read_is_refused_and_nothing_of_the_transaction_stays(
    sessions: Sessions,
) -> None:
    async with sessions() as session, session.begin():
        outdated = await load(session)  # as a cache would keep them
    async with sessions() as session, session.begin():
        bump_version(session, (await load(session))["v-1"], objective=5)  # someone else writes v-1
    before = await stored(sessions)

    with pytest.raises(StaleNetwork, match="changed in another process"):
        async with sessions() as session, session.begin():
            await lock_networks(session, NETWORKS)
            bump_version(session, outdated["v-3"], objective=9)  # current: would pass on its own
            bump_version(session, outdated["v-1"], objective=9)  # stale, in the same statement as v-3's
            bump_version(session, outdated["v-2"], solver="full")

    assert await stored(sessions) == before

    async with sessions() as session, session.begin():
        fresh = await load(session)
        bump_version(session, fresh["v-1"], objective=9)
    assert (await stored(sessions))["v-1"] == (before["v-1"][0] + 1, 9, "")
