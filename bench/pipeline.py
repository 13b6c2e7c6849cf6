"""Pipeline benchmark: event-to-assignment latency at steady rates, and maximum throughput, on a real broker.

python bench/pipeline.py                          # a local broker from Maven jars (or KAFKA_BOOTSTRAP_SERVERS)
python bench/pipeline.py --rates 100 500 --seconds 20 --burst 5000 --database-url postgresql+asyncpg://...
python bench/pipeline.py --matchers 2 --database-url postgresql+asyncpg://...   # two replicas, one group
python bench/pipeline.py --shape realistic       # networks like scenarios/plastics.jsonl, growing during the run

The matcher runs as its own process (`python -m verbund_matcher`), as in production. The benchmark produces
LearnerRegistered events at a steady rate and times each until the first AssignmentMade for that learner
arrives on the assignments topic (event-to-assignment latency, including batching, the database commit,
planning and the outbox relay). Then it produces a burst as fast as it can and measures how fast the
matcher works through it; next to that, how fast a bare aiokafka consumer reads the same records.

Where the time goes: before and after each phase the benchmark reads every matcher's /metrics and prints, per
phase, the difference of the stage histograms (fetch wait, decode, inbox, state, plan, commit, relay pick-up,
publish; and the matcher's own append → published) with count, mean and p50/p99 estimated from the buckets, beside
the "consumer sees it" delay of its own consumer (an assignment's Kafka timestamp → the record read here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Each run gets topics of its own, before anything reads the topic names.
os.environ.setdefault("VERBUND_TOPIC_PREFIX", f"bench-{uuid.uuid4().hex[:8]}.")

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url
from verbund_runtime.kafka import client_options
from verbund_schemas import load_topics, topic, week_at

from verbund.stack.kafka_local import run_coroutine
from verbund.stack.selection import provide_kafka, provide_postgres
from verbund.stack.topics import ensure_topics

ORIGIN = "2031-W01"
SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "plastics.jsonl"
STAGES = ("fetch_wait", "decode", "inbox", "state", "plan", "commit", "relay_pickup", "publish")


def _event(network: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "id": str(uuid.uuid4()),
        "time": "2030-11-04T08:00:00Z",
        "source": "bench",
        "subject": network,
        "data": data,
    }


def network_setup(network: str) -> list[dict[str, Any]]:
    """Two firms, two two-week modules (M2 after M1), plenty of seats: planning is never the bottleneck."""
    offer = {"first_week": ORIGIN, "last_week": week_at(ORIGIN, 80), "max_seats": 10_000}
    return [
        _event(network, "NetworkConfigured", {"name": network, "notice_period_weeks": 0}),
        _event(
            network,
            "CurriculumPublished",
            {
                "curriculum_id": "C",
                "name": "Bench",
                "modules": [
                    {"module_id": "M1", "name": "Grundlagen", "duration_weeks": 2},
                    {"module_id": "M2", "name": "Vertiefung", "duration_weeks": 2},
                ],
                "groups": [{"group_id": "G", "name": "Pflicht", "module_ids": ["M1", "M2"], "required": 2}],
                "precedence": [{"module_id": "M2", "requires": "M1"}],
            },
        ),
        _event(network, "FirmRegistered", {"firm_id": "F1", "name": "Firm One", "location": {"city": "Aachen"}}),
        _event(network, "FirmRegistered", {"firm_id": "F2", "name": "Firm Two", "location": {"city": "Köln"}}),
        _event(network, "CapacityOffered", {"offer_id": "O1", "firm_id": "F1", "module_id": "M1", **offer}),
        _event(network, "CapacityOffered", {"offer_id": "O2", "firm_id": "F2", "module_id": "M2", **offer}),
    ]


def learner_event(network: str, learner: str, first: int) -> dict[str, Any]:
    return _event(
        network,
        "LearnerRegistered",
        {
            "learner_id": learner,
            "name": learner,
            "contact": {"name": learner, "email": f"{learner.lower()}@example.org"},
            "curriculum_id": "C",
            "first_week": week_at(ORIGIN, first),
            "last_week": week_at(ORIGIN, first + 3),
        },
    )


class RealisticShape:
    """Networks shaped like scenarios/plastics.jsonl: its configuration, curriculum, firms and offers (seats times
    `capacity_scale`, so nothing is starved as the network grows), and its learners' registrations as the
    templates of the new learners, who keep arriving through the whole run."""

    SETUP_TYPES = ("NetworkConfigured", "CurriculumPublished", "FirmRegistered", "CapacityOffered")

    def __init__(self, capacity_scale: int, *, distinct: bool = False) -> None:
        events = [json.loads(line) for line in SCENARIO.read_text(encoding="utf-8").splitlines() if line.strip()]
        self.setup_events = [e for e in events if e["type"] in self.SETUP_TYPES]
        self.learners = [e["data"] for e in events if e["type"] == "LearnerRegistered"]
        self.capacity_scale = capacity_scale
        # The scenario has 24 learners, so the templates repeat: alike learners, as a cohort of one curriculum and
        # one school's blocks registers them. `distinct` gives each new learner preferences of its own instead
        # (the planner can then re-use nothing of an earlier learner's search).
        self.distinct = distinct
        self.firms = sorted({e["data"]["firm_id"] for e in events if e["type"] == "FirmRegistered"})
        self.modules = sorted({e["data"]["module_id"] for e in events if e["type"] == "CapacityOffered"})

    def setup(self, network: str) -> list[dict[str, Any]]:
        out = []
        for e in self.setup_events:
            data = dict(e["data"])
            if e["type"] == "CapacityOffered":
                data["max_seats"] = data["max_seats"] * self.capacity_scale  # min_seats stay as they are
            elif e["type"] == "NetworkConfigured":
                data["name"] = network
            out.append(_event(network, e["type"], data))
        return out

    def learner(self, network: str, learner: str, n: int) -> dict[str, Any]:
        template = self.learners[n % len(self.learners)]
        contact = {**template["contact"], "name": learner, "email": f"{learner.lower()}@example.org"}
        data = {**template, "learner_id": learner, "name": learner, "contact": contact}
        if self.distinct:
            rng = random.Random(f"{network}/{n}")
            data["firm_preferences"] = {f: rng.randint(0, 3) for f in rng.sample(self.firms, 4)}
            data["module_preferences"] = {m: rng.randint(0, 3) for m in rng.sample(self.modules, 3)}
        return _event(network, "LearnerRegistered", data)


@dataclass
class StageHistogram:
    """One Prometheus histogram (or the difference of two scrapes): cumulative counts by upper bound."""

    buckets: dict[float, float] = field(default_factory=dict)
    count: float = 0.0
    total: float = 0.0

    def __sub__(self, before: StageHistogram) -> StageHistogram:
        return StageHistogram(
            {le: n - before.buckets.get(le, 0.0) for le, n in self.buckets.items()},
            self.count - before.count,
            self.total - before.total,
        )

    def quantile(self, q: float) -> float | None:
        """Estimated like PromQL's histogram_quantile: linear within the bucket the rank falls in."""
        if self.count <= 0:
            return None
        rank = q * self.count
        lower, below = 0.0, 0.0
        for le in sorted(self.buckets):
            cumulative = self.buckets[le]
            if cumulative >= rank:
                if le == float("inf"):
                    return le  # beyond the last bound: only "more than" it is known
                return lower + (le - lower) * (rank - below) / max(cumulative - below, 1e-12)
            lower, below = le, cumulative
        return lower


