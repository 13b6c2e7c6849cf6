"""Replans one network and stages the difference to its published plan in the outbox."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import bindparam, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import (
    AssignmentCancelled,
    AssignmentCancelledData,
    AssignmentChanged,
    AssignmentChangedData,
    AssignmentData,
    AssignmentMade,
    PlanPublished,
    PlanPublishedData,
    PreviousAssignment,
    SeatSuggestion,
    ShortfallData,
    ShortfallDetected,
    ShortfallReason,
    ShortfallResolved,
    ShortfallResolvedData,
    week_monday,
    week_sunday,
)

from .. import planning
from ..domain.network import Change, ChangeKind
from ..domain.problem_builder import build_problem, remember_previous, week_label
from ..ops import metrics
from ..planning.model import Assignment, Plan, Problem, Shortfall
from ..planning.model import ShortfallReason as Unmet
from ..store.bulk import insert_at_commit
from ..store.networks import LoadedNetwork, PublishedAssignment, bump_version, read_published
from ..store.tables import PublishedAssignmentRow, PublishedDeficitRow, PublishedShortfallRow, table_of
from . import deficits as seat_deficits
from .identities import assignment_id, shortfall_id
from .outbox import SOURCE, enqueue
from .stale_plans import clear_stale, mark_stale

log = logging.getLogger(__name__)

Mode = Literal["repair", "full"]


@dataclass(frozen=True)
class Planner:
    """The planner's entry points the matcher calls; the pure planner unless a deployment or a test hands in
    another (a planner that raises shows how the matcher copes with a failed planning)."""

    repair: Callable[..., Plan] = planning.repair
    solve: Callable[..., Plan] = planning.solve


class PlanningFailed(Exception):
    """The planner raised for a network; the published plan stays as it is (logged and counted by `propose`)."""

    def __init__(self, network_id: str, error_type: str) -> None:
        super().__init__(f"planning network {network_id!r} failed: {error_type}")
        self.network_id = network_id
        self.error_type = error_type


@dataclass(frozen=True)
class PlannerSettings:
    repair_time_limit: float = 5.0  # the solve that may follow a repair (see solve_may_help)
    full_time_limit: float = 30.0
    workers: int = 2
    seed: int = 0
    # Solver budgets in deterministic work instead of seconds: the same events give the same plans.
    deterministic: bool = False
    # Above this many learners a batch never waits for a solve: the periodic re-optimisation has the time.
    solve_max_learners: int = 200
    planner: Planner = Planner()


# Unmet requirements another arrangement of the other learners could meet: seats held by others, or a
# minimum group that ties the learner's time. The other reasons (no offer, eligibility, availability,
# precedence, firm limit) hold whatever the others do, so no solve can meet them either.
_RE_ARRANGEABLE = frozenset({Unmet.CONTENTION, Unmet.MIN_SEATS})
# Capacity the batch added or changed: seats that repair's gap filling could only use where they were free.
_NEW_CAPACITY = frozenset({ChangeKind.OFFER_ADDED, ChangeKind.OFFER_CHANGED})

# The last problem and plan per network, for repair to re-use explanations and sat(s) of learners nothing
# changed for. Only an accelerator: repair answers the same without it (a replica that did not plan the
# network last, or after a restart), so it need not follow the database, only stay bounded.
_LAST_PLANS: OrderedDict[str, tuple[Problem, Plan]] = OrderedDict()
_LAST_PLANS_KEPT = 256


def _remember(network_id: str, problem: Problem, plan: Plan) -> None:
    _LAST_PLANS[network_id] = (problem, plan)
    _LAST_PLANS.move_to_end(network_id)
    while len(_LAST_PLANS) > _LAST_PLANS_KEPT:
        _LAST_PLANS.popitem(last=False)


def solve_may_help(
    plan: Plan,
    problem: Problem,
    unmet_before: Collection[tuple[str, str]],
    changes: Sequence[Change],
    settings: PlannerSettings,
) -> bool:
    """Whether a repaired plan is worth a bounded solve in the batch, rather than at the next re-optimisation.

    Only when the network is small enough to solve in the batch's time, some requirement is unmet for a
    reason another arrangement could remove, and either that requirement was met (or did not exist) in the
    published plan, or the batch brought new capacity. A requirement left unmet by the last plan, with no new
    seats, was already out of reach of the solver that made that plan; solving again every batch would only
    repeat it. Learners who register before capacity exists are unmet for "no offer": no solve can help.
    """
    if len(problem.learners) > settings.solve_max_learners:
        return False
    open_now = {(s.learner_id, s.group_id) for s in plan.shortfalls if s.reason in _RE_ARRANGEABLE}
    if not open_now:
        return False
    return bool(open_now - set(unmet_before)) or any(c.kind in _NEW_CAPACITY for c in changes)


@dataclass(frozen=True)
class Publication:
    """What one replan staged for publishing."""

    plan_version: int
    made: int
    changed: int
    cancelled: int
    detected: int
    resolved: int
    deficits_detected: int = 0
    deficits_resolved: int = 0


def _objective_of(evaluation: Any) -> int:
    """`planning.evaluate` returns the objective, or an object carrying it."""
    value = getattr(evaluation, "objective", evaluation)
    return int(value)


def missing(shortfalls: Sequence[Shortfall]) -> int:
    return sum(max(1, s.missing) for s in shortfalls)


def better(a: Plan, b: Plan) -> Plan:
    """Unfilled minimum seats first, then unmet requirements (both hard constraints, relaxed only when nothing
    else fits), then the objective.

    The objective alone would prefer leaving a module out to moving a published one (change_penalty).
    """
    return min((a, b), key=lambda p: (planning.missing_seats(p.deficits), missing(p.shortfalls), -p.objective))


async def _run_planner(
    problem: Problem,
    mode: Mode,
    settings: PlannerSettings,
    *,
    unmet_before: Collection[tuple[str, str]] = (),
    changes: Sequence[Change] = (),
) -> Plan:
    # CP-SAT holds no GIL while it searches: solves run in a thread, so heartbeats and the relay go on.
    if mode == "repair":
        # The repair is pure Python and holds the GIL, but in a thread the interpreter still hands the loop a
        # turn every few milliseconds: a repair of a big network (seconds at 1,000 learners) no longer stalls
        # heartbeats, the relay and the health endpoint for its whole length.
        plan = await asyncio.to_thread(settings.planner.repair, problem, last=_LAST_PLANS.get(problem.network_id))
        if not plan.shortfalls or not solve_may_help(plan, problem, unmet_before, changes, settings):
            return plan
        # The repair left open a requirement that moving others might meet: a bounded solve, warm-started
        # from the published plan, may still meet it.
        time_limit = settings.repair_time_limit
    else:
        plan, time_limit = None, settings.full_time_limit
    solved = await asyncio.to_thread(
        settings.planner.solve,
        problem,
        time_limit=time_limit,
        workers=settings.workers,
        seed=settings.seed,
        deterministic=settings.deterministic,
    )
    return solved if plan is None else better(plan, solved)


@dataclass
class PlanInputs:
    """What a replan reads from the database: the problem, and the published plan it is compared with."""

    problem: Problem
    published: dict[str, PublishedAssignment]
    shortfalls: dict[str, dict[str, Any]]
    deficits: dict[str, dict[str, Any]]
    read_version: int  # the network's version when they were read
    plan_version: int = 0  # the published plan's version


async def read_published_plan(
    session: AsyncSession, loaded: LoadedNetwork
) -> tuple[dict[str, PublishedAssignment], dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The network's published assignments, shortfall payloads and seat deficit payloads, each by id."""
    published, stored_shortfalls = await read_published(session, loaded)
    return published, stored_shortfalls, await _published_deficits(session, loaded)


