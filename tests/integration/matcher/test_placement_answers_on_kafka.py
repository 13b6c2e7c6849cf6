"""On the real broker: a firm declines a planned placement and the learner is planned elsewhere; a firm cannot
answer another firm's placement."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from forced_network import ForcedNetwork
from kafka_tools import consume
from matcher_harness import events_of, produce_events, settings_for
from verbund_matcher.runner import run_matcher
from verbund_schemas import topic

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]

TODAY = dt.date(2030, 12, 2)


def firm(network: str, firm_id: str) -> dict[str, Any]:
    return {
        "authtype": "user",
        "principalid": f"hr@{firm_id.lower()}.example.org",
        "role": "firm",
        "network_id": network,
        "firm_id": firm_id,
    }


async def test_a_declined_placement_moves_the_learner_to_another_firm_and_a_firm_cannot_answer_for_another(
    kafka_bootstrap: str, sqlite_url: str
) -> None:
    n = ForcedNetwork(f"answer-{uuid.uuid4().hex[:8]}")
    nid = n.network_id
    # A second firm for M1: once the first declines, the learner has somewhere else to go.
    second_host = [
        n._event("FirmRegistered", {"firm_id": "F3", "name": "Firm Three", "location": {"city": "Düren"}}),
        n._event("CapacityOffered", n._offer("O3", "F3", "M1")),
    ]
    settings = settings_for(kafka_bootstrap, sqlite_url)
    async with run_matcher(settings, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        await produce_events(kafka_bootstrap, [*n.registered(1), *second_host])

        def m1_made(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
            return any(
                e["type"] == "AssignmentMade" and e["data"]["module_id"] == "M1" for e in events_of(records, {nid})
            )

        first = await consume(kafka_bootstrap, topic("assignments"), until=m1_made, timeout=90)
        placed = next(
            e["data"]
            for e in events_of(first, {nid})
            if e["type"] == "AssignmentMade" and e["data"]["module_id"] == "M1"
        )
        host = placed["firm_id"]
        other_host = "F3" if host == "F1" else "F1"
        answer = {
            "learner_id": "L0000",
            "module_id": "M1",
            "firm_id": host,
            "start_week": placed["start_week"],
            "answer": "declined",
            "reason": "our workshop is closed for renovation",
        }
        # Firm Two answers a placement at the host: refused, whatever firm the payload names.
        forged = {**n._event("PlacementAnswered", answer), "authcontext": firm(nid, "F2")}
        declined = {**n._event("PlacementAnswered", answer), "authcontext": firm(nid, host)}
        # An accept first: recorded, not refused, and it moves nobody (the decline after it does).
        accepted = {
            **n._event("PlacementAnswered", {**answer, "answer": "accepted", "reason": ""}),
            "authcontext": firm(nid, host),
        }
        await produce_events(kafka_bootstrap, [accepted, forged, declined])

        def moved(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
            return any(
                e["type"] == "AssignmentChanged" and e["data"]["module_id"] == "M1" for e in events_of(records, {nid})
            )

        assignments = await consume(kafka_bootstrap, topic("assignments"), until=moved, timeout=90)
        rejected = await consume(
            kafka_bootstrap, topic("rejected"), until=lambda rs: len(events_of(rs, {nid})) >= 1, timeout=30
        )

    changes = [e for e in events_of(assignments, {nid}) if e["type"] == "AssignmentChanged"]
    assert len(changes) == 1, changes
    change = next(
        e["data"]
        for e in events_of(assignments, {nid})
        if e["type"] == "AssignmentChanged" and e["data"]["module_id"] == "M1"
    )
    assert change["learner_id"] == "L0000"
    assert change["firm_id"] == other_host, change
    assert change["previous"]["firm_id"] == host
    assert "declined" in change["reason"], change["reason"]
    refused = events_of(rejected, {nid})
    assert [r["data"]["original_event_id"] for r in refused] == [forged["id"]]
    assert refused[0]["data"]["reason"] == (
        f"not authorised: firm 'hr@f2.example.org' acts for firm 'F2' and may not answer a placement at {host!r}"
    )
