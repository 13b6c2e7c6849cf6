"""On the real broker and PostgreSQL: a week below a firm's minimum is published as a deficit, then as resolved."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from forced_network import ForcedNetwork
from kafka_tools import consume
from matcher_harness import deduplicated, events_of, produce_events, settings_for
from verbund_matcher.runner import run_matcher
from verbund_schemas import topic

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TODAY = dt.date(2030, 12, 2)


def workshop_network(n: ForcedNetwork) -> list[dict[str, Any]]:
    """One two-week module at one firm whose workshop only runs with two learners a week, in exactly two weeks."""
    return [
        n._event("NetworkConfigured", {"name": "Werkstattverbund", "notice_period_weeks": 0}),
        n._event(
            "CurriculumPublished",
            {
                "curriculum_id": "C-W",
                "name": "Werkstatt",
                "modules": [{"module_id": "CNC", "name": "CNC-Fräsen", "duration_weeks": 2}],
                "groups": [{"group_id": "G", "name": "Pflicht", "module_ids": ["CNC"], "required": 1}],
            },
        ),
        n._event("FirmRegistered", {"firm_id": "F1", "name": "Spritzguss Meier", "location": {"city": "Aachen"}}),
        n._event(
            "CapacityOffered",
            {
                "offer_id": "O1",
                "firm_id": "F1",
                "module_id": "CNC",
                "first_week": "2031-W01",
                "last_week": "2031-W02",
                "max_seats": 2,
                "min_seats": 2,
            },
        ),
    ]


def learner(n: ForcedNetwork, learner_id: str) -> dict[str, Any]:
    return n._event(
        "LearnerRegistered",
        {
            "learner_id": learner_id,
            "name": f"Learner {learner_id}",
            "contact": {"name": f"Learner {learner_id}", "email": f"{learner_id.lower()}@example.org"},
            "curriculum_id": "C-W",
            "first_week": "2031-W01",
            "last_week": "2031-W02",
        },
    )


async def read_until(
    bootstrap: str, role: str, network: str, done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    records = await consume(
        bootstrap, topic(role), until=lambda rs: done(deduplicated(events_of(rs, {network}))), timeout=60
    )
    return deduplicated(events_of(records, {network}))


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


async def test_a_minimum_one_learner_cannot_fill_is_published_as_a_deficit_and_resolved_when_a_second_comes(
    kafka_bootstrap: str, fresh_postgres_url: str
) -> None:
    n = ForcedNetwork(f"deficit-{uuid.uuid4().hex[:8]}")
    nid = n.network_id
    settings = settings_for(kafka_bootstrap, fresh_postgres_url)
    async with run_matcher(settings, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        await produce_events(kafka_bootstrap, [*workshop_network(n), learner(n, "L1")])
        first = await read_until(
            kafka_bootstrap, "shortfalls", nid, lambda es: bool(of_type(es, "SeatDeficitDetected"))
        )
        plans = await read_until(kafka_bootstrap, "assignments", nid, lambda es: bool(of_type(es, "PlanPublished")))

        await produce_events(kafka_bootstrap, [learner(n, "L2")])
        later = await read_until(
            kafka_bootstrap, "shortfalls", nid, lambda es: bool(of_type(es, "SeatDeficitResolved"))
        )
        plans = await read_until(kafka_bootstrap, "assignments", nid, lambda es: len(of_type(es, "PlanPublished")) >= 2)

    (detected,) = of_type(first, "SeatDeficitDetected")
    data = detected["data"]
    assert (data["firm_id"], data["firm_name"], data["module_id"], data["module_name"]) == (
        "F1",
        "Spritzguss Meier",
        "CNC",
        "CNC-Fräsen",
    )
    (span,) = data["spans"]
    # The learner is placed (one missing a week) rather than left out (two missing and a requirement unmet).
    assert span == {"first_week": "2031-W01", "last_week": "2031-W02", "minimum": 2, "planned": 1}
    assert data["missing_learner_weeks"] == 2
    assert "would not run" in data["message"]

    first_plan, second_plan = (p["data"] for p in of_type(plans, "PlanPublished")[:2])
    assert first_plan["plan_version"] == data["plan_version"]
    assert first_plan["complete"] is False
    assert (first_plan["deficits"], first_plan["deficit_weeks"]) == (1, 2)
    assert first_plan["missing_learner_weeks"] == data["missing_learner_weeks"]

    (resolved,) = of_type(later, "SeatDeficitResolved")
    assert resolved["data"]["deficit_id"] == data["deficit_id"]
    assert resolved["data"]["plan_version"] == second_plan["plan_version"]
    assert second_plan["complete"] is True and second_plan["deficits"] == 0
    assert of_type(later, "SeatDeficitDetected") == [detected], "the deficit is announced once"
