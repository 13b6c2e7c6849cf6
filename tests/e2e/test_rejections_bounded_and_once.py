"""With both services running: an oversized or malformed record is rejected once, small, and nothing stops."""

from __future__ import annotations

import asyncio
import hashlib
import json

import httpx
import pytest
import tiny_network as net
from kafka_tools import consume, produce
from service_processes import ServiceProcess
from verbund_schemas import AssignmentMade, topic
from wire import wait_for_event

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(240)]


def _skipped_by_notifier(notifier: ServiceProcess, cause: str) -> float:
    metrics = httpx.get(f"http://127.0.0.1:{notifier.health_port}/metrics", timeout=10).text
    prefix = f'verbund_notifier_rejected_total{{cause="{cause}",topic="{topic("inbound")}"}}'
    return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(prefix))


async def test_an_oversized_and_a_malformed_record_are_each_rejected_once_and_later_events_are_planned(
    kafka_bootstrap: str, matcher: ServiceProcess, notifier: ServiceProcess
) -> None:
    flooded, other = net.network_id("oversized"), net.network_id("after")
    for record in net.setup_records(flooded):
        await produce(kafka_bootstrap, topic("inbound"), flooded, record)
    offer = net.capacity_record(flooded)
    # Below the broker's 1 MB limit, far above the 256 KiB an event may have.
    huge = json.dumps({**offer, "id": f"{flooded}-huge", "data": {**offer["data"], "note": "x" * 900_000}})
    malformed = '{"type": "CapacityOffered", "subject": "' + flooded + '", "data": '
    await produce(kafka_bootstrap, topic("inbound"), flooded, huge)
    await produce(kafka_bootstrap, topic("inbound"), flooded, malformed)
    await produce(kafka_bootstrap, topic("inbound"), flooded, offer)
    for record in [*net.setup_records(other), net.capacity_record(other)]:
        await produce(kafka_bootstrap, topic("inbound"), other, record)

    # The consumer went on: both networks are planned, the flooded one with the offer sent after the junk.
    for network in (flooded, other):
        made = await wait_for_event(
            kafka_bootstrap, topic("assignments"), network, lambda e: isinstance(e, AssignmentMade)
        )
        assert isinstance(made, AssignmentMade) and made.data.learner_id == net.LEARNER_ID

    # The notifier read both bad records too (it counts them); give a second rejection the time to show.
    for _ in range(100):
        if _skipped_by_notifier(notifier, "too_large") >= 1 and _skipped_by_notifier(notifier, "invalid") >= 1:
            break
        await asyncio.sleep(0.2)
    assert _skipped_by_notifier(notifier, "too_large") >= 1 and _skipped_by_notifier(notifier, "invalid") >= 1
    await asyncio.sleep(2)

    records = await consume(
        kafka_bootstrap,
        topic("rejected"),
        until=lambda rs: sum(r.key == flooded.encode() for r in rs) >= 2,
        timeout=60,
    )
    rejected = [json.loads(r.value or b"{}") for r in records if r.key == flooded.encode()]
    assert len(rejected) == 2, [r["data"]["reason"] for r in rejected]
    assert {r["data"]["service"] for r in rejected} == {"matcher"}
    by_size = {r["data"]["original_size"]: r for r in rejected}
    big = by_size[len(huge.encode())]
    assert len(json.dumps(big)) < 16 * 1024
    assert big["data"]["original_truncated"] is True
    assert big["data"]["original_sha256"] == hashlib.sha256(huge.encode()).hexdigest()
    assert "an event may have at most 262144 bytes" in big["data"]["reason"]
    small = by_size[len(malformed.encode())]
    assert small["data"]["original_text"] == malformed and "not valid JSON" in small["data"]["reason"]
    for service in (matcher, notifier):
        service.assert_running()
        service.log_file.flush()
        assert "x" * 200 not in service.log_path.read_text(encoding="utf-8", errors="replace"), "a log carries payload"
