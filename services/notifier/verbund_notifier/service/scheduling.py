"""Reminders before a phase starts and the weekly coordinator digest, as APScheduler jobs in the notifier's database."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from ..clock import Clock
from ..domain.phases import Phase
from ..settings import NotifierSettings
from ..store.database import create_job_store_engine
from .ingest import NotifierService

log = logging.getLogger(__name__)

JOB_TABLE = "notifier_jobs"
PRUNE_JOB = "prune"
_REMINDER_GRACE = int(dt.timedelta(days=1).total_seconds())
_DIGEST_GRACE = int(dt.timedelta(hours=12).total_seconds())
_STORED = "default"

# Stored jobs name their function by import path (the job store keeps only that). The function is given the
# service by the scheduler of the notifier that runs the job: nothing here holds a running service, so two
# notifiers in one process each run their own jobs.
FIRE_REMINDER = "verbund_notifier.service.scheduling:fire_reminder"
SEND_DIGEST = "verbund_notifier.service.scheduling:send_digest"


def _given(service: NotifierService | None) -> NotifierService:
    if service is None:
        raise RuntimeError("a stored job runs only through the scheduler of a notifier, which gives it the service")
    return service


async def fire_reminder(
    assignment_id: str, days: int, sequence: int, *, service: NotifierService | None = None
) -> None:
    await _given(service).fire_reminder(assignment_id, days, sequence)


async def send_digest(network_id: str, *, service: NotifierService | None = None) -> None:
    await _given(service).send_digest(network_id)


@dataclass(frozen=True)
class _BoundJob:
    """A stored job with this notifier's service bound in: what APScheduler's coroutine runner reads of a job."""

    id: str
    name: str
    misfire_grace_time: int | None
    func: Callable[..., Awaitable[None]]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    _jobstore_alias: str

    def __str__(self) -> str:
        return f"{self.name} (id {self.id})"


class _ServiceExecutor(AsyncIOExecutor):  # type: ignore[misc]
    """Runs stored jobs on the event loop with the service of the notifier that owns the scheduler."""

    def __init__(self) -> None:
        super().__init__()
        self.service: NotifierService | None = None

    def bind(self, job: Job) -> Any:
        if job._jobstore_alias != _STORED:
            return job  # in-memory jobs (tick, prune) are plain callables
        if self.service is None:
            raise RuntimeError("the notifier's scheduler ran a job before the service was started")
        return _BoundJob(
            id=job.id,
            name=job.name,
            misfire_grace_time=job.misfire_grace_time,
            func=functools.partial(job.func, service=self.service),
            args=tuple(job.args),
            kwargs=dict(job.kwargs),
            _jobstore_alias=job._jobstore_alias,
        )

    def _do_submit_job(self, job: Job, run_times: list[dt.datetime]) -> None:
        super()._do_submit_job(self.bind(job), run_times)


def _tick() -> None:
    """Wakes the scheduler now and then, so it sees jobs other replicas wrote to the shared store."""


def reminder_job_id(assignment_id: str, days: int) -> str:
    return f"reminder:{assignment_id}:{days}"


def digest_job_id(network_id: str) -> str:
    return f"digest:{network_id}"


class Scheduling:
    """Writes and removes jobs; runs them only where VERBUND_NOTIFIER_SCHEDULER is true (one replica).

    Replicas with the scheduler off still write jobs to the shared store (their scheduler is started
    paused), so reminders for the partitions they consume are not lost.
    """

    def __init__(self, settings: NotifierSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._active = settings.notifier_scheduler
        self._executor = _ServiceExecutor()
        self.scheduler = AsyncIOScheduler(
            executors={"default": self._executor},
            jobstores={
                _STORED: SQLAlchemyJobStore(
                    engine=create_job_store_engine(settings.notifier_database_url), tablename=JOB_TABLE
                ),
                "local": MemoryJobStore(),
            },
            timezone=dt.UTC,
            job_defaults={"coalesce": True, "max_instances": 1},
        )

    def start(self, service: NotifierService) -> None:
        self._executor.service = service
        self.scheduler.start(paused=not self._active)
        if self._active:
            self.scheduler.add_job(_tick, "interval", seconds=30, jobstore="local", id="tick")

    def daily_prune(self, prune: Callable[[], Awaitable[Any]]) -> None:
        """Run `prune` every day at VERBUND_NOTIFIER_PRUNE_HOUR local time, on the scheduling replica only.

        Kept in memory rather than in the shared store: it needs no persistence (it is added at every
        start) and must not run on replicas whose scheduler is paused.
        """
        if not self._active:
            return
        self.scheduler.add_job(
            prune,
            trigger=CronTrigger(hour=self._settings.notifier_prune_hour, minute=15, timezone=self._settings.timezone),
            id=PRUNE_JOB,
            name="daily prune of old event ids and deliveries",
            jobstore="local",
            replace_existing=True,
            misfire_grace_time=_DIGEST_GRACE,
        )

    @property
    def running(self) -> bool:
        """Started and not shut down (a replica that does not schedule runs it paused, which counts)."""
        return bool(self.scheduler.running)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self._executor.service = None

    # ------------------------------------------------------------ the Reminders interface of the service

    def reminder_times(self, start_date: dt.date) -> list[tuple[int, dt.datetime]]:
        hour = dt.time(self._settings.reminder_hour, tzinfo=self._settings.timezone)
        return [
            (days, dt.datetime.combine(start_date - dt.timedelta(days=days), hour))
            for days in self._settings.reminder_day_list
        ]

    def schedule_reminders(self, phase: Phase) -> None:
        now = self._clock.now()
        for days, at in self.reminder_times(phase.start_date):
            job_id = reminder_job_id(phase.assignment_id, days)
            if at <= now:
                # Already past when the phase became known: no late "starts in 14 days".
                self._remove(job_id)
                continue
            self.scheduler.add_job(
                FIRE_REMINDER,
                trigger=DateTrigger(run_date=at),
                id=job_id,
                name=f"reminder {days}d before {phase.assignment_id}",
                args=[phase.assignment_id, days, phase.sequence],
                replace_existing=True,
                misfire_grace_time=_REMINDER_GRACE,
            )

    def cancel_reminders(self, assignment_id: str) -> None:
        for days in self._settings.reminder_day_list:
            self._remove(reminder_job_id(assignment_id, days))

    def ensure_digest(self, network_id: str) -> None:
        day, hour, minute = self._settings.digest_day_and_time
        self.scheduler.add_job(
            SEND_DIGEST,
            trigger=CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=self._settings.timezone),
            id=digest_job_id(network_id),
            name=f"weekly digest {network_id}",
            args=[network_id],
            replace_existing=True,
            misfire_grace_time=_DIGEST_GRACE,
        )

    def _remove(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(job_id, jobstore=_STORED)

    # ------------------------------------------------------------ repair and manual runs

    async def reconcile(self, service: NotifierService) -> None:
        """Recreate jobs a crash between a commit and its job write would have lost (idempotent)."""
        for record in await service.active_assignments():
            await asyncio.to_thread(self.schedule_reminders, record)
        for network in await service.networks():
            await asyncio.to_thread(self.ensure_digest, network)

    def jobs(self) -> list[Job]:
        return list(self.scheduler.get_jobs(jobstore=_STORED))

    async def run_due(self, kind: str | None = None, now: dt.datetime | None = None) -> int:
        """Run every stored job due by `now` (default: the notifier's clock) at once; returns how many ran.

        `kind` ("reminder" or "digest") limits it to those jobs. The scheduler itself follows the wall
        clock; this lets tests and demos that live in another year fire jobs deterministically.
        """
        now = now or self._clock.now()
        ran = 0
        for job in await asyncio.to_thread(self.jobs):
            if kind is not None and not job.id.startswith(f"{kind}:"):
                continue
            if job.next_run_time is None or job.next_run_time > now:
                continue
            bound = self._executor.bind(job)
            await bound.func(*bound.args, **bound.kwargs)
            ran += 1
            following = job.trigger.get_next_fire_time(job.next_run_time, now)
            if following is None or isinstance(job.trigger, DateTrigger):
                await asyncio.to_thread(self._remove, job.id)
            else:
                await asyncio.to_thread(self.scheduler.modify_job, job.id, jobstore=_STORED, next_run_time=following)
        return ran
