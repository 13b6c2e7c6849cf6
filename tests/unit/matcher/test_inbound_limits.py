"""What the matcher takes from the inbound topic: bounded records, plausible weeks, ids scoped by network."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from forced_network import ForcedNetwork, encode
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_matcher.service.ingest import InboundLimits, Record, handle_batch
from verbund_matcher.service.replan import PlannerSettings
from verbund_matcher.store.database import alembic_config, create_engine, migrate, session_factory
from verbund_matcher.store.tables import InboxRow, OfferRow, OutboxRow

Sessions = async_sessionmaker[AsyncSession]
TODAY = dt.date(2030, 12, 2)
PLANNER = PlannerSettings(workers=1)


def records(events: list[dict[str, Any]], *, start: int = 0) -> list[Record]:
    return [Record("verbund.inbound", 0, start + i, e["subject"].encode(), encode(e)) for i, e in enumerate(events)]


async def handle(sessions: Sessions, recs: list[Record], limits: InboundLimits = InboundLimits()) -> Any:
    return await handle_batch(sessions, recs, today=lambda: TODAY, planner=PLANNER, limits=limits)


async def outbox(sessions: Sessions, role: str | None = None) -> list[dict[str, Any]]:
    async with sessions() as s:
        rows = (await s.exec(select(OutboxRow).order_by(col(OutboxRow.seq)))).all()
    return [json.loads(r.payload) for r in rows if role is None or r.topic_role == role]


async def offers(sessions: Sessions, network: str) -> set[str]:
    async with sessions() as s:
        return set((await s.exec(select(OfferRow.offer_id).where(OfferRow.network_id == network))).all())


async def test_the_same_event_id_in_two_networks_is_applied_in_both(sessions: Sessions) -> None:
    # Two generators that number their events alike: the ids collide, the networks do not.
    first, second = ForcedNetwork("verbund-a"), ForcedNetwork("verbund-b")
    events_a, events_b = first.setup(), second.setup()
    for a, b in zip(events_a, events_b, strict=True):
        b["id"] = a["id"] = f"evt-{a['id'].rsplit('-', 1)[1]}"
    outcome = await handle(sessions, records(events_a) + records(events_b, start=100))
    assert (outcome.applied, outcome.duplicates, outcome.rejected) == (12, 0, 0)
    assert await offers(sessions, "verbund-a") == await offers(sessions, "verbund-b") == {"O1", "O2"}
    # Within one network the id still makes a redelivery a duplicate.
    again = await handle(sessions, records(events_b, start=200))
    assert (again.applied, again.duplicates) == (0, 6)


async def test_an_oversized_record_becomes_one_small_rejection_and_the_batch_goes_on(sessions: Sessions) -> None:
    net, other = ForcedNetwork("big"), ForcedNetwork("other")
    offer = net._event("CapacityOffered", net._offer("O9", "F1", "M1") | {"note": "x" * 900_000})
    raw = encode(offer)
    recs = [*records(net.setup()), Record("verbund.inbound", 0, 50, b"big", raw), *records(other.stream(12), start=51)]
    outcome = await handle(sessions, recs, InboundLimits(max_event_bytes=256 * 1024))
    assert outcome.rejected == 1 and outcome.applied == len(recs) - 1
    (rejected,) = await outbox(sessions, "rejected")
    data = rejected["data"]
    assert len(json.dumps(rejected)) < 16 * 1024
    assert data["original_size"] == len(raw) and data["original_truncated"] is True
    assert data["original_sha256"] == hashlib.sha256(raw).hexdigest()
    assert f"the record is {len(raw)} bytes; an event may have at most 262144 bytes" in data["reason"]
    assert data["original_event_id"] is None  # not read at all
    assert any(e["type"] == "PlanPublished" and e["subject"] == "other" for e in await outbox(sessions))


async def test_weeks_far_in_the_past_or_future_are_rejected_naming_field_value_and_range(sessions: Sessions) -> None:
    net = ForcedNetwork("weeks")
    early = net._event("CapacityOffered", net._offer("O-early", "F1", "M1") | {"first_week": "1900-W01"})
    late = net._event("CapacityOffered", net._offer("O-late", "F1", "M1") | {"last_week": "9999-W52"})
    outcome = await handle(sessions, records([*net.setup(), early, late]))
    assert (outcome.applied, outcome.rejected) == (6, 2)
    first, second = (e["data"] for e in await outbox(sessions, "rejected"))
    assert "names weeks outside 2025-W49 to 2040-W48" in first["reason"]
    assert first["errors"] == [
        "data.first_week: 1900-W01 is outside the weeks this network plans, 2025-W49 to 2040-W48"
    ]
    assert second["errors"] == [
        "data.last_week: 9999-W52 is outside the weeks this network plans, 2025-W49 to 2040-W48"
    ]
    assert await offers(sessions, "weeks") == {"O1", "O2"}


async def test_a_network_may_widen_its_own_horizon(sessions: Sessions) -> None:
    net = ForcedNetwork("archive")
    setup = net.setup()
    setup[0]["data"]["week_horizon_years_back"] = 40
    old = net._event("CapacityOffered", net._offer("O-1995", "F1", "M1") | {"first_week": "1995-W01"})
    outcome = await handle(sessions, records([*setup, old]))
    assert (outcome.applied, outcome.rejected) == (7, 0)


async def test_an_event_without_id_or_time_is_rejected_and_not_given_one(sessions: Sessions) -> None:
    net = ForcedNetwork("identity")
    no_id = {k: v for k, v in net.setup()[0].items() if k != "id"}
    no_time = {k: v for k, v in net.setup()[0].items() if k != "time"}
    outcome = await handle(sessions, records([no_id, no_time]))
    assert (outcome.applied, outcome.rejected) == (0, 2)
    reasons = [e["data"] for e in await outbox(sessions, "rejected")]
    assert reasons[0]["errors"] == ["id: Field required"] and reasons[1]["errors"] == ["time: Field required"]
    assert all("every event states its own id" in r["reason"] for r in reasons)
    # Read again (a redelivery), the same records are recognised by their position, not applied under new ids.
    again = await handle(sessions, records([no_id, no_time]))
    assert (again.applied, again.rejected, again.duplicates) == (0, 0, 2)


async def test_an_event_with_fields_from_a_newer_producer_is_applied(sessions: Sessions) -> None:
    net = ForcedNetwork("newer")
    events = net.setup()
    events[-1] = events[-1] | {"traceparent": "00-abc-def-01"}
    events[-1]["data"] = events[-1]["data"] | {"shift": "early", "room": {"building": "B"}}
    outcome = await handle(sessions, records(events))
    assert (outcome.applied, outcome.rejected) == (6, 0)
    assert await offers(sessions, "newer") == {"O1", "O2"}


async def test_inbox_rows_written_before_the_networks_were_told_apart_still_count(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    sync_url = f"sqlite:///{tmp_path / 'old.db'}"
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", sync_url)
    net = ForcedNetwork("legacy")
    events = net.setup()
    engine = sa.create_engine(sync_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.execute(
            sa.text(
                'INSERT INTO inbox (message_id, network_id, topic, partition, "offset", outcome, handled_at) '
                "VALUES (:id, :network, 'verbund.inbound', 0, :offset, :outcome, CURRENT_TIMESTAMP)"
            ),
            [
                {"id": events[0]["id"], "network": "legacy", "offset": 0, "outcome": "applied"},
                {"id": "kafka:verbund.inbound:0:1", "network": "legacy", "offset": 1, "outcome": "rejected"},
                {"id": "kafka:verbund.inbound:0:2", "network": None, "offset": 2, "outcome": "rejected"},
            ],
        )
    engine.dispose()
    async_engine = create_engine(url)
    await migrate(async_engine)
    sessions = session_factory(async_engine)
    try:
        # Offsets 0-2 were handled before the upgrade; the first event's id is known in its network.
        outcome = await handle(sessions, records(events[:3]))
        assert (outcome.applied, outcome.duplicates) == (0, 3)
        moved = [{**e, "id": events[0]["id"]} for e in events[:1]]
        assert (await handle(sessions, records(moved, start=10))).duplicates == 1
        async with sessions() as s:
            rows = {(r.network_id, r.message_id) for r in (await s.exec(select(InboxRow))).all()}
        assert ("", "kafka:verbund.inbound:0:1") in rows and ("legacy", events[0]["id"]) in rows
    finally:
        await async_engine.dispose()
