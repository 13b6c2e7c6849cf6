"""Erases learners whose training ended longer ago than their network keeps personal data (a daily job)."""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import AuthContext, AuthType, LearnerErased, LearnerErasedData, Role
from verbund_schemas.weeks import week_monday

from ..store.tables import LearnerRow, NetworkRow, OutboxRow, table_of
from .outbox import enqueue

log = logging.getLogger(__name__)

# Who asks for a retention erasure: the matcher itself, on the network's own policy (`retention_months`).
RETENTION_SOURCE = "verbund-matcher/retention"


@dataclass(frozen=True)
class DueLearner:
    """A learner whose network's retention has run out: their last week ended `months` or more months ago."""

    network_id: str
    learner_id: str
    last_week: str
    months: int


def kept_until(last_week: str, months: int) -> dt.date:
    """The last day a learner's personal data is kept: `months` calendar months after the Sunday that ends their
    last week (the day of the month kept, or the month's last day when it has fewer)."""
    ended = week_monday(last_week) + dt.timedelta(days=6)
    month = ended.month - 1 + months
    year, month = ended.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(ended.day, calendar.monthrange(year, month)[1]))


def retention_event_id(network_id: str, learner_id: str) -> str:
    """One id per network and learner, the same on every run: a second run's request is the same event (the
    inbox applies it once), and ids of different networks never meet in the outbox."""
    return f"retention:{network_id}:{learner_id}"


async def learners_due(sessions: async_sessionmaker[AsyncSession], today: dt.date) -> list[DueLearner]:
    """Learners of networks with a `retention_months` whose data is kept no longer than until before `today`."""
    networks, learners = table_of(NetworkRow), table_of(LearnerRow)
    due: list[DueLearner] = []
    async with sessions() as session:
        conn = await session.connection()
        policies = {
            network_id: int(config["retention_months"])
            for network_id, config in (await conn.execute(select(networks.c.network_id, networks.c.config))).all()
            if config and config.get("retention_months")
        }
        for network_id, months in sorted(policies.items()):
            rows = await conn.execute(
                select(learners.c.learner_id, learners.c.payload).where(learners.c.network_id == network_id)
            )
            for learner_id, payload in rows.all():
                last_week = str((payload or {}).get("last_week") or "")
                try:
                    until = kept_until(last_week, months)
                except ValueError:
                    continue  # not a week the contract allows: the registration is checked when applied
                if until < today:
                    due.append(DueLearner(network_id, learner_id, last_week, months))
    return sorted(due, key=lambda d: (d.network_id, d.learner_id))


def retention_erasure(learner: DueLearner, now: dt.datetime) -> LearnerErased:
    """The same request `verbund learner erase` sends, from the matcher on the network's policy (its source and
    authcontext say so; the event itself carries the id only)."""
    return LearnerErased(
        id=retention_event_id(learner.network_id, learner.learner_id),
        time=now,
        source=RETENTION_SOURCE,
        subject=learner.network_id,
        authcontext=AuthContext(
            authtype=AuthType.SYSTEM,
            principalid=RETENTION_SOURCE,
            role=Role.SYSTEM,
            network_id=learner.network_id,
        ),
        data=LearnerErasedData(learner_id=learner.learner_id),
    )


@dataclass(frozen=True)
class RetentionRun:
    due: int
    requested: int


async def request_erasures(
    sessions: async_sessionmaker[AsyncSession], today: dt.date, now: dt.datetime | None = None
) -> RetentionRun:
    """Put a LearnerErased for every learner due onto the inbound topic, through the outbox.

    The matcher then erases them as it erases on request — key destroyed, learner dropped, network replanned —
    and the notifier and console forget them from the same event. A learner whose request is already in the
    outbox (sent or not) is not asked for again; once erased, a learner is no longer due.
    """
    due = await learners_due(sessions, today)
    if not due:
        return RetentionRun(0, 0)
    outbox = table_of(OutboxRow)
    ids = {retention_event_id(d.network_id, d.learner_id): d for d in due}
    requested = 0
    async with sessions() as session, session.begin():
        conn = await session.connection()
        asked = set((await conn.execute(select(outbox.c.event_id).where(outbox.c.event_id.in_(ids)))).scalars())
        for event_id, learner in ids.items():
            if event_id in asked:
                continue
            enqueue(session, retention_erasure(learner, now or dt.datetime.now(dt.UTC)), "inbound")
            requested += 1
    log.info("retention erasures requested", extra={"due": len(due), "requested": requested})
    return RetentionRun(len(due), requested)
