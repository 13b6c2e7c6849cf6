"""What a fault run must leave behind: every record handled once, the published plan intact and valid, mail once."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from fault_input import FaultInput
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_matcher import planning
from verbund_matcher.domain.network import NetworkState, Rejection
from verbund_matcher.domain.problem_builder import Placement, build_problem
from verbund_notifier.service.delivery import HANDING_OVER, is_uncertain
from verbund_runtime.kafka import client_options
from verbund_schemas import INBOUND_TYPES, InvalidEvent, decode_event, week_index, week_of
from verbund_schemas.topics import Topic

# Tables of the matcher's network state, and the columns that identify a row within its network.
STATE_TABLES = {
    "curricula": "curriculum_id",
    "firms": "firm_id",
    "offers": "offer_id",
    "learners": "learner_id",
}
EXPLAIN_OBJECTIVE_DROP = 0.02
"""A plan this much worse than the fault-free run's gets an explanation in the output."""


@dataclass(frozen=True)
class TopicRecord:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    def event(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.value or b"{}")
        return decoded


async def read_topic(bootstrap: str, topic: Topic) -> list[TopicRecord]:
    """Every record of a topic from the start to its current end, in partition and offset order."""
    consumer = AIOKafkaConsumer(**client_options(bootstrap), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[TopicRecord] = []
        while True:
            behind = [tp for tp, end in ends.items() if await consumer.position(tp) < end]
            if not behind:
                break
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for tp, batch in batches.items():
                records.extend(
                    TopicRecord(tp.partition, r.offset, r.key, r.value) for r in batch if r.offset < ends[tp]
                )
    finally:
        await consumer.stop()
    return sorted(records, key=lambda r: (r.partition, r.offset))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class MatcherDatabase:
    """What the matcher's database holds at the end of a run."""

    state: dict[str, dict[str, Any]]  # table -> "network/id" -> stored payload
    applied: dict[tuple[str, str], tuple[int, int]]  # (network, event id) -> (partition, offset) applied from
    rejected: set[tuple[int, int]]  # (partition, offset) of records rejected
    unsent: int
    published: dict[str, dict[str, tuple[str, str, str, str]]]  # network -> assignment id -> learner, module, …
    shortfalls: dict[str, set[str]]
    deficits: dict[str, set[str]]
    plan_versions: dict[str, int]


async def read_matcher_database(url: str, inbound: str) -> MatcherDatabase:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            state: dict[str, dict[str, Any]] = {}
            rows = await conn.execute(text("SELECT network_id, config, plan_version FROM networks"))
            networks = rows.all()
            state["networks"] = {n: _json(config) for n, config, _ in networks}
            plan_versions = {n: int(version) for n, _, version in networks}
            for table, id_column in STATE_TABLES.items():
                rows = await conn.execute(text(f"SELECT network_id, {id_column}, payload FROM {table}"))
                state[table] = {f"{n}/{i}": _json(payload) for n, i, payload in rows.all()}
            rows = await conn.execute(text("SELECT network_id, kind, entity_id FROM withdrawn"))
            state["withdrawn"] = {f"{n}/{kind}/{i}": True for n, kind, i in rows.all()}
            applied: dict[tuple[str, str], tuple[int, int]] = {}
            rejected: set[tuple[int, int]] = set()
            rows = await conn.execute(
                text('SELECT message_id, network_id, "partition", "offset", outcome, topic FROM inbox')
            )
            for message_id, network_id, partition, offset, outcome, topic in rows.all():
                if topic != inbound:
                    continue
                if outcome == "applied":
                    applied[(network_id, message_id)] = (int(partition), int(offset))
                else:
                    rejected.add((int(partition), int(offset)))
            unsent = (await conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))).scalar_one()
            published: dict[str, dict[str, tuple[str, str, str, str]]] = defaultdict(dict)
            rows = await conn.execute(
                text(
                    "SELECT network_id, assignment_id, learner_id, module_id, firm_id, start_week "
                    "FROM published_assignments"
                )
            )
            for n, a, learner, module, firm, start in rows.all():
                published[n][a] = (learner, module, firm, start)
            shortfalls: dict[str, set[str]] = defaultdict(set)
            for n, s in (await conn.execute(text("SELECT network_id, shortfall_id FROM published_shortfalls"))).all():
                shortfalls[n].add(s)
            deficits: dict[str, set[str]] = defaultdict(set)
            for n, d in (await conn.execute(text("SELECT network_id, deficit_id FROM published_deficits"))).all():
                deficits[n].add(d)
    finally:
        await engine.dispose()
    return MatcherDatabase(
        state, applied, rejected, int(unsent), dict(published), dict(shortfalls), dict(deficits), plan_versions
    )


