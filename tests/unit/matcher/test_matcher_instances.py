"""Two matchers in one process share no state: each Runtime owns its engine, sessions and last plans."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from faststream import FastStream
from faststream.kafka import KafkaBroker, TestKafkaBroker
from forced_network import ForcedNetwork
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_matcher import app as app_module
from verbund_matcher.app import Runtime, create_app
from verbund_matcher.settings import MatcherSettings
from verbund_matcher.store import bulk, networks
from verbund_matcher.store.bulk import insert_at_commit
from verbund_matcher.store.database import create_engine, migrate
from verbund_matcher.store.tables import OutboxRow, table_of
from verbund_schemas import topic

TODAY = dt.date(2030, 12, 2)


async def matcher(tmp_path: Path, name: str) -> tuple[Runtime, KafkaBroker]:
    settings = MatcherSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / name}.db",
        group_id=f"matcher-{name}",
        client_id=f"matcher-{name}",
        solver_workers=1,
    )
    runtime = Runtime.from_settings(settings, today=lambda: TODAY)
    await migrate(runtime.engine)
    _, broker = create_app(runtime)
    return runtime, broker


async def made(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as s:
        rows = (await s.exec(select(OutboxRow).order_by(col(OutboxRow.seq)))).all()
    return [json.loads(r.payload)["data"]["assignment_id"] for r in rows if r.event_type == "AssignmentMade"]


async def test_two_matchers_with_the_same_network_id_keep_their_own_plans(tmp_path: Path) -> None:
    (a, broker_a), (b, broker_b) = await matcher(tmp_path, "a"), await matcher(tmp_path, "b")
    try:
        for broker, learners in ((broker_a, 1), (broker_b, 3)):
            async with TestKafkaBroker(broker) as br:
                for event in ForcedNetwork("shared").registered(learners):
                    await br.publish(json.dumps(event).encode(), topic("inbound"), key=b"shared")

        last_a, last_b = a.last_plans.get("shared"), b.last_plans.get("shared")
        assert last_a is not None and last_b is not None
        assert [s.id for s in last_a[0].learners] == ["L0000"]
        assert [s.id for s in last_b[0].learners] == ["L0000", "L0001", "L0002"]
        assert a.planner.last_plans is a.last_plans and b.planner.last_plans is b.last_plans
        assert len(await made(a)) == 2 and len(await made(b)) == 6
        # Each app's consumers (inbound, and replay requests on the parked topic) are in its own groups.
        assert [s.group_id for s in broker_a.subscribers] == ["matcher-a", "matcher-a.replays"]
        assert [s.group_id for s in broker_b.subscribers] == ["matcher-b", "matcher-b.replays"]
    finally:
        await a.engine.dispose()
        await b.engine.dispose()


async def test_each_matchers_sessions_run_their_own_commit_listeners_and_no_one_elses(tmp_path: Path) -> None:
    (a, _), (b, _) = await matcher(tmp_path, "a"), await matcher(tmp_path, "b")
    try:
        async with a.sessions() as sa, b.sessions() as sb:
            assert type(sa.sync_session) is not type(sb.sync_session)
            for session in (sa, sb):
                assert bulk._write_pending in session.sync_session.dispatch.before_commit
                assert networks._write_bumps in session.sync_session.dispatch.before_commit
        plain = Session()
        assert bulk._write_pending not in plain.dispatch.before_commit
        assert networks._write_bumps not in plain.dispatch.before_commit
    finally:
        await a.engine.dispose()
        await b.engine.dispose()


async def test_a_session_that_would_drop_deferred_inserts_is_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}")
    try:
        async with AsyncSession(engine) as session:
            with pytest.raises(RuntimeError, match="session_factory"):
                insert_at_commit(session, table_of(OutboxRow), [{"event_id": "e-1"}])
    finally:
        await engine.dispose()


def test_importing_the_app_module_builds_no_engine_broker_or_app() -> None:
    built = [
        name for name, value in vars(app_module).items() if isinstance(value, FastStream | KafkaBroker | AsyncEngine)
    ]
    assert built == []
    # `faststream run verbund_matcher.app:app` still finds one, built when asked for.
    assert isinstance(app_module.app, FastStream)
