"""Console benchmark: how fast the console folds a big network's events, and how fast each page answers.

python bench/console.py                                   # 10,000 learners, 1,000 firms, a local broker from jars
python bench/console.py --learners 1000 --firms 100 --requests 3
python bench/console.py --bootstrap 127.0.0.1:9092 --keep /tmp/console-bench   # a running broker; keep the database
python bench/console.py --learners 3000 --firms 300 --no-pages              # the consumption alone

The console runs as its own process (`python -m verbund_console`), as in production. The benchmark makes up a
plausible plan for a big network and two small ones (learners rotating through eight modules at firms over
156 weeks, against the firms' seats: what fits is assigned, what does not is a shortfall; offers with a
minimum the plan leaves unfilled are seat deficits; a second and third plan version move and cancel some), and
produces every event the console consumes to the real topics: the inbound network, curriculum, firm, capacity
and learner events, and the matcher's assignments, plan versions, shortfalls, deficits and rejections. Then
it starts the console on those topics and times it until it has applied them all; beside that, a bare aiokafka
consumer reads the same records. Last it signs in over HTTP and times every page (first byte and whole answer),
a few requests each, and prints the tables.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

# Each run gets topics of its own, before anything reads the topic names.
os.environ.setdefault("VERBUND_TOPIC_PREFIX", f"bench-{uuid.uuid4().hex[:8]}.")

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from verbund_runtime.kafka import client_options
from verbund_schemas import (
    AssignmentCancelled,
    AssignmentCancelledData,
    AssignmentChanged,
    AssignmentChangedData,
    AssignmentData,
    AssignmentMade,
    CapacityOffered,
    CapacityOfferedData,
    ChangeReason,
    Contact,
    CurriculumPublished,
    CurriculumPublishedData,
    DeficitSpan,
    Envelope,
    EventRejected,
    FirmData,
    FirmRegistered,
    LearnerData,
    LearnerRegistered,
    LearnerWithdrawn,
    LearnerWithdrawnData,
    Location,
    Module,
    NetworkConfigured,
    NetworkConfiguredData,
    PlanPublished,
    PlanPublishedData,
    PreviousAssignment,
    RequirementGroup,
    SeatDeficitData,
    SeatDeficitDetected,
    SeatSuggestion,
    ShortfallData,
    ShortfallDetected,
    ShortfallReason,
    encode_event,
    load_topics,
    topic,
    week_at,
    week_index,
    week_monday,
    week_sunday,
)

from verbund.stack.kafka_local import run_coroutine
from verbund.stack.selection import provide_kafka
from verbund.stack.topics import ensure_topics

ORIGIN = "2027-W01"
WINDOW_WEEKS = 156
COHORTS = 2  # learners start in 2027-W01 or 2028-W01: the network spans 208 weeks
PASSWORD = "bench password, not a secret"
EMAIL = "bench@verbund.example"
CONSUMED_ROLES = ("inbound", "assignments", "shortfalls", "rejected")

# A metal and plastics training network's phases: six compulsory in this order, two of twelve electives.
CORE = [
    ("grundlagen", "Grundausbildung Metall", 12),
    ("werkstoffe", "Werkstoffprüfung und Materiallabor", 8),
    ("drehen", "Drehen konventionell", 12),
    ("fraesen", "CNC-Fräsen", 14),
    ("montage", "Baugruppenmontage", 10),
    ("instandhaltung", "Instandhaltung und Wartung", 12),
]
ELECTIVES = [
    ("spritzgiessen", "Spritzgießen", 12),
    ("extrusion", "Extrusion", 10),
    ("schweissen", "Schweißtechnik", 10),
    ("pneumatik", "Pneumatik und Hydraulik", 8),
    ("steuerung", "Steuerungstechnik (SPS)", 12),
    ("qualitaet", "Qualitätssicherung", 8),
    ("logistik", "Lager und Logistik", 8),
    ("werkzeugbau", "Werkzeugbau", 14),
    ("blech", "Blechbearbeitung", 10),
    ("lackierung", "Oberflächentechnik", 8),
    ("robotik", "Robotik und Handhabung", 12),
    ("konstruktion", "Technisches Zeichnen und CAD", 10),
]
ELECTIVES_PER_LEARNER = 2


def _load_scenarios() -> Any:
    """bench/scenarios.py by path (a sibling script; `scenarios/` at the top is a folder of event files)."""
    spec = importlib.util.spec_from_file_location("bench_scenarios", Path(__file__).with_name("scenarios.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# The people and firm owners of the generated networks are named as the planner's scenarios name them.
_SCENARIOS = _load_scenarios()
FIRST_NAMES: list[str] = _SCENARIOS.FIRST_NAMES
LAST_NAMES: list[str] = _SCENARIOS.LAST_NAMES
FIRM_WORDS = [
    "Kunststoff",
    "Metall",
    "Präzision",
    "Formteile",
    "Technik",
    "Werkzeug",
    "Antriebe",
    "Systeme",
    "Guss",
    "Anlagen",
]
FORMS = ("GmbH", "GmbH & Co. KG", "AG", "KG", "e. K.")
CITIES = [
    "Lüdenscheid",
    "Hagen",
    "Iserlohn",
    "Dortmund",
    "Bochum",
    "Wuppertal",
    "Solingen",
    "Remscheid",
    "Siegen",
    "Arnsberg",
    "Chemnitz",
    "Zwickau",
    "Plauen",
    "Würzburg",
    "Schweinfurt",
    "Bamberg",
]


@dataclass
class Network:
    """The events of one made-up network, by the role of the topic they go to."""

    network_id: str
    learners: int
    firms: int
    events: dict[str, list[Envelope]] = field(default_factory=lambda: {role: [] for role in CONSUMED_ROLES})
    assignments: int = 0
    shortfalls: int = 0
    deficits: int = 0
    sample_learner: str = ""
    sample_firm: str = ""
    sample_module: str = ""
    sample_week: str = ""

    @property
    def total(self) -> int:
        return sum(len(e) for e in self.events.values())


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_network(network_id: str, learners: int, firms: int, seed: int) -> Network:
    """A plausible network and plan: every assignment fits the firm's seats; what does not fit is a shortfall."""
    rng = random.Random(seed)
    made = Network(network_id, learners, firms)
    inbound, outbound = made.events["inbound"], made.events["assignments"]
    gaps, rejected = made.events["shortfalls"], made.events["rejected"]
    span = WINDOW_WEEKS + 52 * (COHORTS - 1)
    modules = {m: (name, weeks) for m, name, weeks in CORE + ELECTIVES}

    def envelope(kind: type[Envelope], data: object) -> Envelope:
        make: Any = kind  # each kind names its own `type` and `data`
        event: Envelope = make(id=_id(rng), time=dt.datetime.now(dt.UTC), subject=network_id, data=data)
        return event

    inbound.append(envelope(NetworkConfigured, NetworkConfiguredData(name=f"Verbund {network_id}")))
    inbound.append(
        envelope(
            CurriculumPublished,
            CurriculumPublishedData(
                curriculum_id="metall",
                name="Industriemechanik und Kunststofftechnik",
                modules=[Module(module_id=m, name=n, duration_weeks=w) for m, (n, w) in modules.items()],
                groups=[
                    RequirementGroup(
                        group_id="pflicht", name="Pflicht", module_ids=[m for m, _, _ in CORE], required=len(CORE)
                    ),
                    RequirementGroup(
                        group_id="wahl",
                        name="Wahl",
                        module_ids=[m for m, _, _ in ELECTIVES],
                        required=ELECTIVES_PER_LEARNER,
                    ),
                ],
            ),
        )
    )
    firm_names: dict[str, str] = {}
    offering: dict[str, list[str]] = {m: [] for m in modules}
    seats: dict[tuple[str, str], int] = {}
    minimum: dict[tuple[str, str], int] = {}
    for f in range(firms):
        firm_id = f"F{f:04d}"
        name = f"{rng.choice(LAST_NAMES)} {rng.choice(FIRM_WORDS)} {rng.choice(FORMS)}"
        firm_names[firm_id] = name
        inbound.append(
            envelope(FirmRegistered, FirmData(firm_id=firm_id, name=name, location=Location(city=rng.choice(CITIES))))
        )
        # Every learner does every compulsory phase: most firms offer two or three of those, and an elective or two.
        offered = rng.sample([m for m, _, _ in CORE], rng.randint(2, 3))
        offered += rng.sample([m for m, _, _ in ELECTIVES], rng.randint(1, 3))
        for module_id in offered:
            max_seats = rng.randint(1, 4)
            min_seats = 1 if rng.random() < 0.05 else 0
            offering[module_id].append(firm_id)
            seats[(firm_id, module_id)] = max_seats
            minimum[(firm_id, module_id)] = min_seats
            offer = CapacityOfferedData(
                offer_id=f"O-{firm_id}-{module_id}",
                firm_id=firm_id,
                module_id=module_id,
                first_week=ORIGIN,
                last_week=week_at(ORIGIN, span - 1),
                max_seats=max_seats,
                min_seats=min_seats,
            )
            inbound.append(envelope(CapacityOffered, offer))
    taken: dict[tuple[str, str], bytearray] = {pair: bytearray(span) for pair in seats}
    placed: dict[str, list[AssignmentData]] = {}
    names: dict[str, str] = {}
    for i in range(learners):
        learner_id = f"L{i:05d}"
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        names[learner_id] = name
        first = 52 * (i % COHORTS)
        inbound.append(
            envelope(
                LearnerRegistered,
                LearnerData(
                    learner_id=learner_id,
                    name=name,
                    contact=Contact(name=name, email=f"{learner_id.lower()}@example.org"),
                    curriculum_id="metall",
                    first_week=week_at(ORIGIN, first),
                    last_week=week_at(ORIGIN, first + WINDOW_WEEKS - 1),
                ),
            )
        )
        # The basic training first; the other phases in an order of their own, so that a cohort starting in the
        # same week spreads over the firms (as a planner spreads it).
        rest = [m for m, _, _ in CORE[1:]] + rng.sample([m for m, _, _ in ELECTIVES], ELECTIVES_PER_LEARNER)
        rng.shuffle(rest)
        wanted = [CORE[0][0], *rest]
        cursor = first + rng.randint(0, 3)
        mine: list[AssignmentData] = []
        for module_id in wanted:
            name_of_module, weeks = modules[module_id]
            candidates = rng.sample(offering[module_id], min(20, len(offering[module_id])))
            where = next(
                (
                    (firm_id, start)
                    for start in range(cursor, cursor + 12, 2)
                    for firm_id in candidates
                    if start + weeks <= first + WINDOW_WEEKS
                    and all(
                        taken[(firm_id, module_id)][w] < seats[(firm_id, module_id)]
                        for w in range(start, start + weeks)
                    )
                ),
                None,
            )
            if where is None:
                gap = ShortfallData(
                    shortfall_id=f"{network_id}:{learner_id}:{module_id}",
                    learner_id=learner_id,
                    learner_name=name,
                    group_id="pflicht" if module_id in dict((m, 0) for m, _, _ in CORE) else "wahl",
                    module_id=module_id,
                    missing=1,
                    reason=ShortfallReason.CONTENTION,
                    message=f"Every seat for {name_of_module} in the learner's window is held by other learners.",
                    suggestions=[
                        SeatSuggestion(
                            module_id=module_id,
                            first_week=week_at(ORIGIN, cursor),
                            last_week=week_at(ORIGIN, cursor + weeks - 1),
                            seats=1,
                        )
                    ],
                    plan_version=1,
                )
                gaps.append(envelope(ShortfallDetected, gap))
                made.shortfalls += 1
                continue
            firm_id, start = where
            for w in range(start, start + weeks):
                taken[(firm_id, module_id)][w] += 1
            start_week, end_week = week_at(ORIGIN, start), week_at(ORIGIN, start + weeks - 1)
            data = AssignmentData(
                assignment_id=f"{network_id}:{learner_id}:{module_id}",
                learner_id=learner_id,
                learner_name=name,
                module_id=module_id,
                module_name=name_of_module,
                firm_id=firm_id,
                firm_name=firm_names[firm_id],
                start_week=start_week,
                end_week=end_week,
                start_date=week_monday(start_week),
                end_date=week_sunday(end_week),
                plan_version=1,
            )
            mine.append(data)
            outbound.append(envelope(AssignmentMade, data))
            cursor = start + weeks + rng.randint(0, 2)
        placed[learner_id] = mine
    made.assignments = sum(len(a) for a in placed.values())
    for (firm_id, module_id), least in minimum.items():
        if not least:
            continue
        under = [w for w, n in enumerate(taken[(firm_id, module_id)]) if n < least]
        if not under:
            continue
        spans: list[tuple[int, int]] = []
        for w in under:
            if spans and spans[-1][1] == w - 1:
                spans[-1] = (spans[-1][0], w)
            else:
                spans.append((w, w))
        shown = spans[:20]
        deficit = SeatDeficitData(
            deficit_id=f"{network_id}:{firm_id}:{module_id}",
            firm_id=firm_id,
            firm_name=firm_names[firm_id],
            module_id=module_id,
            module_name=modules[module_id][0],
            spans=[
                DeficitSpan(
                    first_week=week_at(ORIGIN, a),
                    last_week=week_at(ORIGIN, b),
                    minimum=least,
                    planned=taken[(firm_id, module_id)][a],
                )
                for a, b in shown
            ],
            spans_omitted=len(spans) - len(shown),
            missing_learner_weeks=len(under),
            message=f"{firm_names[firm_id]} runs {modules[module_id][0]} only with {least} learner(s).",
            plan_version=1,
        )
        gaps.append(envelope(SeatDeficitDetected, deficit))
        made.deficits += 1
    outbound.append(_plan(envelope, 1, learners, made, made=made.assignments))

    # Version 2 moves a few learners' later phases (a later start at the same firm keeps the seats honest
    # enough for a read-model benchmark); version 3 cancels the phases of learners who left.
    movable = [a for mine in placed.values() for a in mine[-2:] if week_index(a.end_week, ORIGIN) + 4 < span]
    moved = rng.sample(movable, min(len(movable), max(1, learners // 30)))
    for before in moved:
        later_start, later_end = week_at(before.start_week, 2), week_at(before.end_week, 2)
        moved_values: dict[str, Any] = before.model_dump()
        changed = AssignmentChangedData(
            **(
                moved_values
                | {
                    "start_week": later_start,
                    "end_week": later_end,
                    "start_date": week_monday(later_start),
                    "end_date": week_sunday(later_end),
                    "plan_version": 2,
                    "previous": PreviousAssignment(
                        firm_id=before.firm_id,
                        firm_name=before.firm_name,
                        start_week=before.start_week,
                        end_week=before.end_week,
                    ),
                    "reason": "Moved two weeks later because an offer for this module changed.",
                    "reason_code": ChangeReason.OFFER_CHANGED,
                }
            )
        )
        outbound.append(envelope(AssignmentChanged, changed))
    outbound.append(_plan(envelope, 2, learners, made, changed=len(moved)))
    leaving = rng.sample(sorted(placed), min(len(placed), max(1, learners // 100)))
    cancelled = 0
    for learner_id in leaving:
        inbound.append(envelope(LearnerWithdrawn, LearnerWithdrawnData(learner_id=learner_id)))
        for a in placed[learner_id]:
            values = a.model_dump() | {
                "plan_version": 3,
                "reason": "Cancelled because the learner left the network.",
                "reason_code": ChangeReason.LEARNER_WITHDRAWN,
            }
            outbound.append(envelope(AssignmentCancelled, AssignmentCancelledData(**values)))
            cancelled += 1
    outbound.append(_plan(envelope, 3, learners - len(leaving), made, cancelled=cancelled))
    for offset in range(max(1, learners // 50)):
        raw = (
            b'{"type": "CapacityOffered", "id": "'
            + f"x-{offset}".encode()
            + b'", "data": {"firm_id": "F0001", "max_seats": -1}}'
        )
        rejected.append(
            EventRejected.of_record(
                service="matcher",
                topic=topic("inbound"),
                partition=0,
                offset=offset,
                key=network_id,
                raw=raw,
                reason="data.max_seats: Input should be greater than or equal to 1",
                network_id=network_id,
            )
        )
    sample = placed[sorted(placed)[0]][0]
    made.sample_learner, made.sample_firm, made.sample_module = sample.learner_id, sample.firm_id, sample.module_id
    made.sample_week = week_at(sample.start_week, 1)
    return made


def _plan(
    envelope: Callable[[type[Envelope], object], Envelope], version: int, learners: int, network: Network, **counts: int
) -> Envelope:
    data = PlanPublishedData(
        plan_version=version,
        objective=1_000_000 + version,
        learners=learners,
        assignments=network.assignments,
        shortfalls=network.shortfalls,
        deficits=network.deficits,
        solver="lns",
        solve_seconds=290.0,
        complete=False,
        **counts,
    )
    return envelope(PlanPublished, data)


async def produce(bootstrap: str, networks: list[Network]) -> tuple[int, float]:
    """Every network's events to their topics, keyed by network; how many and how long it took."""
    producer = AIOKafkaProducer(
        **client_options(bootstrap), acks="all", enable_idempotence=True, linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    start = time.perf_counter()
    count = 0
    try:
        futures = []
        for network in networks:
            key = network.network_id.encode()
            for role in CONSUMED_ROLES:
                for event in network.events[role]:
                    futures.append(await producer.send(topic(role), value=encode_event(event), key=key))
                    count += 1
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return count, time.perf_counter() - start


async def raw_read(bootstrap: str) -> tuple[int, float]:
    """A bare aiokafka consumer reading every record of the consumed topics: the broker-side ceiling."""
    consumer = AIOKafkaConsumer(**client_options(bootstrap), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic(role), p) for role in CONSUMED_ROLES for p in range(load_topics()[role].partitions)
        ]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, 0)
        want = sum(ends.values())
        got = 0
        start = time.perf_counter()
        idle = 0
        while got < want:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            got += sum(len(records) for records in batches.values())
            idle = 0 if batches else idle + 1
            if idle > 20:
                raise SystemExit(f"the bare consumer read only {got} of {want} records")
        return got, time.perf_counter() - start
    finally:
        await consumer.stop()


def _verbund() -> str:
    return str(Path(sys.executable).parent / "verbund")


def _applied(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM console_applied_events").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


@dataclass
class Consumption:
    events: int
    seconds: float
    since_start: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def wait_applied(
    database: Path, want: int, console: subprocess.Popen[bytes], started: float, within: float
) -> Consumption:
    """From the first applied event to the last: the console's own consumption rate (not its start-up)."""
    first: tuple[float, int] | None = None
    deadline = time.monotonic() + within
    last_report = time.monotonic()
    while True:
        now = time.monotonic()
        applied = _applied(database)
        if applied and first is None:
            first = (now, applied)
        if applied >= want:
            assert first is not None
            return Consumption(applied - first[1], max(1e-9, now - first[0]), now - started)
        if console.poll() is not None:
            raise SystemExit("the console exited while consuming; see its log")
        if now > deadline:
            raise SystemExit(f"the console applied only {applied} of {want} events in {within:.0f} s")
        if now - last_report > 15:
            print(f"  console applied {applied:,} of {want:,} events", file=sys.stderr)
            last_report = now
        time.sleep(0.25)


@dataclass
class Timing:
    page: str
    first_byte_ms: list[float] = field(default_factory=list)
    full_ms: list[float] = field(default_factory=list)
    # Until the first line after the header arrived: a streamed CSV export sends its header before any row.
    first_row_ms: list[float] = field(default_factory=list)
    size: int = 0
    status: int = 0


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def signed_in(base: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=120, headers={"Accept-Language": "de"})
    form = await client.get("/signin")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    if found is None:
        raise SystemExit("the sign-in page carries no CSRF token")
    answer = await client.post(
        "/signin", data={"csrf": found.group(1), "next": "/", "email": EMAIL, "password": PASSWORD}
    )
    if answer.status_code != 303:
        raise SystemExit(f"sign-in failed: {answer.status_code}")
    return client


async def time_pages(client: httpx.AsyncClient, pages: list[tuple[str, str]], requests: int) -> list[Timing]:
    timings = []
    for label, path in pages:
        timing = Timing(label)
        for _ in range(requests):
            start = time.perf_counter()
            try:
                async with client.stream("GET", path) as answer:
                    # The first byte of the body, not the headers: a streamed export sends its headers before
                    # it has read a row, and what a user waits for is the first line.
                    chunks = answer.aiter_raw()
                    parts = [await anext(chunks, b"")]
                    first = time.perf_counter()
                    lines = parts[0].count(b"\n")
                    first_row = first if lines >= 2 else None
                    async for chunk in chunks:
                        parts.append(chunk)
                        if first_row is None:
                            lines += chunk.count(b"\n")
                            first_row = time.perf_counter() if lines >= 2 else None
                    body = b"".join(parts)
            except httpx.TimeoutException:
                # A page that does not answer is a result too; the other pages are still measured.
                print(f"  {label}: no answer within {client.timeout.read} s", file=sys.stderr)
                timing.status = 0
                break
            done = time.perf_counter()
            timing.first_byte_ms.append((first - start) * 1000)
            timing.full_ms.append((done - start) * 1000)
            timing.first_row_ms.append(((first_row or done) - start) * 1000)
            timing.size, timing.status = len(body), answer.status_code
        timings.append(timing)
    return timings


def _peak_memory_mib(pid: int) -> float:
    """The process's peak resident memory so far (Linux), to see whether an export grows it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) / 1024 if found else float("nan")


def exports_of(network: Network) -> list[tuple[str, str]]:
    n = f"/n/{network.network_id}"
    return [
        (f"{view} CSV", f"{n}/{view}?format=csv")
        for view in ("problems", "timeline", "firms", "utilisation", "history", "rejected")
    ]


def pages_of(network: Network) -> list[tuple[str, str]]:
    n = f"/n/{network.network_id}"
    last_page = max(0, (network.learners - 1) // 50)
    pages = [
        ("overview", f"{n}/"),
        ("problems", f"{n}/problems"),
        *[(f"timeline, zoom {z}", f"{n}/timeline?zoom={z}") for z in ("week", "month", "year")],
        ("timeline, last page", f"{n}/timeline?page={last_page}"),
        ("timeline, search a name", f"{n}/timeline?search=m%C3%BCller"),
        ("timeline, one firm", f"{n}/timeline?firm={network.sample_firm}"),
        ("timeline, module + cohort + status", f"{n}/timeline?module=fraesen&cohort=2028&status=partial"),
        *[(f"firms, zoom {z}", f"{n}/firms?zoom={z}") for z in ("week", "month", "year")],
        ("firms, last page", f"{n}/firms?page={max(0, network.firms * 4 // 50 - 1)}"),
        ("firms, one firm", f"{n}/firms?firm={network.sample_firm}"),
        ("utilisation", f"{n}/utilisation"),
        ("utilisation, one module", f"{n}/utilisation?module=fraesen"),
        (
            "utilisation, who is there",
            f"{n}/utilisation/week?firm={network.sample_firm}&module={network.sample_module}&week={network.sample_week}",
        ),
        ("history", f"{n}/history"),
        ("rejected", f"{n}/rejected"),
        ("mail", "/mail"),
        ("learner .ics", f"{n}/learners/{network.sample_learner}.ics"),
        ("firm .ics", f"{n}/firms/{network.sample_firm}.ics"),
    ]
    return pages


def fill_mail_sink(folder: Path, messages: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(messages):
        mail = EmailMessage()
        mail["To"] = f"l{i:05d}@example.org"
        mail["Subject"] = f"Dein Einsatzplan, Version {1 + i % 3}"
        mail["Date"] = "Mon, 29 Nov 2026 12:00:00 +0000"
        mail.set_content("Hallo,\n\ndein Einsatzplan hat sich geändert.\n" * 5)
        (folder / f"{i:06d}.eml").write_bytes(bytes(mail))


def start_console(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "verbund_console"], env=env, stdout=out, stderr=out)


async def wait_healthy(base: str, console: subprocess.Popen[bytes], within: float = 120) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            try:
                if (await http.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if console.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the console did not start; see its log")
            await asyncio.sleep(0.3)


def print_consumption(rows: list[tuple[str, int, float]], header: str) -> None:
    print(header)
    print(f"| {'reader':<50} | {'events':>8} | {'seconds':>8} | {'events/s':>9} |")
    print(f"|{'-' * 52}|{'-' * 10}|{'-' * 10}|{'-' * 11}|")
    for name, events, seconds in rows:
        print(f"| {name:<50} | {events:>8,} | {seconds:>8.1f} | {events / seconds:>9,.0f} |")


def print_pages(timings: list[Timing], header: str) -> None:
    print(header)
    print(
        f"| {'page':<36} | {'status':>6} | {'KiB':>7} | {'first byte p50':>14} | {'p95':>6} "
        f"| {'first row p50':>13} | {'whole p50':>9} | {'p95':>6} |"
    )
    print(f"|{'-' * 38}|{'-' * 8}|{'-' * 9}|{'-' * 16}|{'-' * 8}|{'-' * 15}|{'-' * 11}|{'-' * 8}|")
    for t in timings:
        if not t.first_byte_ms:
            print(
                f"| {t.page:<36} | {'none':>6} | {'–':>7} | {'no answer':>14} | {'–':>6} | {'–':>13} | {'–':>9} "
                f"| {'–':>6} |"
            )
            continue
        flag = " ✗" if _p(t.first_byte_ms, 0.5) > 300 else ""
        # A CSV export's first data line (its header goes out before anything is read); a page has no such line.
        row = f"{_p(t.first_row_ms, 0.5):>11,.0f}{' ✗' if _p(t.first_row_ms, 0.5) > 300 else '  '}"
        print(
            f"| {t.page:<36} | {t.status:>6} | {t.size / 1024:>7,.0f} | {_p(t.first_byte_ms, 0.5):>12,.0f}{flag:2} "
            f"| {_p(t.first_byte_ms, 0.95):>6,.0f} | {row if t.page.endswith('CSV') else '–':>13} "
            f"| {_p(t.full_ms, 0.5):>9,.0f} | {_p(t.full_ms, 0.95):>6,.0f} |"
        )


async def measure(args: argparse.Namespace, bootstrap: str, folder: Path) -> None:
    build_start = time.perf_counter()
    networks = [make_network("gross", args.learners, args.firms, seed=1)]
    networks += [
        make_network(f"klein-{i}", learners, firms, seed=2 + i)
        for i, (learners, firms) in enumerate(((40, 6), (120, 15)))
    ]
    big = networks[0]
    print(
        f"  made {sum(n.total for n in networks):,} events in {time.perf_counter() - build_start:.1f} s; the big "
        f"network: {big.assignments:,} assignments, {big.shortfalls:,} shortfalls, {big.deficits:,} deficits",
        file=sys.stderr,
    )
    produced, seconds = await produce(bootstrap, networks)
    print(f"  produced {produced:,} events in {seconds:.1f} s", file=sys.stderr)
    raw_events, raw_seconds = await raw_read(bootstrap)

    database = folder / "console.db"
    port = args.port
    env = {
        **os.environ,
        "VERBUND_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "VERBUND_CONSOLE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "VERBUND_CONSOLE_SESSION_SECRET": uuid.uuid4().hex * 2,
        "VERBUND_CONSOLE_PORT": str(port),
        "VERBUND_CONSOLE_HEALTH_PORT": "0",
        "VERBUND_CONSOLE_GROUP_ID": f"bench-console-{uuid.uuid4().hex[:6]}",
        "VERBUND_CONSOLE_MAIL_SINK_DIR": str(folder / "mail"),
        "VERBUND_LOG_JSON": "false",
        "VERBUND_LOG_LEVEL": "WARNING",
    }
    fill_mail_sink(folder / "mail", 500)
    grants = [arg for n in networks for arg in ("--network", n.network_id)]
    await asyncio.to_thread(
        subprocess.run,
        [_verbund(), "console", "add-user", EMAIL, *grants, "--password-stdin"],
        input=(PASSWORD + "\n").encode(),
        env=env,
        check=True,
        capture_output=True,
    )
    log = folder / "console.log"
    started = time.monotonic()
    console = start_console(env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_healthy(base, console)
        consumed = await asyncio.to_thread(wait_applied, database, produced, console, started, args.within)
        print_consumption(
            [
                ("console (python -m verbund_console, 4 consumers)", consumed.events, consumed.seconds),
                ("bare aiokafka read of the same topics", raw_events, raw_seconds),
            ],
            f"Console consumption: {produced:,} events of {len(networks)} networks "
            f"({big.learners:,} learners, {big.firms:,} firms in the big one); console ready to last event "
            f"{consumed.since_start:.0f} s",
        )
        if args.no_pages:
            return
        client = await signed_in(base)
        try:
            for network in networks[:1] if args.big_only else networks:
                timings = await time_pages(client, pages_of(network), args.requests)
                if network is big:
                    before = _peak_memory_mib(console.pid)
                    timings += await time_pages(client, exports_of(network), args.export_requests)
                    print(
                        f"  console's peak memory: {before:,.0f} MiB before the CSV exports, "
                        f"{_peak_memory_mib(console.pid):,.0f} MiB after them",
                        file=sys.stderr,
                    )
                print()
                print_pages(
                    timings,
                    f"Pages of {network.network_id} ({network.learners:,} learners, {network.firms:,} firms, "
                    f"{network.assignments:,} assignments), {args.requests} requests each "
                    f"({args.export_requests} for a CSV), ms",
                )
        finally:
            await client.aclose()
    finally:
        console.terminate()
        try:
            console.wait(timeout=30)
        except subprocess.TimeoutExpired:
            console.kill()
        print(f"  console log: {log}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--firms", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=5, help="requests per page")
    parser.add_argument("--export-requests", type=int, default=2, help="requests per CSV export")
    parser.add_argument("--bootstrap", default=None, help="default: KAFKA_BOOTSTRAP_SERVERS or a local broker")
    parser.add_argument("--port", type=int, default=18090, help="the console's port during the run")
    parser.add_argument("--within", type=float, default=1200.0, help="seconds the console may take to consume")
    parser.add_argument("--big-only", action="store_true", help="time the big network's pages only")
    parser.add_argument("--no-pages", action="store_true", help="time the consumption only, no page")
    parser.add_argument("--keep", type=Path, default=None, help="keep the console's database and log in this folder")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            folder = args.keep
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        endpoint = stack.enter_context(provide_kafka(args.bootstrap))
        if endpoint.source == "local":
            # The console process and this one connect as the local broker's super user.
            os.environ.update(endpoint.security.environment())
        run_coroutine(ensure_topics(endpoint.bootstrap_servers, load_topics().values(), security=endpoint.security))
        print(f"broker {endpoint.source} ({endpoint.bootstrap_servers}), topics {os.environ['VERBUND_TOPIC_PREFIX']}*")
        asyncio.run(measure(args, endpoint.bootstrap_servers, folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
