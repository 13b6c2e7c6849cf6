"""On the real broker: a console rebuild replays the firms' own inbound topics too, with the same firm checks."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from kafka_tools import produce
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_console.service.ingest import Ingest
from verbund_console.service.live import ChangeSignal
from verbund_console.service.rebuild import rebuild
from verbund_console.store.database import create_engine, migrate, session_factory
from verbund_console.store.readmodel import ReadModel
from verbund_schemas import topic
from verbund_schemas.topics import firm_inbound

from verbund.stack.topics import ensure_topics

pytestmark = [pytest.mark.kafka]


def _event(network: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "type": event_type,
        "source": "test",
        "id": uuid.uuid4().hex,
        "time": dt.datetime.now(dt.UTC).isoformat(),
        "subject": network,
        "data": data,
    }


def _offer(network: str, offer_id: str, firm_id: str, seats: int) -> dict[str, Any]:
    data = {"offer_id": offer_id, "firm_id": firm_id, "module_id": "M1", "first_week": "2031-W10"}
    return _event(network, "CapacityOffered", {**data, "last_week": "2031-W20", "max_seats": seats})


async def test_a_rebuild_folds_a_firms_own_offers_from_its_topic_and_not_its_forgeries(
    kafka_bootstrap: str, sqlite_url: str
) -> None:
    run = uuid.uuid4().hex[:8]
    network, own, other = f"rebuild-{run}", f"own{run}", f"other{run}"
    own_topic = firm_inbound().member(own)
    await ensure_topics(kafka_bootstrap, [own_topic])
    shared = [
        _event(network, "FirmRegistered", {"firm_id": f, "name": f, "location": {"city": "Aachen"}})
        for f in (own, other)
    ]
    for e in [*shared, _offer(network, "other-offer", other, 3)]:
        await produce(kafka_bootstrap, topic("inbound"), network, e)
    for e in (_offer(network, "own-offer", own, 2), _offer(network, "forged", other, 9)):
        await produce(kafka_bootstrap, own_topic.name, network, e)

    await migrate(sqlite_url)
    engine = create_engine(sqlite_url)
    read_model = ReadModel(session_factory(engine))
    try:
        applied = await rebuild(read_model, Ingest(read_model, ChangeSignal(), 256 * 1024), kafka_bootstrap)
    finally:
        await engine.dispose()
    reader = create_async_engine(sqlite_url)
    try:
        async with reader.connect() as conn:
            rows = await conn.execute(
                text("SELECT offer_id, firm_id FROM console_offers WHERE network_id = :n"), {"n": network}
            )
            offers = {offer_id: firm_id for offer_id, firm_id in rows}
    finally:
        await reader.dispose()

    assert applied["inbound"] >= 4
    assert offers == {"other-offer": other, "own-offer": own}, json.dumps(offers)