async def read_inputs(session: AsyncSession, loaded: LoadedNetwork, *, today: dt.date) -> PlanInputs:
    published, stored_shortfalls, stored_deficits = await read_published_plan(session, loaded)
    problem = build_problem(
        loaded.state,
        today=today,
        previous=published.values(),
        memo=loaded.problem_memo,
        previous_version=loaded.published_version,
    )
    return PlanInputs(
        problem, published, stored_shortfalls, stored_deficits, loaded.read_version, loaded.row.plan_version
    )


async def propose(
    inputs: PlanInputs, *, mode: Mode, changes: Sequence[Change] = (), settings: PlannerSettings = PlannerSettings()
) -> Plan | None:
    """Plan without touching the database (no transaction needs to be open); None when the published plan stays.

    A full re-optimisation proposes a plan only if it beats the published one (unfilled minimums, then unmet
    requirements, then the objective, which charges change_penalty for every move).

    Raises PlanningFailed when the planner raises (a bug, a model the solver rejects): the failure is logged
    with ids only and counted here; the caller decides what the published plan is then (after a batch: stale).
    """
    problem = inputs.problem
    unmet_before = {(p["learner_id"], p["group_id"]) for p in inputs.shortfalls.values()}
    started = time.perf_counter()
    try:
        plan = await _run_planner(problem, mode, settings, unmet_before=unmet_before, changes=changes)
        if mode == "full" and inputs.published:
            current_objective = _objective_of(await asyncio.to_thread(planning.evaluate, problem, problem.previous))
            current_missing = missing(await asyncio.to_thread(planning.explain, problem, problem.previous))
            current_short = planning.missing_seats(
                await asyncio.to_thread(planning.seat_deficits, problem, problem.previous)
            )
            new_key = (planning.missing_seats(plan.deficits), missing(plan.shortfalls), -plan.objective)
            if new_key >= (current_short, current_missing, -current_objective):
                metrics.REPLANS.labels(mode=mode, result="kept").inc()
                return None
    except Exception as exc:
        metrics.REPLANS.labels(mode=mode, result="error").inc()
        metrics.PLAN_FAILURES.labels(mode=mode).inc()
        error_type = type(exc).__name__
        # Ids and code locations only: an exception's message may quote the network's data (names, contacts).
        log.error(
            "planning network %s failed (%s, %s); its published plan version %d stays",
            problem.network_id,
            mode,
            error_type,
            inputs.plan_version,
            extra={
                "network_id": problem.network_id,
                "plan_version": inputs.plan_version,
                "mode": mode,
                "error_type": error_type,
                "stack": "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__))),
            },
        )
        raise PlanningFailed(problem.network_id, error_type) from exc
    finally:
        metrics.PLANNING_SECONDS.labels(mode=mode).observe(time.perf_counter() - started)
    return plan