STAGE_FAMILIES = {
    "verbund_matcher_stage_seconds": None,  # labelled by stage
    "verbund_matcher_append_to_published_seconds": "append_to_published",
}


def parse_stages(text: str, into: dict[str, StageHistogram]) -> None:
    """Add the stage histograms of one /metrics exposition to `into` (several matchers add up)."""
    for family in text_string_to_metric_families(text):
        if family.name not in STAGE_FAMILIES:
            continue
        for sample in family.samples:
            stage = STAGE_FAMILIES[family.name] or sample.labels.get("stage", "?")
            h = into.setdefault(stage, StageHistogram())
            if sample.name.endswith("_bucket"):
                le = float(sample.labels["le"])
                h.buckets[le] = h.buckets.get(le, 0.0) + sample.value
            elif sample.name.endswith("_count"):
                h.count += sample.value
            elif sample.name.endswith("_sum"):
                h.total += sample.value


async def scrape_stages(ports: Sequence[int]) -> dict[str, StageHistogram]:
    stages: dict[str, StageHistogram] = {}
    async with httpx.AsyncClient(timeout=10) as http:
        for port in ports:
            parse_stages((await http.get(f"http://127.0.0.1:{port}/metrics")).text, stages)
    return stages


@dataclass
class Phase:
    name: str
    events: int
    seconds: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    rate: float = 0.0
    # The matchers' stage histograms over the phase, and the bench consumer's delays (ms) in it.
    stages: dict[str, StageHistogram] | None = None
    consumer_seen_ms: list[float] = field(default_factory=list)