@dataclass
class NotifierDatabase:
    processed: set[tuple[str, str]]
    sent: set[str]
    pending: list[str]
    failed: list[str]
    told: set[tuple[str, str]]  # (source event id, recipient) of every message, sent or not
    uncertain: set[str] = field(default_factory=set)  # given up because cut off in the hand-over: may have arrived


async def read_notifier_database(url: str) -> NotifierDatabase:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            processed = {
                (n, e) for n, e in (await conn.execute(text("SELECT network_id, event_id FROM processed_events"))).all()
            }
            deliveries = (
                await conn.execute(
                    text("SELECT notification_id, status, recipient, last_error, source_event_id FROM deliveries")
                )
            ).all()
    finally:
        await engine.dispose()
    sent = {nid for nid, status, _, _, _ in deliveries if status == "sent"}
    pending = [f"{nid} to {who}" for nid, status, who, _, _ in deliveries if status == "pending"]
    pending += [
        f"{nid} to {who} (being handed over)" for nid, status, who, _, _ in deliveries if status == HANDING_OVER
    ]
    uncertain = {nid for nid, status, _, error, _ in deliveries if status == "failed" and is_uncertain(error)}
    failed = [
        f"{nid} to {who}: {error}"
        for nid, status, who, error, _ in deliveries
        if status == "failed" and nid not in uncertain
    ]
    told = {(source, who) for _, _, who, _, source in deliveries}
    return NotifierDatabase(processed, sent, pending, failed, told, uncertain)


@dataclass
class NetworkPlan:
    """One network's final plan as the assignment topic tells it, judged by the planner's validator."""

    network_id: str
    assignments: int
    shortfalls: int
    deficits: int
    versions: int
    objective: int
    min_sat: int
    violations: list[str]


@dataclass
class Verdict:
    """Everything checked after one run; `lost` and `duplicated` list what went wrong, one line each."""

    records: int = 0
    poison: int = 0
    input_repeats: int = 0  # records on the inbound topic that repeat an earlier one (a producer's retry)
    outcomes: dict[int, str] = field(default_factory=dict)  # input position -> applied or rejected
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, NetworkPlan] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    raw_repeats: Counter[str] = field(default_factory=Counter)  # topic role -> records repeating an earlier id
    published: Counter[str] = field(default_factory=Counter)  # records on each outbound topic, repeats included
    mails: int = 0
    mail_repeats: int = 0
    uncertain: int = 0  # mails cut off in the hand-over, reported as NotificationFailed and not sent again
    notes: list[str] = field(default_factory=list)

    def objective(self) -> int:
        return sum(p.objective for p in self.plans.values())