async def stage_plan(
    session: AsyncSession,
    loaded: LoadedNetwork,
    inputs: PlanInputs,
    plan: Plan,
    *,
    mode: Mode,
    changes: Sequence[Change] = (),
) -> Publication | None:
    """Write `plan` as the network's published plan and stage its events, in the caller's transaction.

    The plan is one of the network's current state, so a stale mark goes with the same version bump.
    """
    _remember(loaded.state.network_id, inputs.problem, plan)
    clear_stale(loaded)
    publication = await _stage(
        session,
        loaded,
        inputs.problem,
        plan,
        inputs.published,
        inputs.shortfalls,
        changes,
        mode,
        stored_deficits=inputs.deficits,
    )
    metrics.REPLANS.labels(mode=mode, result="published" if publication else "unchanged").inc()
    return publication


async def replan(
    session: AsyncSession,
    loaded: LoadedNetwork,
    *,
    today: dt.date,
    mode: Mode,
    changes: Sequence[Change] = (),
    settings: PlannerSettings = PlannerSettings(),
) -> Publication | None:
    """Plan the network and stage the difference, all in the caller's transaction (the batch's repair).

    None when the published plan stays as it is. When planning fails, the batch's state changes still commit
    (ingestion must go on) and the network is marked stale in the same transaction, so that the scheduled retry
    (maintenance.retry_stale_plans), the next batch, a restart or another replica plans it again. The full
    re-optimisation does not hold a transaction through its solve: see maintenance.reoptimise_network.
    """
    inputs = await read_inputs(session, loaded, today=today)
    try:
        plan = await propose(inputs, mode=mode, changes=changes, settings=settings)
    except PlanningFailed as failed:
        mark_stale(loaded, failed.error_type, dt.datetime.now(dt.UTC))
        return None
    if plan is None:
        return None
    return await stage_plan(session, loaded, inputs, plan, mode=mode, changes=changes)


