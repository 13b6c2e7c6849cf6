"""The matcher against the real broker and PostgreSQL: every inbound event type, poison records, operability."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest
from forced_network import ForcedNetwork
from kafka_tools import consume
from matcher_harness import deduplicated, events_of, fold, planned, produce_events, settings_for, version_problems
from verbund_matcher.runner import run_matcher
from verbund_schemas import topic

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TODAY = dt.date(2030, 12, 2)


async def published(bootstrap: str, network: str, until: Any) -> list[dict[str, Any]]:
    records = await consume(
        bootstrap,
        topic("assignments"),
        until=lambda rs: until(deduplicated(events_of(rs, {network}))),
        timeout=60,
    )
    events: list[dict[str, Any]] = deduplicated(events_of(records, {network}))
    return events


def plan_version(events: list[dict[str, Any]]) -> int:
    return max((e["data"]["plan_version"] for e in events if e["type"] == "PlanPublished"), default=0)


async def test_every_inbound_event_type_flows_through_to_published_assignments(
    kafka_bootstrap: str, fresh_postgres_url: str
) -> None:
    n = ForcedNetwork(f"e2e-{uuid.uuid4().hex[:8]}")
    nid = n.network_id
    learner = {
        "learner_id": "L1",
        "name": "Mara Keller",
        "contact": {"name": "Mara Keller", "email": "mara@example.org"},
        "curriculum_id": "C-FORCED",
        "first_week": "2031-W01",
        "last_week": "2031-W04",
    }
    steps: list[tuple[list[dict[str, Any]], int]] = [
        # (events, plan version expected afterwards)
        ([*n.setup(), n._event("LearnerRegistered", learner)], 1),
        (
            [
                n._event("FirmUpdated", {"firm_id": "F1", "name": "Firm One GmbH", "location": {"city": "Aachen"}}),
                n._event("FirmRegistered", {"firm_id": "F3", "name": "Firm Three", "location": {"city": "Bonn"}}),
                n._event(
                    "CapacityOffered",
                    {
                        "offer_id": "O3",
                        "firm_id": "F3",
                        "module_id": "M2",
                        "first_week": "2031-W01",
                        "last_week": "2031-W30",
                        "max_seats": 1,
                    },
                ),
                n._event("CapacityWithdrawn", {"offer_id": "O2", "reason": "machine broken"}),
            ],
            2,
        ),
        (
            [
                n._event("CapacityChanged", {"offer_id": "O3", "max_seats": 4}),
                n._event("LearnerUpdated", {**learner, "first_week": "2031-W10", "last_week": "2031-W13"}),
            ],
            3,
        ),
        ([n._event("FirmLeft", {"firm_id": "F3", "reason": "closed"})], 4),
        (
            [
                n._event("NetworkConfigured", {"name": "Renamed", "notice_period_weeks": 0, "change_penalty": 10}),
                n._event("LearnerWithdrawn", {"learner_id": "L1"}),
            ],
            5,
        ),
    ]
    settings = settings_for(kafka_bootstrap, fresh_postgres_url)
    async with run_matcher(settings, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        for events, version in steps:
            await produce_events(kafka_bootstrap, events)
            seen = await published(kafka_bootstrap, nid, lambda es, v=version: plan_version(es) >= v)
        rejected = await consume(kafka_bootstrap, topic("rejected"), timeout=5, until=lambda rs: True)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.health_port}") as http:
            metrics = (await http.get("/metrics")).text

    assert not [r for r in rejected if r.key == nid.encode()], "no event of this network may be rejected"
    assert version_problems(seen) == []
    by_version: dict[int, list[tuple[str, str]]] = {}
    for e in seen:
        by_version.setdefault(e["data"]["plan_version"], []).append((e["type"], e["data"].get("firm_id", "")))
    assert sorted(by_version[1]) == [("AssignmentMade", "F1"), ("AssignmentMade", "F2"), ("PlanPublished", "")]
    # O2 withdrawn: M2 moves to the new firm F3 and says why.
    changed = [e for e in seen if e["type"] == "AssignmentChanged" and e["data"]["plan_version"] == 2]
    assert [(c["data"]["module_id"], c["data"]["previous"]["firm_id"], c["data"]["firm_id"]) for c in changed] == [
        ("M2", "F2", "F3")
    ]
    assert "withdrew its offer" in changed[0]["data"]["reason"]
    # The learner's new window moves both phases.
    assert {e["data"]["start_week"] for e in seen if e["data"]["plan_version"] == 3 and "start_week" in e["data"]} == {
        "2031-W10",
        "2031-W12",
    }
    cancelled_v4 = [e for e in seen if e["type"] == "AssignmentCancelled" and e["data"]["plan_version"] == 4]
    assert any("left the network" in e["data"]["reason"] for e in cancelled_v4)
    # Version 4 came of its step's one event, and its PlanPublished names that event as read from the topic.
    plan_v4 = next(e for e in seen if e["type"] == "PlanPublished" and e["data"]["plan_version"] == 4)
    assert [(c["type"], c["event_id"]) for c in plan_v4["data"]["caused_by"]] == [("FirmLeft", steps[3][0][0]["id"])]
    assert plan_v4["data"]["caused_by_count"] == 1
    assert fold(seen)[nid] == {}, "the withdrawn learner keeps no assignment"
    assert "verbund_matcher_replans_total" in metrics


async def test_a_poison_record_between_valid_ones_is_rejected_and_the_rest_applied(
    kafka_bootstrap: str, fresh_postgres_url: str
) -> None:
    n = ForcedNetwork(f"poison-{uuid.uuid4().hex[:8]}")
    nid = n.network_id
    stream = n.stream(20)
    poison = b'{"type": "LearnerRegistered", "subject": "' + nid.encode() + b'", "data": {'  # cut off
    schema_violation = json.dumps(
        {"type": "CapacityOffered", "subject": nid, "id": "bad-1", "data": {"offer_id": "O9", "max_seats": -1}}
    ).encode()
    records: list[Any] = [*stream[:10], (nid.encode(), poison), (nid.encode(), schema_violation), *stream[10:]]
    settings = settings_for(kafka_bootstrap, fresh_postgres_url)
    async with run_matcher(settings, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        await produce_events(kafka_bootstrap, records)
        rejected = await consume(
            kafka_bootstrap, topic("rejected"), until=lambda rs: len(events_of(rs, {nid})) >= 2, timeout=60
        )
        seen = await published(kafka_bootstrap, nid, lambda es: planned(es, {nid: n.expected()}))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.health_port}") as http:
            health, ready = await http.get("/healthz"), await http.get("/readyz")
            metrics = (await http.get("/metrics")).text

    bad = events_of(rejected, {nid})
    assert [b["type"] for b in bad] == ["EventRejected", "EventRejected"]
    first, second = bad[0]["data"], bad[1]["data"]
    assert base64.b64decode(first["original_base64"]) == poison and first["original_text"] == poison.decode()
    assert "not valid JSON" in first["reason"] and first["key"] == nid and first["topic"] == topic("inbound")
    assert second["original_event_id"] == "bad-1" and any("max_seats" in e for e in second["errors"])
    assert second["offset"] == first["offset"] + 1
    assert fold(seen)[nid] == n.expected()
    assert version_problems(seen) == []
    assert health.status_code == 200 and ready.status_code == 200
    assert 'verbund_matcher_events_rejected_total{cause="invalid"}' in metrics


async def test_the_laptop_default_sqlite_publishes_the_same_plan(kafka_bootstrap: str, sqlite_url: str) -> None:
    n = ForcedNetwork(f"sqlite-{uuid.uuid4().hex[:8]}")
    settings = settings_for(kafka_bootstrap, sqlite_url)
    async with run_matcher(settings, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        await produce_events(kafka_bootstrap, n.stream(60))
        seen = await published(kafka_bootstrap, n.network_id, lambda es: planned(es, {n.network_id: n.expected()}))
    assert version_problems(seen) == []