class AssignmentWatcher:
    """Reads the assignments topic and notes when the first assignment of each (network, learner) arrives."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.arrived: dict[tuple[str, str], float] = {}
        # Every AssignmentMade: its Kafka timestamp (the relay's producer) → read here, in ms.
        self.seen_ms: list[float] = []
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(**client_options(self.bootstrap), group_id=None)
        await self._consumer.start()
        partitions = [TopicPartition(topic("assignments"), p) for p in range(load_topics()["assignments"].partitions)]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self._consumer.position(tp)  # resolve the end now, before anything is produced
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            wall_ms = time.time() * 1000
            for records in batches.values():
                for r in records:
                    event = json.loads(r.value or b"{}")
                    if event.get("type") == "AssignmentMade":
                        self.arrived.setdefault((event["subject"], event["data"]["learner_id"]), now)
                        self.seen_ms.append(max(0.0, wall_ms - r.timestamp))

    async def wait_for(self, keys: Sequence[tuple[str, str]], timeout: float) -> bool:  # noqa: ASYNC109
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if all(k in self.arrived for k in keys):
                return True
            await asyncio.sleep(0.05)
        return False

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._consumer is not None:
            await self._consumer.stop()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    def __init__(
        self, bootstrap: str, networks: int, shape: RealisticShape | None = None, resend_share: float = 0.0
    ) -> None:
        self.bootstrap = bootstrap
        self.networks = [f"bench-{i:03d}" for i in range(networks)]
        self.shape = shape
        self.resend_share = resend_share
        self.offers: dict[str, list[dict[str, Any]]] = {}  # each network's offers as set up, to send again
        self.counter = 0
        self.producer: AIOKafkaProducer | None = None
        self.watcher = AssignmentWatcher(bootstrap)

    def next_learner(self) -> tuple[str, dict[str, Any]]:
        self.counter += 1
        network = self.networks[self.counter % len(self.networks)]
        learner = f"L{self.counter:06d}"
        if self.shape is not None:
            return network, self.shape.learner(network, learner, self.counter)
        return network, learner_event(network, learner, first=self.counter % 60)

    async def send(self, event: dict[str, Any]) -> asyncio.Future[Any]:
        assert self.producer is not None
        future: asyncio.Future[Any] = await self.producer.send(
            topic("inbound"), value=json.dumps(event).encode(), key=event["subject"].encode()
        )
        return future

    async def setup(self) -> None:
        self.producer = AIOKafkaProducer(
            **client_options(self.bootstrap), acks="all", enable_idempotence=True, linger_ms=1
        )
        await self.producer.start()
        await self.watcher.start()
        setup = self.shape.setup if self.shape is not None else network_setup
        events = [e for n in self.networks for e in setup(n)]
        for e in events:
            if e["type"] == "CapacityOffered":
                self.offers.setdefault(e["subject"], []).append(e["data"])
        futures = [await self.send(e) for e in events]
        # One learner per network, to know the setup went through before measuring.
        keys = []
        for _ in self.networks:
            network, event = self.next_learner()
            futures.append(await self.send(event))
            keys.append((network, event["data"]["learner_id"]))
        await asyncio.gather(*futures)
        if not await self.watcher.wait_for(keys, timeout=120):
            raise SystemExit("the matcher did not plan the setup within 120 s; see the matcher log")

    async def steady(self, rate: float, seconds: float) -> Phase:
        sent: dict[tuple[str, str], float] = {}
        total = int(rate * seconds)
        start = time.perf_counter()
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            network, event = self.next_learner()
            sent[(network, event["data"]["learner_id"])] = time.perf_counter()
            await self.send(event)
        assert self.producer is not None
        await self.producer.flush()
        finished = await self.watcher.wait_for(list(sent), timeout=max(60.0, seconds * 3))
        latencies = [(self.watcher.arrived[k] - t) * 1000 for k, t in sent.items() if k in self.watcher.arrived]
        phase = Phase(f"steady {rate:g}/s", total, time.perf_counter() - start)
        if latencies:
            phase.p50_ms, phase.p99_ms = statistics.median(latencies), _percentile(latencies, 0.99)
        phase.rate = len(latencies) / max(
            1e-9, max(self.watcher.arrived[k] for k in sent if k in self.watcher.arrived) - start
        )
        if not finished:
            phase.name += f" (only {len(latencies)}/{total} planned in time)"
        return phase

    def burst_events(self, count: int) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        """`count` events: new learners and, a `resend_share` of them spread evenly, offers sent again under new
        ids (a firm's system re-sending all it offers); every network's last event is a learner, so that its
        plan shows the matcher got through all of them. Returns the events and the learners to wait for."""
        events: list[dict[str, Any]] = []
        keys: list[tuple[str, str]] = []

        def learner() -> None:
            network, event = self.next_learner()
            events.append(event)
            keys.append((network, event["data"]["learner_id"]))

        body = max(0, count - len(self.networks))
        resends = min(body, int(count * self.resend_share))
        for i in range(body):
            if body and (i + 1) * resends // body > i * resends // body:
                network = self.networks[i % len(self.networks)]
                offers = self.offers[network]
                events.append(_event(network, "CapacityOffered", offers[(i // len(self.networks)) % len(offers)]))
            else:
                learner()
        while len(events) < count:
            learner()  # round robin: the last of these reach every network once
        return events, keys

    async def burst(self, count: int) -> tuple[Phase, dict[TopicPartition, tuple[int, int]]]:
        """As many events as fast as possible; returns the phase and the inbound offsets they occupy."""
        events, keys = self.burst_events(count)
        start = time.perf_counter()
        futures = []
        for event in events:
            futures.append(await self.send(event))
        metas = await asyncio.gather(*futures)
        produced = time.perf_counter() - start
        finished = await self.watcher.wait_for(keys, timeout=1800)
        last = max(self.watcher.arrived.get(k, time.perf_counter()) for k in keys)
        phase = Phase("burst (max throughput)", count, last - start, rate=count / (last - start))
        if not finished:
            phase.name += " (incomplete)"
        spans: dict[TopicPartition, tuple[int, int]] = {}
        for m in metas:
            tp = TopicPartition(m.topic, m.partition)
            low, high = spans.get(tp, (m.offset, m.offset))
            spans[tp] = (min(low, m.offset), max(high, m.offset))
        print(f"  burst produced in {produced:.2f} s ({count / produced:,.0f} events/s)", file=sys.stderr)
        return phase, spans

    async def raw_consumption(self, spans: dict[TopicPartition, tuple[int, int]]) -> Phase:
        """A bare aiokafka consumer reading exactly the burst's records: the broker-side ceiling."""
        consumer = AIOKafkaConsumer(**client_options(self.bootstrap), group_id=None, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(list(spans))
            for tp, (low, _) in spans.items():
                consumer.seek(tp, low)
            want = sum(high - low + 1 for low, high in spans.values())
            got = 0
            start = time.perf_counter()
            while got < want:
                batches = await consumer.getmany(timeout_ms=500, max_records=5000)
                for tp, records in batches.items():
                    got += sum(1 for r in records if r.offset <= spans[tp][1])
            seconds = time.perf_counter() - start
        finally:
            await consumer.stop()
        return Phase("raw aiokafka consumption", want, seconds, rate=want / seconds)

    async def close(self) -> None:
        await self.watcher.stop()
        if self.producer is not None:
            await self.producer.stop()


async def _create_database(admin_url: str, name: str) -> None:
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=30)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _matcher_process(
    bootstrap: str,
    database_url: str,
    log: Path,
    *,
    group_id: str,
    health_port: int,
    profile: Path | None = None,
    log_level: str = "WARNING",
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VERBUND_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "VERBUND_DATABASE_URL": database_url,
        "VERBUND_GROUP_ID": group_id,
        "VERBUND_BATCH_TIMEOUT_MS": "50",
        "VERBUND_RELAY_POLL_SECONDS": "0.1",
        "VERBUND_FULL_REOPTIMISE_INTERVAL": "0",
        "VERBUND_SOLVER_WORKERS": "1",
        "VERBUND_HEALTH_PORT": str(health_port),
        "VERBUND_LOG_LEVEL": log_level,
    }
    with log.open("wb") as out:
        profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
        return subprocess.Popen([sys.executable, *profiler, "-m", "verbund_matcher"], env=env, stdout=out, stderr=out)


def print_table(phases: list[Phase], header: str) -> None:
    print(header)
    print(f"| {'phase':<34} | {'events':>7} | {'p50 ms':>8} | {'p99 ms':>8} | {'events/s':>9} |")
    print(f"|{'-' * 36}|{'-' * 9}|{'-' * 10}|{'-' * 10}|{'-' * 11}|")
    for p in phases:
        p50 = f"{p.p50_ms:.0f}" if p.p50_ms is not None else "–"
        p99 = f"{p.p99_ms:.0f}" if p.p99_ms is not None else "–"
        print(f"| {p.name:<34} | {p.events:>7} | {p50:>8} | {p99:>8} | {p.rate:>9,.0f} |")


async def _held_partitions(port: int) -> int:
    """Inbound partitions one matcher holds, from its /readyz ("ready partitions=<n>"); 0 while not ready."""
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            answer = await http.get(f"http://127.0.0.1:{port}/readyz")
    except httpx.HTTPError:
        return 0
    first = answer.text.strip().splitlines()[0] if answer.text.strip() else ""  # the lines after it: part by part
    return int(first.rsplit("=", 1)[1]) if answer.status_code == 200 and "partitions=" in first else 0


async def _until_balanced(ports: list[int], matchers: list[subprocess.Popen[bytes]], within: float = 180) -> None:
    """Until every replica holds partitions and together they hold all: no rebalance during the phases."""
    total = load_topics()["inbound"].partitions
    deadline = time.monotonic() + within
    while True:
        if any(m.poll() is not None for m in matchers):
            raise SystemExit("a matcher process exited during start; see its log")
        held = [await _held_partitions(p) for p in ports]
        if all(held) and sum(held) == total:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"the matchers did not share the {total} inbound partitions in {within:.0f} s: {held}")
        await asyncio.sleep(0.5)


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds == float("inf"):
        return "> 60 s"  # the stage histograms' last finite bucket
    ms = seconds * 1000
    return f"{ms:.1f}" if ms < 10 else f"{ms:,.0f}"


