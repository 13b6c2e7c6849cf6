"""A real matcher process on the real broker and PostgreSQL: SIGTERM mid-stream, and the consumer-lag gauge."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from kafka_tools import consume
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
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_runtime.kafka import client_options
from verbund_schemas import load_topics, topic

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


def inbound_partitions() -> list[TopicPartition]:
    return [TopicPartition(topic("inbound"), p) for p in range(load_topics()["inbound"].partitions)]


async def committed_offsets(bootstrap: str, group_id: str) -> dict[int, int]:
    """The group's committed offset of every inbound partition, as the broker keeps it (-1: none)."""
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id, partitions=inbound_partitions())
    finally:
        await admin.close()
    return {tp.partition: (offsets[tp].offset if tp in offsets else -1) for tp in inbound_partitions()}


async def end_offsets(bootstrap: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(**client_options(bootstrap), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(inbound_partitions())
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


async def handled_offsets(database_url: str) -> dict[int, list[int]]:
    """Inbound offsets the inbox says were handled (applied or rejected), per partition, ascending."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text('SELECT partition, "offset" FROM inbox WHERE topic = :topic ORDER BY partition, "offset"'),
                    {"topic": topic("inbound")},
                )
            ).all()
    finally:
        await engine.dispose()
    out: dict[int, list[int]] = defaultdict(list)
    for partition, offset in rows:
        out[int(partition)].append(int(offset))
    return dict(out)


def offset_mismatches(start: dict[int, int], committed: dict[int, int], handled: dict[int, list[int]]) -> list[str]:
    """Partitions where what the database handled is not exactly what the group committed since `start`.

    Handled offsets must be start..committed-1 with no gap: an offset past the committed one was applied
    but not committed (it would be read again), a gap below it was committed but never applied (lost).
    """
    problems = []
    for partition, begin in sorted(start.items()):
        done = handled.get(partition, [])
        expected = list(range(begin, committed[partition])) if committed[partition] >= begin else None
        if done != expected:
            applied_past = [o for o in done if o >= committed[partition]]
            missing = sorted(set(range(begin, committed[partition])) - set(done))
            problems.append(
                f"partition {partition}: started at {begin}, committed {committed[partition]}, "
                f"{len(done)} handled; applied but uncommitted {applied_past[:5]}..., "
                f"committed but not applied {missing[:5]}..."
            )
    return problems


async def outbox_ids(database_url: str) -> dict[str, set[str]]:
    """Event ids of the outbox rows marked sent, per topic role; those not yet sent under "unsent"."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT topic_role, event_id, sent_at IS NULL FROM outbox"))).all()
    finally:
        await engine.dispose()
    out: dict[str, set[str]] = defaultdict(set)
    for role, event_id, unsent in rows:
        out["unsent" if unsent else role].add(event_id)
    return dict(out)


def event_ids(records: list[ConsumerRecord[bytes, bytes]]) -> set[str]:
    return {str(json.loads(r.value).get("id")) for r in records if r.value}


async def on_topic(bootstrap: str, role: str, ids: set[str]) -> set[str]:
    """Wait until every one of these event ids is on the role's topic; returns those found."""
    records = await consume(bootstrap, topic(role), until=lambda rs: ids <= event_ids(rs), timeout=60)
    return ids & event_ids(records)


