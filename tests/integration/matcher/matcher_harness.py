"""Driving a matcher in tests: settings, producing inbound events in bulk, reading back what it published."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from forced_network import ForcedNetwork
from kafka_tools import consume
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_matcher.settings import MatcherSettings
from verbund_runtime.kafka import client_options
from verbund_schemas import load_topics, topic


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_for(bootstrap: str, database_url: str, **overrides: Any) -> MatcherSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap_servers": bootstrap,
        "group_id": f"matcher-test-{uuid.uuid4().hex[:8]}",
        "batch_timeout_ms": 100,
        "relay_poll_seconds": 0.1,
        "full_reoptimise_interval": 0,
        "health_port": free_port(),
        "solver_workers": 1,
        "log_json": False,
        # Tests start the matcher before producing; a new group must not read earlier tests' events.
        "auto_offset_reset": "latest",
    }
    values.update(overrides)
    return MatcherSettings(**values)


def env_for(settings: MatcherSettings) -> dict[str, str]:
    """The same settings as VERBUND_* variables, for a matcher started as a subprocess."""
    out = {}
    for name, value in settings.model_dump().items():
        if value is None:  # unset stays unset (the Kafka security ones: the subprocess inherits VERBUND_KAFKA_*)
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        out[f"VERBUND_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


async def produce_events(bootstrap: str, events: Iterable[dict[str, Any] | tuple[bytes | None, bytes]]) -> int:
    """Send events (dicts keyed by subject, or raw (key, value) pairs) to the inbound topic, in order."""
    producer = AIOKafkaProducer(**client_options(bootstrap), acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    sent = 0
    try:
        futures = []
        for e in events:
            if isinstance(e, tuple):
                key, value = e
            else:
                key, value = e["subject"].encode(), json.dumps(e).encode()
            futures.append(await producer.send(topic("inbound"), value=value, key=key))
            sent += 1
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


def events_of(records: Iterable[ConsumerRecord[bytes, bytes]], networks: set[str]) -> list[dict[str, Any]]:
    """Decoded events of the given networks, in the order read (per partition: published order)."""
    out = []
    for r in records:
        if r.key is not None and r.key.decode() in networks:
            out.append(json.loads(r.value or b"{}"))
    return out


def deduplicated(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a downstream consumer sees after dropping ids it has seen (the relay may re-send after a crash)."""
    seen: set[str] = set()
    out = []
    for e in events:
        if e["id"] not in seen:
            seen.add(e["id"])
            out.append(e)
    return out


def fold(events: Iterable[dict[str, Any]]) -> dict[str, dict[str, tuple[str, str]]]:
    """The published plan per network: assignment id -> (firm, start week)."""
    plans: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for e in events:
        plan = plans[e["subject"]]
        if e["type"] in ("AssignmentMade", "AssignmentChanged"):
            plan[e["data"]["assignment_id"]] = (e["data"]["firm_id"], e["data"]["start_week"])
        elif e["type"] == "AssignmentCancelled":
            plan.pop(e["data"]["assignment_id"], None)
    return dict(plans)


def planned(events: list[dict[str, Any]], expected: dict[str, dict[str, tuple[str, str]]]) -> bool:
    """Every network's published plan is the expected one and its version is closed by its PlanPublished (the
    relay publishes a version's assignments first, so a reader may see them before the PlanPublished after them)."""
    plans = fold(events)
    last: dict[str, str] = {}
    for e in events:
        last[e["subject"]] = e["type"]
    return all(plans.get(k, {}) == v and last.get(k) == "PlanPublished" for k, v in expected.items())


def version_problems(events: Iterable[dict[str, Any]]) -> list[str]:
    """Every way the stream breaks "each version complete, once, in order": gaps, doubles, missing changes, and
    changed or cancelled assignments without a reason code."""
    problems = []
    by_network: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by_network[e["subject"]].append(e)
    for network, stream in by_network.items():
        expected_version = 1
        pending: dict[str, int] = defaultdict(int)
        logical: set[tuple[str, str, int]] = set()
        for e in stream:
            data = e["data"]
            if e["type"] == "PlanPublished":
                if data["plan_version"] != expected_version:
                    problems.append(f"{network}: version {data['plan_version']} where {expected_version} was due")
                counts = {"made": pending["AssignmentMade"], "changed": pending["AssignmentChanged"]}
                counts["cancelled"] = pending["AssignmentCancelled"]
                for k, v in counts.items():
                    if data[k] != v:
                        problems.append(f"{network} v{data['plan_version']}: {k}={data[k]} but {v} events arrived")
                pending.clear()
                expected_version = data["plan_version"] + 1
                continue
            key = (e["type"], data["assignment_id"], data["plan_version"])
            if key in logical:
                problems.append(f"{network}: {key} published twice under different ids")
            logical.add(key)
            if e["type"] in ("AssignmentChanged", "AssignmentCancelled") and not data.get("reason_code"):
                problems.append(f"{network}: {key} says why only in English, without a reason code")
            if data["plan_version"] != expected_version:
                problems.append(f"{network}: {e['type']} of version {data['plan_version']} inside {expected_version}")
            pending[e["type"]] += 1
        if pending:
            problems.append(f"{network}: assignment events after the last PlanPublished: {dict(pending)}")
    return problems


