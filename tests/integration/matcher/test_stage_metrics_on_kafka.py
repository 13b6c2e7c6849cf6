"""The matcher's per-stage latency histograms on /metrics, after records went through it on the real broker."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import pytest
from forced_network import ForcedNetwork
from kafka_tools import consume
from matcher_harness import deduplicated, events_of, fold, produce_events, settings_for
from prometheus_client.parser import text_string_to_metric_families
from verbund_matcher.runner import run_matcher
from verbund_schemas import topic

pytestmark = [pytest.mark.kafka]

TODAY = dt.date(2030, 12, 2)
STAGES = {"fetch_wait", "decode", "inbox", "state", "plan", "commit", "relay_pickup", "publish"}


def _counts(metrics_text: str) -> tuple[dict[str, float], float]:
    """Observations per stage label, and of append → published, from an exposition text."""
    stages: dict[str, float] = {}
    end_to_end = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "verbund_matcher_stage_seconds_count":
                stages[sample.labels["stage"]] = sample.value
            elif sample.name == "verbund_matcher_append_to_published_seconds_count":
                end_to_end = sample.value
    return stages, end_to_end


async def test_every_stage_and_append_to_published_are_observed_once_records_are_planned(
    kafka_bootstrap: str, sqlite_url: str
) -> None:
    n = ForcedNetwork(f"stages-{uuid.uuid4().hex[:8]}")
    settings = settings_for(kafka_bootstrap, sqlite_url)
    async with (
        run_matcher(settings, today=lambda: TODAY) as matcher,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.health_port}") as http,
    ):
        await matcher.until_consuming()
        # Histograms live in the process's registry: earlier tests may have observed some already.
        before, end_to_end_before = _counts((await http.get("/metrics")).text)
        await produce_events(kafka_bootstrap, n.stream(12))
        await consume(
            kafka_bootstrap,
            topic("assignments"),
            until=lambda rs: fold(deduplicated(events_of(rs, {n.network_id}))).get(n.network_id) == n.expected(),
            timeout=60,
        )
        # The relay observes append → published right after Kafka acknowledged; the consumer may be quicker.
        for _ in range(100):
            after, end_to_end_after = _counts((await http.get("/metrics")).text)
            if end_to_end_after > end_to_end_before and all(after.get(s, 0) > before.get(s, 0) for s in STAGES):
                break
            await asyncio.sleep(0.1)

    assert set(after) == STAGES, "exactly the documented stage labels, nothing per network or learner"
    grew = {s for s in STAGES if after[s] > before.get(s, 0)}
    assert grew == STAGES, f"stages not observed: {sorted(STAGES - grew)}"
    # Fetch wait is per record: at least one observation per record produced.
    assert after["fetch_wait"] - before.get("fetch_wait", 0) >= 12
    assert end_to_end_after - end_to_end_before >= 1
