"""The inbound handler in FastStream's in-memory test broker: records reach the unit of work, bytes untouched."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from faststream.kafka import TestKafkaBroker
from forced_network import ForcedNetwork
from sqlmodel import col, select
from verbund_matcher.app import Runtime, create_app
from verbund_matcher.settings import MatcherSettings
from verbund_matcher.store.database import create_engine, migrate, session_factory
from verbund_matcher.store.tables import InboxRow, OutboxRow
from verbund_schemas import topic


async def test_the_handler_applies_valid_records_and_rejects_bad_bytes_through_the_outbox(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    engine = create_engine(url)
    await migrate(engine)
    committed: list[int] = []
    runtime = Runtime(
        settings=MatcherSettings(database_url=url, solver_workers=1),
        engine=engine,
        sessions=session_factory(engine),
        today=lambda: dt.date(2030, 12, 2),
        on_committed=[lambda: committed.append(1)],
    )
    _, broker = create_app(runtime)
    net = ForcedNetwork("h-1")
    async with TestKafkaBroker(broker) as br:
        for event in net.stream(9):
            await br.publish(json.dumps(event).encode(), topic("inbound"), key=b"h-1")
        await br.publish(b"\xff\xfe not utf-8", topic("inbound"), key=b"h-1")
    async with runtime.sessions() as s:
        inbox = (await s.exec(select(InboxRow))).all()
        outbox = (await s.exec(select(OutboxRow).order_by(col(OutboxRow.seq)))).all()
    await engine.dispose()
    assert len(inbox) == 10 and len(committed) == 10
    assert [r.outcome for r in inbox].count("rejected") == 1
    rejected = [json.loads(r.payload) for r in outbox if r.topic_role == "rejected"]
    assert len(rejected) == 1 and "not UTF-8" in rejected[0]["data"]["reason"]
    assert rejected[0]["data"]["original_text"] is None
    assert any(r.event_type == "PlanPublished" for r in outbox)