async def _stage(
    session: AsyncSession,
    loaded: LoadedNetwork,
    problem: Problem,
    plan: Plan,
    published: dict[str, PublishedAssignment],
    stored_shortfalls: dict[str, dict[str, Any]],
    changes: Sequence[Change],
    mode: Mode,
    *,
    stored_deficits: dict[str, dict[str, Any]],
) -> Publication | None:
    state = loaded.state
    network_id = state.network_id
    version = loaded.row.plan_version + 1
    frozen = set(problem.frozen)
    notice_end = problem.settings.current_week + problem.settings.notice_period
    labels: dict[int, str] = {}

    def label(index: int) -> str:
        # Plans have thousands of assignments over a few dozen distinct weeks.
        found = labels.get(index)
        if found is None:
            found = labels[index] = week_label(problem, index)
        return found

    def data_of(a: Assignment) -> dict[str, Any]:
        module = problem.modules[a.module_id]
        learner = state.learners.get(a.learner_id)
        firm = problem.firms.get(a.firm_id)
        start, end = label(a.start), label(a.start + module.duration - 1)
        return {
            "assignment_id": assignment_id(network_id, a.learner_id, a.module_id),
            "learner_id": a.learner_id,
            "learner_name": learner.name if learner else a.learner_id,
            "module_id": a.module_id,
            "module_name": module.name,
            "firm_id": a.firm_id,
            "firm_name": firm.name if firm else a.firm_id,
            "start_week": start,
            "end_week": end,
            "start_date": week_monday(start),
            "end_date": week_sunday(end),
            "plan_version": version,
            "frozen": a in frozen or a.start < notice_end,
        }

    await _follow_renames(session, loaded, problem, published, changes)
    new = _differing(network_id, problem, plan, published)
    shortfalls = {shortfall_id(network_id, s.learner_id, s.group_id, s.module_id): s for s in plan.shortfalls}
    events: list[Any] = []
    made = changed = cancelled = 0
    for aid in sorted(new):
        a, old = new[aid], published.get(aid)
        if a is None:
            continue
        if old is not None and old.firm_id == a.firm_id and old.start_week == label(a.start):
            continue
        data = data_of(a)
        if old is None:
            events.append(AssignmentMade(source=SOURCE, subject=network_id, data=AssignmentData(**data)))
            made += 1
        elif old.firm_id != a.firm_id or old.start_week != data["start_week"]:
            previous = PreviousAssignment(
                firm_id=old.firm_id, firm_name=old.firm_name, start_week=old.start_week, end_week=old.end_week
            )
            reason = _change_reason(a.learner_id, a.module_id, {old.firm_id, a.firm_id}, changes, mode)
            events.append(
                AssignmentChanged(
                    source=SOURCE,
                    subject=network_id,
                    data=AssignmentChangedData(**data, previous=previous, reason=reason),
                )
            )
            changed += 1
    gone = sorted(aid for aid, a in new.items() if a is None)
    for aid in gone:
        old = published[aid]
        reason = _cancel_reason(old, changes, shortfalls.values(), mode)
        events.append(
            AssignmentCancelled(
                source=SOURCE,
                subject=network_id,
                data=AssignmentCancelledData(
                    assignment_id=aid,
                    learner_id=old.learner_id,
                    learner_name=old.learner_name,
                    module_id=old.module_id,
                    module_name=old.module_name,
                    firm_id=old.firm_id,
                    firm_name=old.firm_name,
                    start_week=old.start_week,
                    end_week=old.end_week,
                    start_date=week_monday(old.start_week),
                    end_date=week_sunday(old.end_week),
                    plan_version=version,
                    frozen=old.frozen,
                    reason=reason,
                ),
            )
        )
        cancelled += 1

    shortfall_events: list[Any] = []
    new_payloads: dict[str, dict[str, Any]] = {}
    for sid in sorted(shortfalls):
        payload = _shortfall_payload(sid, shortfalls[sid], label, state.learners)
        new_payloads[sid] = payload
        if stored_shortfalls.get(sid) != payload:
            shortfall_events.append(
                ShortfallDetected(
                    source=SOURCE, subject=network_id, data=ShortfallData(**payload, plan_version=version)
                )
            )
    resolved = sorted(set(stored_shortfalls) - set(shortfalls))
    for sid in resolved:
        old_payload = stored_shortfalls[sid]
        shortfall_events.append(
            ShortfallResolved(
                source=SOURCE,
                subject=network_id,
                data=ShortfallResolvedData(
                    shortfall_id=sid,
                    learner_id=old_payload["learner_id"],
                    group_id=old_payload["group_id"],
                    module_id=old_payload.get("module_id"),
                    plan_version=version,
                    message=_resolved_message(old_payload, state.learners.keys()),
                ),
            )
        )

    deficits = seat_deficits.changes(
        seat_deficits.deficit_payloads(
            network_id,
            plan.deficits,
            firm_name=lambda f: problem.firms[f].name if f in problem.firms else f,
            module_name=lambda m: problem.modules[m].name if m in problem.modules else m,
            label=label,
        ),
        stored_deficits,
    )

    if not events and not shortfall_events and not deficits.any:
        bump_version(session, loaded, objective=int(plan.objective), bound=plan.bound, solver=plan.solver)
        return None

    for event in events:
        enqueue(session, event, "assignments")
    enqueue(
        session,
        PlanPublished(
            source=SOURCE,
            subject=network_id,
            data=PlanPublishedData(
                plan_version=version,
                objective=int(plan.objective),
                bound=None if plan.bound is None else int(plan.bound),
                learners=len(problem.learners),
                assignments=len(plan.assignments),
                shortfalls=len(shortfalls),
                made=made,
                changed=changed,
                cancelled=cancelled,
                solver=plan.solver or mode,
                solve_seconds=max(0.0, float(plan.seconds)),
                # Never presented as complete while a week is below a minimum or a requirement is unplaced.
                complete=not shortfalls and not plan.deficits,
                deficits=len(deficits.current),
                deficit_weeks=len(plan.deficits),
                missing_learner_weeks=sum(p["missing_learner_weeks"] for p in deficits.current.values()),
            ),
        ),
        "assignments",
    )
    for event in shortfall_events:
        enqueue(session, event, "shortfalls")
    for did in deficits.detected:
        enqueue(session, seat_deficits.detected_event(network_id, deficits.current[did], version, SOURCE), "shortfalls")
    for did in deficits.resolved:
        enqueue(session, seat_deficits.resolved_event(network_id, stored_deficits[did], version, SOURCE), "shortfalls")

    # The published plan becomes the new one, in the same transaction as the outbox rows; only the
    # rows that differ are written.
    conn = await session.connection()
    table = table_of(PublishedAssignmentRow)
    if gone:
        await conn.execute(delete(table).where(table.c.network_id == network_id, table.c.assignment_id.in_(gone)))
    rewritten = []
    for aid, a in new.items():
        if a is None:
            continue
        kept = published.get(aid)
        if kept is not None and kept.firm_id == a.firm_id and kept.start_week == label(a.start):
            continue
        d = data_of(a)
        rewritten.append(
            {
                "network_id": network_id,
                "assignment_id": aid,
                "learner_id": a.learner_id,
                "learner_name": d["learner_name"],
                "module_id": a.module_id,
                "module_name": d["module_name"],
                "firm_id": a.firm_id,
                "firm_name": d["firm_name"],
                "start_week": d["start_week"],
                "end_week": d["end_week"],
                "frozen": d["frozen"],
                "plan_version": version,
            }
        )
    if rewritten:
        changed_ids = [r["assignment_id"] for r in rewritten if r["assignment_id"] in published]
        if changed_ids:
            await conn.execute(
                delete(table).where(table.c.network_id == network_id, table.c.assignment_id.in_(changed_ids))
            )
        insert_at_commit(session, table, rewritten)
    sf_table = table_of(PublishedShortfallRow)
    stale = [sid for sid in stored_shortfalls if new_payloads.get(sid) != stored_shortfalls[sid]]
    if stale:
        await conn.execute(
            delete(sf_table).where(sf_table.c.network_id == network_id, sf_table.c.shortfall_id.in_(stale))
        )
    fresh: list[dict[str, Any]] = [
        {"network_id": network_id, "shortfall_id": sid, "payload": payload}
        for sid, payload in new_payloads.items()
        if sid not in stored_shortfalls or sid in stale
    ]
    if fresh:
        insert_at_commit(session, sf_table, fresh)
    await _write_deficits(session, network_id, deficits, stored_deficits)
    # The loaded network now carries the plan as written (a failed transaction drops the cached network).
    loaded.published_version += 1
    remember_previous(loaded.problem_memo, loaded.published_version, problem, plan.assignments)
    for aid in gone:
        del published[aid]
    for row in rewritten:
        published[row["assignment_id"]] = PublishedAssignment(**row)
    for sid in stale:
        del stored_shortfalls[sid]
    for row in fresh:
        stored_shortfalls[row["shortfall_id"]] = row["payload"]
    bump_version(
        session,
        loaded,
        plan_version=version,
        objective=int(plan.objective),
        bound=plan.bound,
        solver=plan.solver or mode,
    )
    return Publication(
        version,
        made,
        changed,
        cancelled,
        len(shortfall_events) - len(resolved),
        len(resolved),
        deficits_detected=len(deficits.detected),
        deficits_resolved=len(deficits.resolved),
    )