def account_for_inbound(
    verdict: Verdict,
    fault_input: FaultInput,
    inbound: list[TopicRecord],
    rejected_records: list[TopicRecord],
    database: MatcherDatabase,
    inbound_topic: str,
) -> None:
    """Each inbound record applied or rejected exactly once: inbox rows, and one EventRejected per rejected record."""
    verdict.records = len(inbound)
    verdict.poison = fault_input.poison
    first_by_id: dict[str, dict[str, Any]] = {}
    for record in rejected_records:
        event = record.event()
        if event["id"] in first_by_id:
            verdict.raw_repeats["rejected"] += 1
            if first_by_id[event["id"]] != event:
                verdict.duplicated.append(f"EventRejected {event['id']} published twice with different content")
            continue
        first_by_id[event["id"]] = event
    rejections: Counter[tuple[int, int]] = Counter()
    for event in first_by_id.values():
        data = event["data"]
        if data["topic"] == inbound_topic:
            rejections[(data["partition"], data["offset"])] += 1

    # The same bytes may be sent more than once (a few poison records are alike, and a producer may retry):
    # the n-th copy on a partition is the n-th such input.
    waiting: dict[tuple[bytes | None, bytes], list[int]] = defaultdict(list)
    for i, sent in enumerate(fault_input.items):
        waiting[(sent.key, sent.value or b"")].append(i)
    sent_as = {bytes_: fault_input.items[queue[0]] for bytes_, queue in waiting.items()}
    positions = {(r.partition, r.offset) for r in inbound}
    for record in inbound:
        position = (record.partition, record.offset)
        where = f"record {record.partition}:{record.offset}"
        queue = waiting.get((record.key, record.value or b""))
        index = queue.pop(0) if queue else None
        if index is None:
            verdict.input_repeats += 1
        item = sent_as.get((record.key, record.value or b""))
        if item is not None and item.event_id is not None:
            where += f" ({item.event_type} {item.event_id} of {item.network_id})"
        elif item is not None:
            where += f" (poison: {item.poison})"
        applied_at = (
            database.applied.get((item.network_id, item.event_id))
            if item is not None and item.network_id and item.event_id
            else None
        )
        if position in database.rejected:
            if rejections[position] == 0:
                verdict.lost.append(f"{where}: rejected in the inbox, but no EventRejected was published")
            elif rejections[position] > 1:
                verdict.duplicated.append(f"{where}: {rejections[position]} EventRejected with different ids")
            if applied_at == position:
                verdict.duplicated.append(f"{where}: both applied and rejected")
            outcome = "rejected"
        elif applied_at == position:
            if rejections[position]:
                verdict.duplicated.append(f"{where}: applied, and also rejected")
            outcome = "applied"
        elif applied_at is not None and index is None:
            outcome = "repeat"  # a producer's retry of an applied event: skipped by the inbox, as it should be
        else:
            verdict.lost.append(f"{where}: neither applied nor rejected")
            outcome = "lost"
        if index is not None:
            verdict.outcomes[index] = outcome
    for position, count in rejections.items():
        if position not in positions:
            verdict.duplicated.append(f"{count} EventRejected name record {position}, which is not on the topic")
    never_sent = [i for queue in waiting.values() for i in queue]
    if never_sent:
        verdict.notes.append(f"{len(never_sent)} input records never reached the broker (the producer gave up)")


def replayed(records: Iterable[TopicRecord], role: str, verdict: Verdict) -> list[dict[str, Any]]:
    """The events of a topic as a consumer that drops ids it has seen gets them; repeats are counted."""
    first: dict[str, dict[str, Any]] = {}
    out = []
    for record in records:
        verdict.published[role] += 1
        event = record.event()
        seen = first.get(event["id"])
        if seen is not None:
            verdict.raw_repeats[role] += 1
            if seen != event:
                verdict.duplicated.append(f"{role}: id {event['id']} published twice with different content")
            continue
        first[event["id"]] = event
        out.append(event)
    return out