def print_breakdown(phase: Phase) -> None:
    """Where the phase's time went, stage by stage (matchers' histograms) and as its own consumer saw it."""
    if phase.stages is None:
        return
    print(f"\nWhere the time goes: {phase.name}")
    print(f"| {'stage':<38} | {'count':>8} | {'mean ms':>8} | {'p50 ms':>8} | {'p99 ms':>8} |")
    print(f"|{'-' * 40}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    names = {
        "fetch_wait": "fetch wait (per record)",
        "decode": "decode/validate (per batch)",
        "inbox": "inbox dedup (per batch)",
        "state": "state update (per batch)",
        "plan": "plan (per batch)",
        "commit": "commit (per batch)",
        "relay_pickup": "relay pick-up (per round)",
        "publish": "publish (per round)",
        "append_to_published": "append → published (matcher, per rec.)",
    }
    for stage, title in names.items():
        h = phase.stages.get(stage, StageHistogram())
        mean = h.total / h.count if h.count > 0 else None
        _row(title, h.count, mean, h.quantile(0.5), h.quantile(0.99))
    seen = phase.consumer_seen_ms
    if seen:
        _row(
            "consumer sees it (bench, per assign.)",
            len(seen),
            statistics.fmean(seen) / 1000,
            statistics.median(seen) / 1000,
            _percentile(seen, 0.99) / 1000,
        )
    p50 = phase.p50_ms / 1000 if phase.p50_ms is not None else None
    p99 = phase.p99_ms / 1000 if phase.p99_ms is not None else None
    _row("event → assignment (bench, per event)", phase.events, None, p50, p99)


