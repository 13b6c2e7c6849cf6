"""Networks whose published plan is stale because planning failed: the mark, the retry's backoff, what /readyz says."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..ops import metrics
from ..store.networks import LoadedNetwork
from ..store.tables import NetworkRow

log = logging.getLogger(__name__)

# Readiness names this many stale networks; the rest are counted (the gauge has them all).
_SHOWN = 10


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class PlanRetry:
    """When a network whose planning failed is planned again: `base_seconds` after the first failure, twice as
    long after each further one, at most `max_seconds` (a planner bug fails every time; it must not eat the CPU
    the other networks need)."""

    base_seconds: float = 30.0
    max_seconds: float = 1800.0

    def pause(self, failures: int) -> dt.timedelta:
        doublings = min(max(0, failures - 1), 30)
        return dt.timedelta(seconds=min(self.max_seconds, self.base_seconds * 2**doublings))


def mark_stale(loaded: LoadedNetwork, error_type: str, now: dt.datetime) -> None:
    """Record a failed planning with the network's next version bump, i.e. in the transaction that keeps the
    state change which the published plan does not follow yet."""
    row = loaded.row
    loaded.pending.update(
        plan_stale_since=row.plan_stale_since or now,
        plan_failed_at=now,
        plan_failures=row.plan_failures + 1,
        plan_error=error_type[:128],
    )


def clear_stale(loaded: LoadedNetwork) -> None:
    """The plan being staged follows the network's state again: drop the mark with the next version bump."""
    row = loaded.row
    if row.plan_stale_since is None:
        return
    log.info(
        "the published plan of network %s follows its state again (stale since %s, %d failed tries)",
        row.network_id,
        _utc(row.plan_stale_since).isoformat(),
        row.plan_failures,
        extra={"network_id": row.network_id, "plan_failures": row.plan_failures},
    )
    loaded.pending.update(plan_stale_since=None, plan_failed_at=None, plan_failures=0, plan_error=None)


@dataclass(frozen=True)
class StalePlan:
    """A network whose published plan stays behind its state until planning succeeds again."""

    network_id: str
    plan_version: int
    since: dt.datetime
    failed_at: dt.datetime
    failures: int
    error: str

    def next_try(self, retry: PlanRetry) -> dt.datetime:
        return self.failed_at + retry.pause(self.failures)

    def due(self, now: dt.datetime, retry: PlanRetry) -> bool:
        return now >= self.next_try(retry)


async def read_stale_plans(sessions: async_sessionmaker[AsyncSession]) -> list[StalePlan]:
    """Every stale network, longest stale first; also sets the gauges (they then hold for all replicas)."""
    async with sessions() as session:
        rows = (
            await session.exec(
                select(NetworkRow)
                .where(col(NetworkRow.plan_stale_since).is_not(None))
                .order_by(col(NetworkRow.plan_stale_since), col(NetworkRow.network_id))
            )
        ).all()
    stale = [
        StalePlan(
            network_id=r.network_id,
            plan_version=r.plan_version,
            since=_utc(r.plan_stale_since),
            failed_at=_utc(r.plan_failed_at or r.plan_stale_since),
            failures=r.plan_failures,
            error=r.plan_error or "unknown",
        )
        for r in rows
        if r.plan_stale_since is not None
    ]
    now = dt.datetime.now(dt.UTC)
    metrics.STALE_PLANS.set(len(stale))
    metrics.STALE_PLAN_OLDEST.set(max(((now - s.since).total_seconds() for s in stale), default=0.0))
    return stale


def readiness_lines(stale: Sequence[StalePlan], *, now: dt.datetime, retry: PlanRetry) -> list[str]:
    """What /readyz adds for stale plans: one line per network (the first few), none when all plans are current."""
    lines = []
    for s in stale[:_SHOWN]:
        wait = max(0.0, (s.next_try(retry) - now).total_seconds())
        lines.append(
            f"plan stale: network {s.network_id} (published plan version {s.plan_version}) stale since "
            f"{s.since.isoformat(timespec='seconds')}, last error type {s.error}, {s.failures} failed "
            f"{'try' if s.failures == 1 else 'tries'}, next try in {wait:.0f} s"
        )
    if len(stale) > _SHOWN:
        lines.append(f"plan stale: {len(stale) - _SHOWN} more networks; see verbund_matcher_stale_plans")
    return lines