async def test_sigterm_mid_stream_commits_the_batch_in_hand_and_publishes_the_outbox_before_exit(
    kafka_bootstrap: str, fresh_postgres_url: str, tmp_path: Path
) -> None:
    nets, events = streams("sigterm", networks=40, per_network=100)
    ids = {n.network_id for n in nets}
    settings = settings_for(kafka_bootstrap, fresh_postgres_url, batch_max_records=250)
    await start_group_at_end(kafka_bootstrap, settings.group_id)
    start = await committed_offsets(kafka_bootstrap, settings.group_id)
    first = MatcherProcess(settings, tmp_path / "first.log").start()
    second = MatcherProcess(settings, tmp_path / "second.log")
    try:
        await first.until_partitions(12)
        await produce_events(kafka_bootstrap, events)

        async def a_third_applied() -> bool:
            return bool((await applied_count(fresh_postgres_url, ids))[0] >= len(events) // 3)

        await until(a_third_applied, timeout=180, every=0.05)
        exit_code = first.terminate()
        stopped_at, unsent_at_stop = await applied_count(fresh_postgres_url, ids)
        committed_at_stop = await committed_offsets(kafka_bootstrap, settings.group_id)
        handled_at_stop = await handled_offsets(fresh_postgres_url)
        outbox_at_stop = await outbox_ids(fresh_postgres_url)
        # What the relay marked sent is really on the topics (not merely marked).
        sent_at_stop = {role: ids_ for role, ids_ in outbox_at_stop.items() if role != "unsent"}
        relayed = {role: await on_topic(kafka_bootstrap, role, ids_) for role, ids_ in sent_at_stop.items()}

        second.start()
        await until_all_applied(fresh_postgres_url, ids, len(events))
        seen = await published_events(kafka_bootstrap, nets)
        assert second.terminate() == 0, second.log_tail()
        committed_at_end = await committed_offsets(kafka_bootstrap, settings.group_id)
        handled_at_end = await handled_offsets(fresh_postgres_url)
        ends = await end_offsets(kafka_bootstrap)
    finally:
        first.stop_quietly()
        second.stop_quietly()

    assert exit_code == 0, first.log_tail()
    assert 0 < stopped_at < len(events), "SIGTERM must land in the middle of the stream"
    # Database and consumer group agree at the stop: nothing applied-but-uncommitted, nothing committed-but-lost.
    mismatches = offset_mismatches(start, committed_at_stop, handled_at_stop)
    assert not mismatches, "\n".join(mismatches)
    assert sum(committed_at_stop[p] - start[p] for p in start) == stopped_at
    # The relay published everything committed before the process closed.
    assert unsent_at_stop == 0, f"{len(outbox_at_stop.get('unsent', ()))} outbox rows left unsent at exit"
    assert sent_at_stop.get("assignments"), "the applied part of the stream must have produced assignments"
    assert relayed == sent_at_stop
    # The restarted matcher resumed at the committed offsets and read the rest: all handled, all committed.
    mismatches = offset_mismatches(start, committed_at_end, handled_at_end)
    assert not mismatches, "\n".join(mismatches)
    assert committed_at_end == ends
    # The final published plan is the one the final state forces, every version once and in order.
    assert {k: v for k, v in fold(deduplicated(seen)).items() if k in ids} == {n.network_id: n.expected() for n in nets}
    assert version_problems(deduplicated(seen)) == []
    # A graceful stop leaves nothing to re-send: no event id (AssignmentMade or any other) was published twice.
    repeated = {i: c for i, c in Counter(e["id"] for e in seen).items() if c > 1}
    assert repeated == {}
    assert any(e["type"] == "AssignmentMade" for e in seen)


async def consumer_lag(process: MatcherProcess) -> float | None:
    """verbund_matcher_consumer_lag as /metrics serves it (None while the endpoint does not answer)."""
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            answer = await http.get(f"http://127.0.0.1:{process.settings.health_port}/metrics")
    except httpx.HTTPError:
        return None
    found = re.search(r"^verbund_matcher_consumer_lag ([0-9.eE+-]+)$", answer.text, re.MULTILINE)
    assert found is not None, f"/metrics has no verbund_matcher_consumer_lag:\n{answer.text}"
    return float(found.group(1))


async def test_consumer_lag_gauge_counts_the_backlog_while_consumption_is_held_and_returns_to_zero(
    kafka_bootstrap: str, fresh_postgres_url: str, tmp_path: Path
) -> None:
    nets, events = streams("lag", networks=12, per_network=60)
    ids = {n.network_id for n in nets}
    settings = settings_for(kafka_bootstrap, fresh_postgres_url, batch_max_records=50, lag_poll_seconds=0.2)
    await start_group_at_end(kafka_bootstrap, settings.group_id)
    matcher = MatcherProcess(settings, tmp_path / "matcher.log").start()
    holder = create_async_engine(fresh_postgres_url)
    lags: list[float] = []
    try:
        await matcher.until_partitions(12)
        idle_lag = await consumer_lag(matcher)
        async with holder.connect() as conn:
            # Holding the inbox table makes the first batch's transaction wait: the consumer takes no more
            # records, so everything produced now stays a backlog until the lock is released.
            await conn.execute(text("LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE"))
            await produce_events(kafka_bootstrap, events)

            async def lag_reported() -> bool:
                lag = await consumer_lag(matcher)
                if lag is not None:
                    lags.append(lag)
                return bool(lag)

            try:
                await until(lag_reported, timeout=60, every=0.2)
            except TimeoutError:
                raise AssertionError(f"the lag gauge stayed {lags[-5:]} with a held backlog of {len(events)}") from None
            applied_while_held = (await conn.execute(text("SELECT count(*) FROM inbox"))).scalar_one()
            await conn.rollback()
        await until_all_applied(fresh_postgres_url, ids, len(events), timeout=180)

        async def lag_back_to_zero() -> bool:
            lag = await consumer_lag(matcher)
            if lag is not None:
                lags.append(lag)
            return lag == 0

        try:
            await until(lag_back_to_zero, timeout=60, every=0.2)
        except TimeoutError:
            raise AssertionError(f"the lag gauge stayed {lags[-5:]} after everything was applied") from None
        assert matcher.terminate() == 0, matcher.log_tail()
    finally:
        matcher.stop_quietly()
        await holder.dispose()

    assert idle_lag == 0
    assert applied_while_held == 0, "the held lock must have kept every record of the backlog unapplied"
    backlog = max(lags)
    # The gauge counts records not yet taken by the consumer: never more than the backlog produced.
    assert 0 < backlog <= len(events)
    assert lags[-1] == 0