async def _published_deficits(session: AsyncSession, loaded: LoadedNetwork) -> dict[str, dict[str, Any]]:
    """The network's published seat deficit payloads by id, read once per loaded network (one row per cell)."""
    if loaded.deficits is None:
        t = table_of(PublishedDeficitRow)
        conn = await session.connection()
        rows = await conn.execute(select(t.c.deficit_id, t.c.payload).where(t.c.network_id == loaded.state.network_id))
        loaded.deficits = {deficit_id: payload for deficit_id, payload in rows.all()}
    return loaded.deficits


async def _write_deficits(
    session: AsyncSession,
    network_id: str,
    deficits: seat_deficits.DeficitChanges,
    stored: dict[str, dict[str, Any]],
) -> None:
    """The published deficits become the plan's, in the publishing transaction; only changed cells are written."""
    stale = [*deficits.resolved, *(d for d in deficits.detected if d in stored)]
    if stale:
        t = table_of(PublishedDeficitRow)
        conn = await session.connection()
        await conn.execute(delete(t).where(t.c.network_id == network_id, t.c.deficit_id.in_(stale)))
    if deficits.detected:
        insert_at_commit(
            session,
            table_of(PublishedDeficitRow),
            [{"network_id": network_id, "deficit_id": d, "payload": deficits.current[d]} for d in deficits.detected],
        )
    for d in deficits.resolved:
        del stored[d]
    for d in deficits.detected:
        stored[d] = deficits.current[d]