def _row(title: str, count: float, mean: float | None, p50: float | None, p99: float | None) -> None:
    print(f"| {title:<38} | {count:>8,.0f} | {_ms(mean):>8} | {_ms(p50):>8} | {_ms(p99):>8} |")


async def _measured(ports: Sequence[int], bench: Bench, work: Awaitable[Any]) -> Any:
    """Run one phase between two scrapes of the matchers' /metrics; the phase gets the difference."""
    before = await scrape_stages(ports)
    seen_from = len(bench.watcher.seen_ms)
    result = await work
    await asyncio.sleep(0.5)  # the relay observes a round right after Kafka acknowledged it
    after = await scrape_stages(ports)
    phase = result[0] if isinstance(result, tuple) else result
    phase.stages = {stage: h - before.get(stage, StageHistogram()) for stage, h in after.items()}
    phase.consumer_seen_ms = bench.watcher.seen_ms[seen_from:]
    return result


async def run(args: argparse.Namespace, bootstrap: str, database_url: str) -> list[Phase]:
    shape = RealisticShape(args.capacity_scale, distinct=args.distinct) if args.shape == "realistic" else None
    bench = Bench(bootstrap, args.networks, shape, resend_share=args.resend_share)
    group_id = f"bench-{uuid.uuid4().hex[:6]}"
    ports = [_free_port() for _ in range(args.matchers)]
    logs = [Path(tempfile.gettempdir()) / f"verbund-bench-matcher-{os.getpid()}-{i}.log" for i in range(len(ports))]
    matchers = [
        _matcher_process(
            bootstrap,
            database_url,
            log,
            group_id=group_id,
            health_port=port,
            profile=args.profile_matcher if i == 0 else None,
            log_level=args.matcher_log_level,
        )
        for i, (log, port) in enumerate(zip(logs, ports, strict=True))
    ]
    phases: list[Phase] = []
    try:
        await _until_balanced(ports, matchers)
        await bench.setup()
        for rate in args.rates:
            phases.append(await _measured(ports, bench, bench.steady(rate, args.seconds)))
        burst, spans = await _measured(ports, bench, bench.burst(args.burst))
        phases.append(burst)
        phases.append(await bench.raw_consumption(spans))
    finally:
        await bench.close()
        for matcher in matchers:
            matcher.terminate()
        for matcher in matchers:
            matcher.wait(timeout=60)
    print(f"  matcher logs: {' '.join(str(log) for log in logs)}", file=sys.stderr)
    return phases


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[100.0, 500.0], help="steady events/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each steady phase")
    parser.add_argument("--burst", type=int, default=5000, help="events in the max-throughput burst")
    parser.add_argument("--networks", type=int, default=50, help="networks the events are spread over")
    parser.add_argument(
        "--resend-share",
        type=float,
        default=0.0,
        help="share of the burst that re-sends the networks' offers under new ids (a firm's system sending all "
        "it offers again); the rest are new learners",
    )
    parser.add_argument(
        "--shape",
        choices=("toy", "realistic"),
        default="toy",
        help="toy: two firms, two modules; realistic: like scenarios/plastics.jsonl, growing during the run",
    )
    parser.add_argument(
        "--capacity-scale", type=int, default=50, help="realistic shape: the scenario's seats times this"
    )
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="realistic shape: every new learner with preferences of its own (by default the scenario's 24 "
        "learners are the templates, so learners alike arrive as in a cohort)",
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="a fresh database on a PostgreSQL of its own (VERBUND_TEST_DATABASE_URL's server, Docker or local)",
    )
    parser.add_argument("--bootstrap", default=None, help="default: KAFKA_BOOTSTRAP_SERVERS or a local broker")
    parser.add_argument(
        "--matchers", type=int, default=1, help="matcher processes in one consumer group (use PostgreSQL for >1)"
    )
    parser.add_argument(
        "--profile-matcher", type=Path, default=None, help="write the (first) matcher process's cProfile stats here"
    )
    parser.add_argument(
        "--matcher-log-level", default="WARNING", help="INFO logs every batch (records, replans) in the matcher log"
    )
    args = parser.parse_args(argv)
    if args.matchers < 1:
        parser.error("--matchers must be at least 1")
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        endpoint = stack.enter_context(provide_kafka(args.bootstrap))
        if endpoint.source == "local":
            # The matcher processes and this one connect as the local broker's super user.
            os.environ.update(endpoint.security.environment())
        run_coroutine(ensure_topics(endpoint.bootstrap_servers, load_topics().values(), security=endpoint.security))
        database_url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        if args.postgres:
            server = stack.enter_context(provide_postgres())
            name = f"bench_{uuid.uuid4().hex[:8]}"
            run_coroutine(_create_database(server.admin_url, name))
            database_url = make_url(server.url).set(database=name).render_as_string(hide_password=False)
        phases = asyncio.run(run(args, endpoint.bootstrap_servers, database_url))
        print_table(
            phases,
            f"Pipeline: {args.networks} {args.shape} networks, {args.matchers} matcher process(es), "
            f"batch timeout 50 ms, database {database_url.split(':')[0]}, broker {endpoint.source}",
        )
        for phase in phases:
            print_breakdown(phase)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
