"""On the real broker: a learner states their own preferences, and only their own."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from forced_network import ForcedNetwork
from kafka_tools import consume
from matcher_harness import events_of, produce_events, settings_for, until
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_matcher.runner import run_matcher
from verbund_schemas import topic

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]

TODAY = dt.date(2030, 12, 2)


def learner(network: str, learner_id: str) -> dict[str, Any]:
    return {
        "authtype": "user",
        "principalid": f"{learner_id.lower()}@example.org",
        "role": "learner",
        "network_id": network,
        "learner_id": learner_id,
    }


async def registration(database_url: str, network: str, learner_id: str) -> dict[str, Any]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            payload = (
                await conn.execute(
                    text("SELECT payload FROM learners WHERE network_id = :n AND learner_id = :l"),
                    {"n": network, "l": learner_id},
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    return payload if isinstance(payload, dict) else dict(json.loads(payload))


async def test_a_learner_states_their_own_preferences_and_is_refused_anothers(
    kafka_bootstrap: str, sqlite_url: str
) -> None:
    n = ForcedNetwork(f"prefs-{uuid.uuid4().hex[:8]}")
    nid = n.network_id
    others = {
        **n._event("LearnerPreferencesStated", {"learner_id": "L0001", "firm_preferences": {"F1": -10}}),
        "authcontext": learner(nid, "L0000"),
    }
    own = {
        **n._event(
            "LearnerPreferencesStated",
            {"learner_id": "L0000", "firm_preferences": {"F1": 4}, "module_preferences": {"M2": 2}},
        ),
        "authcontext": learner(nid, "L0000"),
    }
    settings = settings_for(kafka_bootstrap, sqlite_url)
    async with run_matcher(settings, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        setup = n.registered(2)
        await produce_events(kafka_bootstrap, [*setup, others, own])
        rejected = await consume(
            kafka_bootstrap, topic("rejected"), until=lambda rs: len(events_of(rs, {nid})) >= 1, timeout=60
        )

        async def own_applied() -> bool:
            return (await registration(sqlite_url, nid, "L0000")).get("firm_preferences") == {"F1": 4}

        await until(own_applied, timeout=60)
        mine = await registration(sqlite_url, nid, "L0000")
        theirs = await registration(sqlite_url, nid, "L0001")

    refused = events_of(rejected, {nid})
    assert [r["data"]["original_event_id"] for r in refused] == [others["id"]]
    assert refused[0]["data"]["reason"] == (
        "not authorised: learner 'l0000@example.org' is learner 'L0000' and may not state preferences of 'L0001'"
    )
    assert mine["module_preferences"] == {"M2": 2}
    assert mine["name"] == "Learner L0000", "the rest of the registration stays as registered"
    assert theirs["firm_preferences"] == {}
