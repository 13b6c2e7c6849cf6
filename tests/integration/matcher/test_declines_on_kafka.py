"""On the real broker: a firm's decline outlives a coordinator's LearnerUpdated, and a coordinator's accept of the
declined placement takes it back."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from forced_network import ForcedNetwork, _learner
from kafka_tools import consume
from matcher_harness import events_of, produce_events, settings_for
from verbund_matcher.runner import run_matcher
from verbund_schemas import topic

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]

TODAY = dt.date(2030, 12, 2)
Records = list[ConsumerRecord[bytes, bytes]]


async def test_a_decline_outlives_a_learner_update_and_a_coordinators_accept_takes_it_back(
    kafka_bootstrap: str, sqlite_url: str
) -> None:
    n = ForcedNetwork(f"decline-{uuid.uuid4().hex[:8]}")
    nid = n.network_id
    # Two firms for M1, so the decline moves the learner; withdrawing the second later leaves only the firm that
    # declined, where a lost decline would put the learner back.
    second_host = [
        n._event("FirmRegistered", {"firm_id": "F3", "name": "Firm Three", "location": {"city": "Düren"}}),
        n._event("CapacityOffered", n._offer("O3", "F3", "M1")),
    ]
    settings = settings_for(kafka_bootstrap, sqlite_url)

    def m1(records: Records, kind: str) -> list[dict[str, Any]]:
        return [e["data"] for e in events_of(records, {nid}) if e["type"] == kind and e["data"]["module_id"] == "M1"]

    async with run_matcher(settings, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        await produce_events(kafka_bootstrap, [*n.registered(1), *second_host])
        first = await consume(kafka_bootstrap, topic("assignments"), until=lambda rs: bool(m1(rs, "AssignmentMade")))
        placed = m1(first, "AssignmentMade")[0]
        host, start = placed["firm_id"], placed["start_week"]
        other_host, other_offer = ("F3", "O3") if host == "F1" else ("F1", "O1")
        placement = {"learner_id": "L0000", "module_id": "M1", "firm_id": host, "start_week": start}
        declined = {
            **n._event("PlacementAnswered", {**placement, "answer": "declined", "reason": "workshop closed"}),
            "authcontext": {
                "authtype": "user",
                "principalid": f"hr@{host.lower()}.example.org",
                "role": "firm",
                "network_id": nid,
                "firm_id": host,
            },
        }
        await produce_events(kafka_bootstrap, [declined])
        await consume(kafka_bootstrap, topic("assignments"), until=lambda rs: bool(m1(rs, "AssignmentChanged")))

        # The coordinator replaces the whole registration (a new name), then the other host withdraws.
        updated = {**_learner(nid, "L0000", 0), "name": "Learner L0000 (renamed)"}
        await produce_events(
            kafka_bootstrap,
            [n._event("LearnerUpdated", updated), n._event("CapacityWithdrawn", {"offer_id": other_offer})],
        )
        cancelled = await consume(
            kafka_bootstrap, topic("assignments"), until=lambda rs: bool(m1(rs, "AssignmentCancelled"))
        )
        shortfalls = await consume(
            kafka_bootstrap, topic("shortfalls"), until=lambda rs: bool(m1(rs, "ShortfallDetected"))
        )

        # A coordinator (no firm in the authcontext) accepts the declined placement: the learner may go there again.
        accepted = n._event("PlacementAnswered", {**placement, "answer": "accepted", "reason": ""})
        await produce_events(kafka_bootstrap, [accepted])
        again = await consume(
            kafka_bootstrap,
            topic("assignments"),
            until=lambda rs: len(m1(rs, "AssignmentMade")) >= 2,
            timeout=60,
        )

    moved = m1(cancelled, "AssignmentChanged")
    assert [(c["firm_id"], c["previous"]["firm_id"]) for c in moved] == [(other_host, host)]
    made_before_accept = m1(cancelled, "AssignmentMade")
    assert [a["firm_id"] for a in made_before_accept] == [host], "after the decline nothing went back to the host"
    assert [c["firm_id"] for c in m1(cancelled, "AssignmentCancelled")] == [other_host]
    (shortfall,) = m1(shortfalls, "ShortfallDetected")
    assert shortfall["learner_id"] == "L0000" and shortfall["reason"] == "eligibility", shortfall
    replanned = m1(again, "AssignmentMade")[-1]
    assert (replanned["learner_id"], replanned["firm_id"]) == ("L0000", host)