# Changes that can rename a learner, a module (curriculum) or a firm.
_RENAMING = frozenset({ChangeKind.FIRM, ChangeKind.LEARNER_CHANGED, ChangeKind.CURRICULUM})


async def _follow_renames(
    session: AsyncSession,
    loaded: LoadedNetwork,
    problem: Problem,
    published: dict[str, PublishedAssignment],
    changes: Sequence[Change],
) -> None:
    """Published rows take the current names of their learner, module and firm after a rename.

    No event goes out for a rename alone (nothing about the assignment changed); the stored names matter for
    what later events about these assignments say (a cancellation names the firm as it is called now).
    """
    if not any(c.kind in _RENAMING for c in changes):
        return
    learners = loaded.state.learners
    renamed: list[PublishedAssignment] = []
    for row in published.values():
        learner, module, firm = (
            learners.get(row.learner_id),
            problem.modules.get(row.module_id),
            problem.firms.get(row.firm_id),
        )
        now = dataclasses.replace(
            row,
            learner_name=learner.name if learner else row.learner_name,
            module_name=module.name if module else row.module_name,
            firm_name=firm.name if firm else row.firm_name,
        )
        if now != row:
            renamed.append(now)
    if not renamed:
        return
    t = table_of(PublishedAssignmentRow)
    conn = await session.connection()
    await conn.execute(
        update(t)
        .where(t.c.network_id == bindparam("b_network"), t.c.assignment_id == bindparam("b_assignment"))
        .values(learner_name=bindparam("b_learner"), module_name=bindparam("b_module"), firm_name=bindparam("b_firm")),
        [
            {
                "b_network": r.network_id,
                "b_assignment": r.assignment_id,
                "b_learner": r.learner_name,
                "b_module": r.module_name,
                "b_firm": r.firm_name,
            }
            for r in renamed
        ],
    )
    for r in renamed:
        published[r.assignment_id] = r


