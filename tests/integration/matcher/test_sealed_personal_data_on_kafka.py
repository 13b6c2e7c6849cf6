"""On the real broker: names travel sealed both ways through the matcher; erased and clear-text ones are refused."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from forced_network import ForcedNetwork, _learner
from kafka_tools import consume
from matcher_harness import events_of, produce_events, settings_for
from verbund_matcher.runner import run_matcher
from verbund_matcher.store.database import create_engine, session_factory
from verbund_matcher.store.keys import KeyTable, destroy_key
from verbund_schemas import open_event, seal_event, topic

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]

TODAY = dt.date(2030, 12, 2)


async def test_sealed_learners_are_planned_an_erased_one_is_refused_and_clear_text_is_refused_when_configured(
    kafka_bootstrap: str, sqlite_url: str, tmp_path: Path
) -> None:
    n = ForcedNetwork(f"sealed-{uuid.uuid4().hex[:8]}")
    nid = n.network_id
    master = tmp_path / "master.key"
    settings = settings_for(
        kafka_bootstrap,
        sqlite_url,
        master_key_file=str(master),
        accept_plaintext_personal_data=False,
        key_service_token="a-token-for-the-key-endpoint",
    )
    async with run_matcher(settings, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        engine = create_engine(sqlite_url)
        sessions = session_factory(engine)
        keys = KeyTable(sessions, master)
        try:
            kept = await seal_event(n._event("LearnerRegistered", _learner(nid, "L0000", 0)), keys)
            erased = await seal_event(n._event("LearnerRegistered", _learner(nid, "L0001", 3)), keys)
            # Sealed while the learner was still there, delivered after the erasure: it must not bring them back.
            late = await seal_event(n._event("LearnerUpdated", _learner(nid, "L0001", 6)), keys)
            async with sessions() as session:
                await destroy_key(session, nid, "learner:L0001")
                await session.commit()
        finally:
            await engine.dispose()
        in_clear = n._event("LearnerRegistered", _learner(nid, "L0002", 9))
        await produce_events(kafka_bootstrap, [*n.setup(), kept, erased, late, in_clear])
        rejected = await consume(
            kafka_bootstrap, topic("rejected"), until=lambda rs: len(events_of(rs, {nid})) >= 3, timeout=90
        )
        assignments = await consume(
            kafka_bootstrap, topic("assignments"), until=lambda rs: len(events_of(rs, {nid})) >= 3, timeout=90
        )
        inbound = await consume(
            kafka_bootstrap, topic("inbound"), until=lambda rs: len(events_of(rs, {nid})) >= 10, timeout=30
        )

    made = [e for e in events_of(assignments, {nid}) if e["type"] == "AssignmentMade"]
    assert {e["data"]["learner_id"] for e in made} == {"L0000"}
    assert all("learner_name" not in e["data"] and "personal" in e["data"] for e in made), made
    engine = create_engine(sqlite_url)
    try:
        opened = [await open_event(e, KeyTable(session_factory(engine), master)) for e in made]
    finally:
        await engine.dispose()
    names = {e["data"]["learner_name"] for e in opened}
    assert names == {"Learner L0000"}, "the matcher opened the sealed name and sealed it again for the plan"

    reasons = {r["data"]["original_event_id"]: r["data"]["reason"] for r in events_of(rejected, {nid})}
    assert "learner:L0001" in reasons[erased["id"]] and "erased" in reasons[erased["id"]]
    assert "erased" in reasons[late["id"]]
    assert "clear text" in reasons[in_clear["id"]] and "verbund publish" in reasons[in_clear["id"]]

    sealed_on_the_log = b"".join(
        r.value or b"" for r in inbound if r.key == nid.encode() and b"L0002" not in (r.value or b"")
    )
    published = b"".join(r.value or b"" for r in [*assignments, *rejected] if r.key == nid.encode())
    for secret in (b"Learner L0000", b"l0000@example.org", b"Learner L0001", b"l0001@example.org"):
        assert secret not in sealed_on_the_log
        assert secret not in published
