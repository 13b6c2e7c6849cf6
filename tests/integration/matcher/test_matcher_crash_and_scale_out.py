"""Real matcher processes on the real broker and PostgreSQL: kill -9 mid-stream, and two replicas in one group."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from forced_network import ForcedNetwork
from matcher_harness import (
    MatcherProcess,
    applied_count,
    deduplicated,
    fold,
    produce_events,
    published_events,
    settings_for,
    start_group_at_end,
    streams,
    until,
    until_all_applied,
    version_problems,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


async def published_deduplicated(
    bootstrap: str, nets: list[ForcedNetwork]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every assignment event of these networks on the topic deduplicated by id, and the records that repeat an id."""
    raw = await published_events(bootstrap, nets)
    seen = deduplicated(raw)
    first = {e["id"]: e for e in seen}
    repeats = [e for e in raw if first[e["id"]] is not e]
    return seen, repeats


async def test_kill_9_in_the_middle_of_5000_events_loses_and_doubles_nothing(
    kafka_bootstrap: str, fresh_postgres_url: str, tmp_path: Path
) -> None:
    nets, events = streams("crash", networks=40, per_network=125)
    ids = {n.network_id for n in nets}
    settings = settings_for(kafka_bootstrap, fresh_postgres_url, batch_max_records=250)
    await start_group_at_end(kafka_bootstrap, settings.group_id)
    first = MatcherProcess(settings, tmp_path / "first.log").start()
    second = MatcherProcess(settings, tmp_path / "second.log")
    try:
        await first.until_partitions(12)
        await produce_events(kafka_bootstrap, events)

        async def two_fifths_applied() -> bool:
            return bool((await applied_count(fresh_postgres_url, ids))[0] >= len(events) * 2 // 5)

        await until(two_fifths_applied, timeout=180, every=0.05)
        first.kill()
        killed_at = (await applied_count(fresh_postgres_url, ids))[0]
        second.start()
        await until_all_applied(fresh_postgres_url, ids, len(events))
        seen, repeats = await published_deduplicated(kafka_bootstrap, nets)
        assert second.terminate() == 0, second.log_tail()
    finally:
        first.stop_quietly()
        second.stop_quietly()

    assert 0 < killed_at < len(events), "the kill must land in the middle of the stream"
    # The final published plan of every network is the one its final state forces (an undisturbed run's).
    assert {k: v for k, v in fold(seen).items() if k in ids} == {n.network_id: n.expected() for n in nets}
    # Every plan version exactly once, in order, with all its assignment events: nothing lost or doubled.
    assert version_problems(seen) == []
    logical = Counter(
        (e["type"], e["data"].get("assignment_id"), e["data"]["plan_version"], e["subject"]) for e in seen
    )
    assert max(logical.values()) == 1
    # The relay publishes a round of at most relay_batch_size rows and marks them sent in the same transaction:
    # a kill can leave only that one round published but unmarked, and only that round goes out again.
    assert len(repeats) <= settings.relay_batch_size, f"{len(repeats)} records re-sent after the kill"
    # A re-sent record is the same event under its original id, so a consumer that dedups by id loses nothing.
    first = {e["id"]: e for e in seen}
    assert [e["id"] for e in repeats if e != first[e["id"]]] == []


async def test_two_replicas_split_the_partitions_and_hand_over_without_loss(
    kafka_bootstrap: str, fresh_postgres_url: str, tmp_path: Path
) -> None:
    nets, events = streams("scale", networks=24, per_network=60)
    ids = {n.network_id for n in nets}
    settings_a = settings_for(kafka_bootstrap, fresh_postgres_url, batch_max_records=100)
    settings_b = settings_a.model_copy(update={"health_port": settings_for(kafka_bootstrap, "").health_port})
    await start_group_at_end(kafka_bootstrap, settings_a.group_id)
    a = MatcherProcess(settings_a, tmp_path / "a.log").start()
    b = MatcherProcess(settings_b, tmp_path / "b.log")
    try:
        # The shared inbound topic's 12 partitions, and those of any firm's own topic on this broker.
        alone = await a.until_partitions(12)
        half = len(events) // 2
        await produce_events(kafka_bootstrap, events[:half])
        b.start()  # joins while A is busy: the group rebalances under load
        await b.until_partitions(1)

        async def a_gave_some_up() -> bool:
            return bool(await a.partitions() < alone)

        await until(a_gave_some_up, timeout=60)
        split = (await a.partitions(), await b.partitions())
        await produce_events(kafka_bootstrap, events[half:])
        assert a.terminate() == 0, a.log_tail()  # graceful: finishes its batch, B takes over its partitions
        await b.until_partitions(alone)
        await until_all_applied(fresh_postgres_url, ids, len(events))
        seen, _ = await published_deduplicated(kafka_bootstrap, nets)
        assert b.terminate() == 0, b.log_tail()
    finally:
        a.stop_quietly()
        b.stop_quietly()

    assert split[0] > 0 and split[1] > 0 and sum(split) <= alone
    assert {k: v for k, v in fold(seen).items() if k in ids} == {n.network_id: n.expected() for n in nets}
    assert version_problems(seen) == []
