"""Scheduled work on every network: full re-optimisation, retries of stale plans, the daily freeze of started work."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..domain.problem_builder import Placement, build_problem, week_label
from ..ops import metrics
from ..planning.model import Plan
from ..store.networks import StaleNetwork, bump_version, load_network
from ..store.tables import NetworkRow, PublishedAssignmentRow
from .replan import (
    PlanInputs,
    PlannerSettings,
    PlanningFailed,
    Publication,
    propose,
    read_inputs,
    read_published_plan,
    stage_plan,
)
from .stale_plans import PlanRetry, mark_stale, read_stale_plans

log = logging.getLogger(__name__)


async def network_ids(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list((await session.exec(select(NetworkRow.network_id).order_by(col(NetworkRow.network_id)))).all())


Propose = Callable[[PlanInputs, PlannerSettings], Awaitable[Plan | None]]


async def _full_proposal(inputs: PlanInputs, planner: PlannerSettings) -> Plan | None:
    try:
        return await propose(inputs, mode="full", settings=planner)
    except PlanningFailed:
        # Logged and counted by propose. The published plan is not stale for it: the batches' repairs made it
        # from the current state; it only misses the improvement, which the next round tries again.
        return None


async def reoptimise_network(
    sessions: async_sessionmaker[AsyncSession],
    network_id: str,
    *,
    today: dt.date,
    planner: PlannerSettings,
    min_interval: dt.timedelta = dt.timedelta(0),
    proposal: Propose = _full_proposal,
) -> Publication | None:
    """Solve the network afresh, warm-started from its published plan; publish only if it is better.

    "Better" is the planner's objective, which already charges change_penalty for every published
    assignment that moves, so a new plan wins only when its gain outweighs the disruption.

    The solve (up to VERBUND_FULL_REOPTIMISE_TIME_LIMIT) runs with no transaction open and no lock held, so the
    network's events are applied meanwhile. The result is written under the lock only if the network's version is
    still the one it was planned from; otherwise it is discarded (StaleNetwork) and the next round plans again.
    """
    async with sessions() as session, session.begin():
        loaded = await load_network(session, network_id, create=False)
        if loaded is None or (loaded.state.config is None and not loaded.state.learners):
            return None
        now = dt.datetime.now(dt.UTC)
        if _recent(loaded.row.last_full_at, now, min_interval):
            return None  # another replica did it a moment ago
        inputs = await read_inputs(session, loaded, today=today)

    plan = await proposal(inputs, planner)

    async with sessions() as session, session.begin():
        current = await load_network(session, network_id, create=False)
        if current is None or current.read_version != inputs.read_version:
            metrics.REPLANS.labels(mode="full", result="stale").inc()
            raise StaleNetwork(f"network {network_id!r} changed while it was re-optimised; the result is discarded")
        publication = None
        if plan is not None:
            # The same version: the problem solved is still the network's; the published plan is read again only
            # because this transaction writes it.
            published, shortfalls, deficits = await read_published_plan(session, current)
            inputs = PlanInputs(
                inputs.problem, published, shortfalls, deficits, current.read_version, inputs.plan_version
            )
            publication = await stage_plan(
                session, current, inputs, plan, mode="full", last_plans=planner.last_plans, keys=planner.keys
            )
        bump_version(session, current, last_full_at=now)
    return publication


def _recent(last: dt.datetime | None, now: dt.datetime, min_interval: dt.timedelta) -> bool:
    if last is None or min_interval <= dt.timedelta(0):
        return False
    if last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    return now - last < min_interval


async def reoptimise_all(
    sessions: async_sessionmaker[AsyncSession],
    *,
    today: Callable[[], dt.date],
    planner: PlannerSettings,
    min_interval: dt.timedelta,
    on_published: Callable[[], None] = lambda: None,
) -> int:
    published = 0
    for network_id in await network_ids(sessions):
        try:
            if await reoptimise_network(
                sessions, network_id, today=today(), planner=planner, min_interval=min_interval
            ):
                published += 1
                on_published()
        except StaleNetwork:
            log.info("network %s changed during its re-optimisation; the next round tries again", network_id)
    return published


async def retry_stale_plan(
    sessions: async_sessionmaker[AsyncSession], network_id: str, *, today: dt.date, planner: PlannerSettings
) -> bool:
    """Plan a network whose planning failed again, as a batch would (repair, then a bounded solve if it helps).

    Like the re-optimisation, the planning runs with no transaction open; its result is written only if the
    network did not change meanwhile (else StaleNetwork: the batch that changed it planned it, or marked it
    again). Success stages the difference for publishing and clears the mark (True); another failure counts
    one more try, and the next try waits twice as long (False).
    """
    async with sessions() as session, session.begin():
        loaded = await load_network(session, network_id, create=False)
        if loaded is None or loaded.row.plan_stale_since is None:
            return True  # planned meanwhile: by a batch, or by another replica's retry
        inputs = await read_inputs(session, loaded, today=today)

    failure: PlanningFailed | None = None
    try:
        plan = await propose(inputs, mode="repair", settings=planner)
    except PlanningFailed as failed:
        plan, failure = None, failed

    async with sessions() as session, session.begin():
        current = await load_network(session, network_id, create=False)
        if current is None or current.read_version != inputs.read_version:
            raise StaleNetwork(
                f"network {network_id!r} changed while its stale plan was retried; the result is discarded"
            )
        if plan is None:
            mark_stale(current, failure.error_type if failure else "unknown", dt.datetime.now(dt.UTC))
            bump_version(session, current)
            return False
        published, shortfalls, deficits = await read_published_plan(session, current)
        inputs = PlanInputs(inputs.problem, published, shortfalls, deficits, current.read_version, inputs.plan_version)
        await stage_plan(
            session, current, inputs, plan, mode="repair", last_plans=planner.last_plans, keys=planner.keys
        )
    return True


async def retry_stale_plans(
    sessions: async_sessionmaker[AsyncSession],
    *,
    today: Callable[[], dt.date],
    planner: PlannerSettings,
    retry: PlanRetry,
    on_published: Callable[[], None] = lambda: None,
) -> int:
    """Plan again every stale network whose backoff has run out; the number of plans that went current again.

    Every replica runs this; a network two of them retry at once is written by the first, the second's result
    is discarded (StaleNetwork).
    """
    current = 0
    now = dt.datetime.now(dt.UTC)
    for stale in await read_stale_plans(sessions):
        if not stale.due(now, retry):
            continue
        try:
            if await retry_stale_plan(sessions, stale.network_id, today=today(), planner=planner):
                current += 1
                on_published()
        except StaleNetwork:
            log.info("network %s changed while its stale plan was retried; its batch planned it", stale.network_id)
    if current:
        await read_stale_plans(sessions)  # the gauges follow at once, not only at the next scrape
    return current


async def freeze_network(sessions: async_sessionmaker[AsyncSession], network_id: str, *, today: dt.date) -> int:
    """Mark published assignments frozen once they have started or entered the notice period.

    Only stored (no event): the planner derives frozenness from the date anyway, and every later event
    about the assignment carries frozen=true.
    """
    async with sessions() as session, session.begin():
        loaded = await load_network(session, network_id, create=False)
        if loaded is None:
            return 0
        rows = (
            await session.exec(
                select(PublishedAssignmentRow).where(
                    PublishedAssignmentRow.network_id == network_id, col(PublishedAssignmentRow.frozen).is_(False)
                )
            )
        ).all()
        problem = build_problem(
            loaded.state,
            today=today,
            previous=[Placement(r.learner_id, r.module_id, r.firm_id, r.start_week) for r in rows],
        )
        limit = week_label(problem, problem.settings.current_week + problem.settings.notice_period)
        to_freeze = [r.assignment_id for r in rows if r.start_week < limit]
        if not to_freeze:
            return 0
        await session.exec(
            update(PublishedAssignmentRow)
            .where(
                col(PublishedAssignmentRow.network_id) == network_id,
                col(PublishedAssignmentRow.assignment_id).in_(to_freeze),
            )
            .values(frozen=True)
        )
        bump_version(session, loaded)
    return len(to_freeze)


async def freeze_all(sessions: async_sessionmaker[AsyncSession], *, today: Callable[[], dt.date]) -> int:
    frozen = 0
    for network_id in await network_ids(sessions):
        try:
            frozen += await freeze_network(sessions, network_id, today=today())
        except StaleNetwork:
            log.info("network %s changed during the freeze; tomorrow's run catches up", network_id)
    return frozen