class MatcherProcess:
    """`python -m verbund_matcher` as a real separate process, with its log in a file."""

    def __init__(self, settings: MatcherSettings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> MatcherProcess:
        env = {**os.environ, **env_for(self.settings)}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "verbund_matcher"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    async def readiness(self) -> str:
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                answer = await http.get(f"http://127.0.0.1:{self.settings.health_port}/readyz")
        except httpx.HTTPError:
            return ""
        return answer.text if answer.status_code == 200 else ""

    async def partitions(self) -> int:
        found = re.search(r"partitions=(\d+)", await self.readiness())
        return int(found.group(1)) if found else 0

    async def until_partitions(self, at_least: int = 1, timeout: float = 90) -> int:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while True:
                if self.proc is not None and self.proc.poll() is not None:
                    raise AssertionError(f"matcher exited with {self.proc.returncode}; log:\n{self.log_tail()}")
                held = await self.partitions()
                if held >= at_least:
                    return held
                await asyncio.sleep(0.2)

    def kill(self) -> None:
        """kill -9: no chance to finish the batch, commit offsets or flush the outbox."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop_quietly(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


async def start_group_at_end(bootstrap: str, group_id: str) -> None:
    """Commit the inbound topic's current end offsets for a new group: it reads only what comes next."""
    consumer = AIOKafkaConsumer(**client_options(bootstrap), group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic("inbound"), p) for p in range(load_topics()["inbound"].partitions)]
        consumer.assign(partitions)  # a manual assignment may commit for the group without joining it
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in ends.items()})
    finally:
        await consumer.stop()


async def applied_count(database_url: str, networks: set[str]) -> tuple[int, int]:
    """(inbox rows of these networks, outbox rows not yet published) in the matcher's database."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            inbox = (
                await conn.execute(
                    text("SELECT count(*) FROM inbox WHERE network_id = ANY(:ids)"), {"ids": sorted(networks)}
                )
            ).scalar_one()
            unsent = (await conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))).scalar_one()
    finally:
        await engine.dispose()
    return int(inbox), int(unsent)


async def until_all_applied(
    database_url: str,
    networks: set[str],
    total: int,
    timeout: float = 300,  # noqa: ASYNC109
) -> None:
    async with asyncio.timeout(timeout):
        while True:
            try:
                inbox, unsent = await applied_count(database_url, networks)
            except Exception:
                inbox, unsent = -1, -1  # the schema may not exist yet
            if inbox == total and unsent == 0:
                return
            await asyncio.sleep(0.5)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 120, every: float = 0.1) -> None:  # noqa: ASYNC109
    """Poll another process's state (a database, an HTTP endpoint) until `check()` holds."""
    async with asyncio.timeout(timeout):
        while True:
            if await check():
                return
            await asyncio.sleep(every)


def streams(label: str, networks: int, per_network: int) -> tuple[list[ForcedNetwork], list[dict[str, Any]]]:
    """Forced networks under fresh ids, and their events interleaved as firms' systems would send them
    (order matters only within a network)."""
    nets = [ForcedNetwork(f"{label}-{uuid.uuid4().hex[:6]}-{i:02d}", seed=i) for i in range(networks)]
    per = [n.stream(per_network) for n in nets]
    return nets, [per[j][i] for i in range(per_network) for j in range(networks)]


async def published_events(bootstrap: str, nets: list[ForcedNetwork]) -> list[dict[str, Any]]:
    """Every assignment event of these networks as published (repeats included), once the final plans are out."""
    ids = {n.network_id for n in nets}
    expected = {n.network_id: n.expected() for n in nets}
    records = await consume(
        bootstrap,
        topic("assignments"),
        until=lambda rs: planned(deduplicated(events_of(rs, ids)), expected),
        timeout=120,
    )
    return events_of(records, ids)