def plan_version_problems(events: Iterable[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(lost, duplicated): each plan version of each network complete, once and in order on the topic."""
    lost: list[str] = []
    duplicated: list[str] = []
    by_network: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by_network[e["subject"]].append(e)
    for network, stream in by_network.items():
        due = 1
        pending: Counter[str] = Counter()
        logical: set[tuple[str, str, int]] = set()
        for e in stream:
            data = e["data"]
            if e["type"] == "PlanPublished":
                version = data["plan_version"]
                if version < due:
                    duplicated.append(f"{network}: plan version {version} again after {due - 1}")
                elif version > due:
                    lost.append(f"{network}: plan version {version} where {due} was due")
                counts = {
                    "made": pending["AssignmentMade"],
                    "changed": pending["AssignmentChanged"],
                    "cancelled": pending["AssignmentCancelled"],
                }
                for what, arrived in counts.items():
                    if data[what] > arrived:
                        lost.append(f"{network} v{version}: {data[what]} {what}, {arrived} arrived")
                    elif data[what] < arrived:
                        duplicated.append(f"{network} v{version}: {data[what]} {what}, {arrived} arrived")
                pending.clear()
                due = version + 1
                continue
            key = (e["type"], data["assignment_id"], data["plan_version"])
            if key in logical:
                duplicated.append(f"{network}: {key} published twice under different ids")
            logical.add(key)
            pending[e["type"]] += 1
        if pending:
            lost.append(f"{network}: assignment events after the last PlanPublished: {dict(pending)}")
    return lost, duplicated


def fold_assignments(events: Iterable[dict[str, Any]]) -> dict[str, dict[str, tuple[str, str, str, str]]]:
    plans: dict[str, dict[str, tuple[str, str, str, str]]] = defaultdict(dict)
    for e in events:
        data = e["data"]
        if e["type"] in ("AssignmentMade", "AssignmentChanged"):
            plans[e["subject"]][data["assignment_id"]] = (
                data["learner_id"],
                data["module_id"],
                data["firm_id"],
                data["start_week"],
            )
        elif e["type"] == "AssignmentCancelled":
            plans[e["subject"]].pop(data["assignment_id"], None)
    return dict(plans)


def fold_open(events: Iterable[dict[str, Any]], opened: str, closed: str, key: str) -> dict[str, dict[str, Any]]:
    """network -> id -> latest data of what is open: shortfalls, or firm x module deficits."""
    current: dict[str, dict[str, Any]] = defaultdict(dict)
    for e in events:
        if e["type"] == opened:
            current[e["subject"]][e["data"][key]] = e["data"]
        elif e["type"] == closed:
            current[e["subject"]].pop(e["data"][key], None)
    return dict(current)


def rebuilt_states(inbound: list[TopicRecord], database: MatcherDatabase) -> tuple[dict[str, NetworkState], list[str]]:
    """Each network's state from the inbound records the matcher applied, in their order (the matcher's fold)."""
    states: dict[str, NetworkState] = {}
    problems: list[str] = []
    applied_positions = set(database.applied.values())
    for record in inbound:
        if (record.partition, record.offset) not in applied_positions:
            continue
        try:
            event = decode_event(record.value or b"", INBOUND_TYPES)
        except InvalidEvent as exc:
            problems.append(f"record {record.partition}:{record.offset} was applied but does not decode: {exc}")
            continue
        state = states.setdefault(event.subject, NetworkState(event.subject))
        try:
            state.apply(event)
        except Rejection as exc:
            problems.append(f"{event.subject}: applied event {event.id} is rejected when replayed: {exc.reason}")
    return states, problems


def judge_plan(
    state: NetworkState,
    assignments: Mapping[str, tuple[str, str, str, str]],
    shortfalls: Mapping[str, dict[str, Any]],
    deficits: Mapping[str, dict[str, Any]],
    versions: int,
    today: dt.date,
) -> NetworkPlan:
    """The planner's validator on the replayed plan, against the problem rebuilt from the applied events."""
    placements = [Placement(learner, module, firm, start) for learner, module, firm, start in assignments.values()]
    problem = build_problem(state, today=today, previous=placements)
    origin = week_of(problem.origin)
    chosen = tuple(
        planning.Assignment(p.learner_id, p.module_id, p.firm_id, week_index(p.start_week, origin)) for p in placements
    )
    declared = tuple(
        planning.Shortfall(
            learner_id=s["learner_id"],
            group_id=s["group_id"],
            missing=s["missing"],
            reason=planning.ShortfallReason(s["reason"]),
            message=s["message"],
            module_id=s.get("module_id"),
        )
        for s in shortfalls.values()
    )
    weeks_below = tuple(
        planning.SeatDeficit(d["firm_id"], d["module_id"], week, span["minimum"], span["planned"])
        for d in deficits.values()
        for span in d["spans"]
        for week in range(week_index(span["first_week"], origin), week_index(span["last_week"], origin) + 1)
    )
    evaluation = planning.evaluate(problem, chosen)
    plan = planning.Plan(
        assignments=chosen,
        sat=evaluation.sat,
        objective=evaluation.objective,
        shortfalls=declared,
        deficits=weeks_below,
    )
    return NetworkPlan(
        network_id=state.network_id,
        assignments=len(chosen),
        shortfalls=len(declared),
        deficits=len(deficits),
        versions=versions,
        objective=evaluation.objective,
        min_sat=evaluation.min_sat,
        violations=planning.validate(problem, plan),
    )


def check_plans(
    verdict: Verdict,
    inbound: list[TopicRecord],
    assignment_records: list[TopicRecord],
    shortfall_records: list[TopicRecord],
    database: MatcherDatabase,
    today: dt.date,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Replaying the topics gives the database's final plans, each version once and whole, and valid plans."""
    assignment_events = replayed(assignment_records, "assignments", verdict)
    shortfall_events = replayed(shortfall_records, "shortfalls", verdict)
    lost, duplicated = plan_version_problems(assignment_events)
    verdict.lost += lost
    verdict.duplicated += duplicated
    replayed_plans = fold_assignments(assignment_events)
    open_shortfalls = fold_open(shortfall_events, "ShortfallDetected", "ShortfallResolved", "shortfall_id")
    open_deficits = fold_open(shortfall_events, "SeatDeficitDetected", "SeatDeficitResolved", "deficit_id")
    last_version: dict[str, int] = {}
    for e in assignment_events:
        if e["type"] == "PlanPublished":
            last_version[e["subject"]] = e["data"]["plan_version"]
    states, problems = rebuilt_states(inbound, database)
    verdict.lost += problems
    for network in sorted(set(database.published) | set(replayed_plans) | set(states)):
        in_database = database.published.get(network, {})
        on_topic = replayed_plans.get(network, {})
        for assignment_id in sorted(set(in_database) | set(on_topic)):
            if in_database.get(assignment_id) != on_topic.get(assignment_id):
                verdict.lost.append(
                    f"{network}: assignment {assignment_id} is {in_database.get(assignment_id)} in the matcher's "
                    f"plan but {on_topic.get(assignment_id)} when the topic is replayed"
                )
        if database.plan_versions.get(network, 0) != last_version.get(network, 0):
            verdict.lost.append(
                f"{network}: plan version {database.plan_versions.get(network, 0)} in the database, "
                f"{last_version.get(network, 0)} the last one on the topic"
            )
        for what, in_db, replay in (
            ("shortfalls", database.shortfalls.get(network, set()), set(open_shortfalls.get(network, {}))),
            ("seat deficits", database.deficits.get(network, set()), set(open_deficits.get(network, {}))),
        ):
            if in_db != replay:
                verdict.lost.append(
                    f"{network}: open {what} differ between database and topic: only in the database "
                    f"{sorted(in_db - replay)[:5]}, only on the topic {sorted(replay - in_db)[:5]}"
                )
        if network not in states:
            continue
        judged = judge_plan(
            states[network],
            on_topic,
            open_shortfalls.get(network, {}),
            open_deficits.get(network, {}),
            last_version.get(network, 0),
            today,
        )
        verdict.plans[network] = judged
        verdict.lost += [f"{network}: the validator rejects the published plan: {v}" for v in judged.violations[:10]]
    return assignment_events, shortfall_events


def check_notifier(
    verdict: Verdict,
    assignment_events: list[dict[str, Any]],
    shortfall_events: list[dict[str, Any]],
    notification_records: list[TopicRecord],
    notifier: NotifierDatabase,
    mail_ids: list[str],
    state: Mapping[str, Mapping[str, Any]],
) -> None:
    """Every assignment and shortfall event applied by the notifier; every mail it sent arrived, and once.

    A mail the notifier gave up as uncertain (cut off while the mail server was receiving it) is reported, not
    lost, when its NotificationFailed says so; it is counted in `uncertain`, whether or not it arrived.
    """
    log = replayed(notification_records, "notifications", verdict)
    reported_uncertain = {
        e["data"]["notification_id"]
        for e in log
        if e["type"] == "NotificationFailed" and is_uncertain(e["data"].get("error"))
    }
    for e in [*assignment_events, *shortfall_events]:
        if (e["subject"], e["id"]) not in notifier.processed:
            verdict.lost.append(f"notifier: {e['type']} {e['id']} of {e['subject']} never applied")
    # A learner still in the network with an address is told of every change to their assignments.
    reachable = {
        key.replace("/", ":learner:", 1)
        for key, payload in state["learners"].items()
        if (payload.get("contact") or {}).get("email")
        and "{}/learner/{}".format(*key.split("/", 1)) not in state["withdrawn"]
    }
    for e in assignment_events:
        if e["type"] == "PlanPublished":
            continue
        learner = f"{e['subject']}:learner:{e['data']['learner_id']}"
        if learner in reachable and (e["id"], learner.split(":", 1)[1]) not in notifier.told:
            verdict.lost.append(f"notifier: {learner} was not told of {e['type']} {e['id']}")
    arrived = Counter(mail_ids)
    verdict.mails = len(arrived)
    verdict.mail_repeats = sum(n - 1 for n in arrived.values())
    for nid in sorted(notifier.sent - set(arrived)):
        verdict.lost.append(f"mail {nid}: sent according to the notifier, never arrived")
    for nid in sorted(set(arrived) - notifier.sent - notifier.uncertain):
        verdict.notes.append(f"mail {nid}: arrived, but the notifier does not have it as sent")
    verdict.uncertain = len(notifier.uncertain & reported_uncertain)
    for nid in sorted(notifier.uncertain - reported_uncertain):
        verdict.lost.append(f"mail {nid}: given up as uncertain, but no NotificationFailed says so")
    if notifier.uncertain:
        came = len(notifier.uncertain & set(arrived))
        verdict.notes.append(
            f"{len(notifier.uncertain)} mails cut off in the hand-over and reported as uncertain; "
            f"{came} of them had arrived"
        )
    verdict.lost += [f"mail {line}: still pending at the end" for line in notifier.pending]
    verdict.lost += [f"mail {line}: given up" for line in notifier.failed]


def differences(verdict: Verdict, reference: Verdict) -> list[str]:
    """Where a run's matcher state and record outcomes differ from the fault-free run of the same input."""
    out: list[str] = []
    for table in sorted(set(verdict.state) | set(reference.state)):
        mine, theirs = verdict.state.get(table, {}), reference.state.get(table, {})
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key):
                out.append(f"{table} {key}: {mine.get(key)!r:.200} here, {theirs.get(key)!r:.200} without faults")
    for index in sorted(set(verdict.outcomes) | set(reference.outcomes)):
        if verdict.outcomes.get(index) != reference.outcomes.get(index):
            out.append(
                f"input record {index}: {verdict.outcomes.get(index)} here, "
                f"{reference.outcomes.get(index)} without faults"
            )
    return out


def objective_lines(verdict: Verdict, reference: Verdict) -> tuple[list[str], list[str]]:
    """Each network's objective beside the fault-free run's; and an explanation for every drop beyond 2 %."""
    lines: list[str] = []
    explanations: list[str] = []
    for network in sorted(set(verdict.plans) | set(reference.plans)):
        mine, theirs = verdict.plans.get(network), reference.plans.get(network)
        if mine is None or theirs is None:
            lines.append(f"{network}: planned {'here' if mine else 'without faults'} only")
            continue
        drop = (theirs.objective - mine.objective) / abs(theirs.objective) if theirs.objective else 0.0
        lines.append(
            f"{network}: objective {mine.objective} (fault-free {theirs.objective}, {-drop:+.1%}), "
            f"{mine.assignments} assignments ({theirs.assignments}), {mine.shortfalls} unmet requirements "
            f"({theirs.shortfalls}), {mine.versions} plan versions ({theirs.versions})"
        )
        if drop > EXPLAIN_OBJECTIVE_DROP:
            explanations.append(explain_drop(mine, theirs, drop))
    return lines, explanations


def explain_drop(mine: NetworkPlan, theirs: NetworkPlan, drop: float) -> str:
    """Why a plan after faults is worse: what differs, in the terms the planner works in."""
    facts = []
    if mine.assignments < theirs.assignments:
        facts.append(f"{theirs.assignments - mine.assignments} fewer assignments placed")
    if mine.shortfalls > theirs.shortfalls:
        facts.append(f"{mine.shortfalls - theirs.shortfalls} more requirements unmet")
    if mine.deficits > theirs.deficits:
        facts.append(f"{mine.deficits - theirs.deficits} more firm x module cells below their minimum")
    if mine.min_sat < theirs.min_sat:
        facts.append(f"the worst-off learner's sat fell from {theirs.min_sat} to {mine.min_sat} (it counts twice)")
    if mine.versions != theirs.versions:
        facts.append(f"the events arrived in {mine.versions} plan versions instead of {theirs.versions}")
    what = "; ".join(facts) or "the same counts, other places"
    return (
        f"{mine.network_id}: objective {drop:.1%} below the fault-free run: {what}. Each batch is repaired "
        "against the plan published before it, so events batched differently after a restart lead to another "
        "locally repaired plan; the scheduled full re-optimisation (off in these runs) is what closes such gaps."
    )