def _differing(
    network_id: str, problem: Problem, plan: Plan, published: dict[str, PublishedAssignment]
) -> dict[str, Assignment | None]:
    """The plan's assignments that may differ from the published ones, by id; None for ids the plan drops.

    Problem.previous is the published plan (one Assignment per stored row, when every row's module is still
    in the curricula), so comparing the two sets finds the difference without visiting every assignment of a
    big network; otherwise every assignment is compared.
    """
    if len(problem.previous) != len(published):
        new: dict[str, Assignment | None] = {
            assignment_id(network_id, a.learner_id, a.module_id): a for a in plan.assignments
        }
        new.update((aid, None) for aid in published if aid not in new)
        return new
    before, after = set(problem.previous), set(plan.assignments)
    new = {assignment_id(network_id, a.learner_id, a.module_id): a for a in after - before}
    for a in before - after:
        new.setdefault(assignment_id(network_id, a.learner_id, a.module_id), None)
    return new


def _describe(changes: Sequence[Change]) -> str:
    texts = list(dict.fromkeys(c.description for c in changes))
    if not texts:
        return ""
    shown = "; ".join(texts[:3]) + (f"; and {len(texts) - 3} more changes" if len(texts) > 3 else "")
    return shown


_WEIGHT = {
    ChangeKind.LEARNER_CHANGED: 0,
    ChangeKind.LEARNER_WITHDRAWN: 0,
    ChangeKind.FIRM_LEFT: 1,
    ChangeKind.OFFER_WITHDRAWN: 1,
    ChangeKind.OFFER_CHANGED: 2,
    ChangeKind.OFFER_ADDED: 3,
}


def _relevant(changes: Sequence[Change], learner_id: str, module_id: str, firms: set[str]) -> list[Change]:
    """The changes that concern this learner, these firms, or offers for this module; the weightiest first."""
    hits = [
        c
        for c in changes
        if c.subject_id == learner_id
        or (c.kind in (ChangeKind.FIRM, ChangeKind.FIRM_LEFT) and c.subject_id in firms)
        or (c.kind.name.startswith("OFFER") and f" for {module_id}" in c.description)
    ]
    return sorted(hits, key=lambda c: _WEIGHT.get(c.kind, 4))


def _change_reason(learner_id: str, module_id: str, firms: set[str], changes: Sequence[Change], mode: Mode) -> str:
    own = _relevant(changes, learner_id, module_id, firms)
    if own:
        return f"Replanned because {_describe(own)}."
    if mode == "full":
        return "A re-optimisation of the network found a better plan that outweighs the cost of this change."
    if changes:
        return f"Replanned to make room after these changes in the network: {_describe(changes)}."
    return "Replanned: the network's plan was revised."


def _cancel_reason(old: PublishedAssignment, changes: Sequence[Change], shortfalls: Any, mode: Mode) -> str:
    for c in changes:
        if c.kind is ChangeKind.LEARNER_WITHDRAWN and c.subject_id == old.learner_id:
            return f"Cancelled because {c.description}."
        if c.kind is ChangeKind.FIRM_LEFT and c.subject_id == old.firm_id:
            return f"Cancelled because {c.description}."
    for s in shortfalls:
        if s.learner_id == old.learner_id and s.module_id == old.module_id:
            return f"Cancelled: {s.message}"
    reason = _change_reason(old.learner_id, old.module_id, {old.firm_id}, changes, mode)
    return reason.replace("Replanned", "Cancelled", 1)


def _shortfall_payload(sid: str, s: Shortfall, label: Callable[[int], str], learners: Any) -> dict[str, Any]:
    learner = learners.get(s.learner_id)
    data = ShortfallData(
        shortfall_id=sid,
        learner_id=s.learner_id,
        learner_name=learner.name if learner else s.learner_id,
        group_id=s.group_id,
        module_id=s.module_id,
        missing=max(1, s.missing),
        reason=ShortfallReason(str(s.reason)),
        message=s.message,
        competing_learners=list(s.competing_learners),
        suggestions=[
            SeatSuggestion(
                firm_id=g.firm_id,
                module_id=g.module_id,
                first_week=label(g.first_week),
                last_week=label(g.last_week),
                seats=max(1, g.seats),
            )
            for g in s.suggestions
        ],
        plan_version=1,
    )
    payload = data.model_dump(mode="json")
    payload.pop("plan_version")
    return payload


def _resolved_message(payload: dict[str, Any], learner_ids: Any) -> str:
    if payload["learner_id"] not in learner_ids:
        return f"{payload['learner_name']} is no longer in the network."
    return f"{payload['learner_name']}'s requirement in group {payload['group_id']} is now met."
