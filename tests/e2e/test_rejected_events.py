"""Invalid input goes to the rejected topic with a reason, and the events after it are still processed."""

from __future__ import annotations

import base64

import pytest
import tiny_network as net
from kafka_tools import produce
from service_processes import ServiceProcess
from verbund_schemas import AssignmentMade, EventRejected, topic
from wire import wait_for_event

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(180)]


async def test_malformed_and_invalid_events_are_rejected_with_reasons_and_later_events_still_apply(
    kafka_bootstrap: str, matcher: ServiceProcess
) -> None:
    network = net.network_id("rejected")
    setup = net.setup_records(network)
    for record in setup:
        await produce(kafka_bootstrap, topic("inbound"), network, record)
    not_json = '{"type": "CapacityOffered", "subject": '
    offer = net.capacity_record(network)
    broken_offer = {**offer, "id": f"{network}-broken", "data": {**offer["data"], "max_seats": 0}}
    await produce(kafka_bootstrap, topic("inbound"), network, not_json)
    await produce(kafka_bootstrap, topic("inbound"), network, broken_offer)
    await produce(kafka_bootstrap, topic("inbound"), network, offer)

    garbled = await wait_for_event(
        kafka_bootstrap,
        topic("rejected"),
        network,
        lambda e: isinstance(e, EventRejected) and base64.b64decode(e.data.original_base64) == not_json.encode(),
    )
    assert isinstance(garbled, EventRejected)
    assert "JSON" in garbled.data.reason
    assert garbled.data.topic == topic("inbound") and garbled.data.key == network

    invalid = await wait_for_event(
        kafka_bootstrap,
        topic("rejected"),
        network,
        lambda e: isinstance(e, EventRejected) and e.data.original_event_id == f"{network}-broken",
    )
    assert isinstance(invalid, EventRejected)
    assert invalid.data.original_type == "CapacityOffered"
    assert any("max_seats" in error for error in invalid.data.errors), invalid.data.errors

    made = await wait_for_event(kafka_bootstrap, topic("assignments"), network, lambda e: isinstance(e, AssignmentMade))
    assert isinstance(made, AssignmentMade) and made.data.learner_id == net.LEARNER_ID
    matcher.assert_running()
