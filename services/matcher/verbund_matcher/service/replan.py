"""Plans one network and stages the difference to its published plan: events in the outbox, rows in its tables."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import traceback
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import InboundCause

from .. import planning
from ..domain.network import Change, ChangeKind
from ..domain.problem_builder import build_problem, remember_previous
from ..ops import metrics
from ..planning.model import Plan, Problem, Shortfall
from ..planning.model import ShortfallReason as Unmet
from ..store.keys import KeyTable
from ..store.networks import LoadedNetwork, PublishedAssignment, bump_version, read_published
from ..store.published_plan import read_published_deficits, write_names, write_published_plan
from .last_plans import LastPlans
from .outbox import SOURCE, enqueue, sealed_payload
from .plan_diff import diff_plan, renamed
from .plan_events import Mode, plan_events
from .stale_plans import clear_stale, mark_stale

log = logging.getLogger(__name__)


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
    # What this matcher planned last per network, for repair to re-use; each PlannerSettings built without one
    # starts empty, and a Runtime hands in its own, so matchers in one process never share it.
    last_plans: LastPlans = field(default_factory=LastPlans, compare=False, repr=False)
    # Seals the learner's name in what is published, where the key endpoint lets consumers open it (ADR 0004).
    keys: KeyTable | None = field(default=None, compare=False, repr=False)


# Unmet requirements another arrangement of the other learners could meet: seats held by others, or a
# minimum group that ties the learner's time. The other reasons (no offer, eligibility, availability,
# precedence, firm limit) hold whatever the others do, so no solve can meet them either.
_RE_ARRANGEABLE = frozenset({Unmet.CONTENTION, Unmet.MIN_SEATS})
# Capacity the batch added or changed: seats that repair's gap filling could only use where they were free.
_NEW_CAPACITY = frozenset({ChangeKind.OFFER_ADDED, ChangeKind.OFFER_CHANGED})


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
        last = settings.last_plans.get(problem.network_id)
        plan = await asyncio.to_thread(settings.planner.repair, problem, last=last)
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
    return published, stored_shortfalls, await read_published_deficits(session, loaded)


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
    inputs: PlanInputs, *, mode: Mode, changes: Sequence[Change] = (), settings: PlannerSettings | None = None
) -> Plan | None:
    """Plan without touching the database (no transaction needs to be open); None when the published plan stays.

    A full re-optimisation proposes a plan only if it beats the published one (unfilled minimums, then unmet
    requirements, then the objective, which charges change_penalty for every move).

    Raises PlanningFailed when the planner raises (a bug, a model the solver rejects): the failure is logged
    with ids only and counted here; the caller decides what the published plan is then (after a batch: stale).
    """
    settings = settings or PlannerSettings()
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
    last_plans: LastPlans | None = None,
    keys: KeyTable | None = None,
    causes: Sequence[InboundCause] = (),
) -> Publication | None:
    """Write `plan` as the network's published plan and stage its events, in the caller's transaction.

    The plan is one of the network's current state, so a stale mark goes with the same version bump.
    `last_plans` (the matcher's) remembers it for the next repair; with `keys`, learners' names are sealed;
    `causes` are the inbound events of the batch that led to it (none for the scheduled re-optimisation).
    """
    if last_plans is not None:
        last_plans.remember(loaded.state.network_id, inputs.problem, plan)
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
        keys=keys,
        causes=causes,
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
    settings: PlannerSettings | None = None,
    causes: Sequence[InboundCause] = (),
) -> Publication | None:
    """Plan the network and stage the difference, all in the caller's transaction (the batch's repair).

    None when the published plan stays as it is. When planning fails, the batch's state changes still commit
    (ingestion must go on) and the network is marked stale in the same transaction, so that the scheduled retry
    (maintenance.retry_stale_plans), the next batch, a restart or another replica plans it again. The full
    re-optimisation does not hold a transaction through its solve: see maintenance.reoptimise_network.
    """
    settings = settings or PlannerSettings()
    inputs = await read_inputs(session, loaded, today=today)
    try:
        plan = await propose(inputs, mode=mode, changes=changes, settings=settings)
    except PlanningFailed as failed:
        mark_stale(loaded, failed.error_type, dt.datetime.now(dt.UTC))
        return None
    if plan is None:
        return None
    return await stage_plan(
        session,
        loaded,
        inputs,
        plan,
        mode=mode,
        changes=changes,
        last_plans=settings.last_plans,
        keys=settings.keys,
        causes=causes,
    )


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
    keys: KeyTable | None = None,
    causes: Sequence[InboundCause] = (),
) -> Publication | None:
    """The difference to the published plan (plan_diff), its events (plan_events) into the outbox, and the new
    published plan into its tables, all in the caller's transaction."""
    state = loaded.state
    network_id = state.network_id
    version = loaded.row.plan_version + 1
    # Names first: events about assignments that stay name their learner, module and firm as they are called now.
    await write_names(session, renamed(published, learners=state.learners, problem=problem, changes=changes), published)
    diff = diff_plan(
        problem,
        plan,
        learners=state.learners,
        published=published,
        stored_shortfalls=stored_shortfalls,
        stored_deficits=stored_deficits,
        plan_version=version,
    )
    if diff.empty:
        bump_version(session, loaded, objective=int(plan.objective), bound=plan.bound, solver=plan.solver)
        return None
    # Built before the tables are written: a resolved shortfall or deficit is described as it was published.
    events = plan_events(
        diff,
        problem,
        plan,
        changes=changes,
        mode=mode,
        learners=state.learners,
        stored_shortfalls=stored_shortfalls,
        stored_deficits=stored_deficits,
        source=SOURCE,
        causes=causes,
    )
    for event in events.assignments:
        enqueue(session, event, "assignments", await sealed_payload(session, event, keys))
    for event in events.shortfalls:
        enqueue(session, event, "shortfalls", await sealed_payload(session, event, keys))
    # The published plan becomes the new one, in the same transaction as the outbox rows.
    await write_published_plan(
        session,
        network_id,
        placed=[p.row(network_id) for p in diff.placed],
        cancelled=[a.assignment_id for a in diff.cancelled],
        shortfalls=diff.shortfall_payloads,
        deficits=diff.deficits.current,
        published=published,
        stored_shortfalls=stored_shortfalls,
        stored_deficits=stored_deficits,
    )
    # The loaded network now carries the plan as written (a failed transaction drops the cached network).
    loaded.published_version += 1
    remember_previous(loaded.problem_memo, loaded.published_version, problem, plan.assignments, plan.moves)
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
        diff.made,
        diff.changed,
        len(diff.cancelled),
        len(diff.shortfalls_detected),
        len(diff.shortfalls_resolved),
        deficits_detected=len(diff.deficits.detected),
        deficits_resolved=len(diff.deficits.resolved),
    )
