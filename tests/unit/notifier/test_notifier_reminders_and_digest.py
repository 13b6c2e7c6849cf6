"""Reminders before a phase and the weekly digest: jobs in the notifier's database, run by an injected clock."""

from __future__ import annotations

import asyncio
import datetime as dt

import notifier_factories as f
from notifier_harness import START, notifier_on_test_broker
from sqlmodel import col, select
from verbund_notifier.app import NotifierApp
from verbund_notifier.clock import Clock
from verbund_notifier.settings import NotifierSettings
from verbund_notifier.store import job_store_url
from verbund_notifier.store.tables import Delivery, ProcessedEvent
from verbund_schemas import Envelope, encode_event, topic

from verbund.mailsink import MailSink, text_body

BERLIN_7AM_FEB_22 = dt.datetime(2027, 2, 22, 6, 0, tzinfo=dt.UTC)  # 14 days before Monday 2027-03-08
BERLIN_7AM_MAR_06 = dt.datetime(2027, 3, 6, 6, 0, tzinfo=dt.UTC)  # 2 days before


async def send(app: NotifierApp, role: str, event: Envelope) -> None:
    await app.broker.publish(encode_event(event), topic(role), key=f.NETWORK.encode())


async def directory_and_phase(app: NotifierApp) -> None:
    """The network's parties, then one phase made for the learner (CNC-Fräsen from Monday 2027-03-08)."""
    for event in f.directory():
        await send(app, "inbound", event)
    await send(app, "assignments", f.made())


def reminder_jobs(app: NotifierApp) -> dict[str, dt.datetime]:
    return {j.id: j.next_run_time for j in app.notifier.scheduling.jobs() if j.id.startswith("reminder:")}


async def test_reminders_are_scheduled_14_and_2_days_before_the_start_at_seven_local_time(
    settings: NotifierSettings,
) -> None:
    async with notifier_on_test_broker(settings) as app:
        await directory_and_phase(app)
        jobs = reminder_jobs(app)
        aid = f"{f.NETWORK}.{f.LEARNER}.M-CNC"
        assert jobs == {f"reminder:{aid}:14": BERLIN_7AM_FEB_22, f"reminder:{aid}:2": BERLIN_7AM_MAR_06}


async def test_a_reminder_whose_time_has_passed_when_the_phase_is_made_is_skipped(
    settings: NotifierSettings,
) -> None:
    async with notifier_on_test_broker(settings, Clock(dt.datetime(2027, 3, 1, tzinfo=dt.UTC))) as app:
        await directory_and_phase(app)
        assert list(reminder_jobs(app).values()) == [BERLIN_7AM_MAR_06]


async def test_cancelling_a_phase_removes_its_reminders(settings: NotifierSettings) -> None:
    async with notifier_on_test_broker(settings) as app:
        await directory_and_phase(app)
        await send(app, "assignments", f.cancelled())
        assert reminder_jobs(app) == {}


async def test_reminder_fires_after_the_notifier_was_restarted(settings: NotifierSettings, mail_sink: MailSink) -> None:
    async with notifier_on_test_broker(settings) as first:
        await directory_and_phase(first)
        await mail_sink.until(3)
    mail_sink.clear()

    clock = Clock(START)
    async with notifier_on_test_broker(settings, clock) as second:
        assert len(reminder_jobs(second)) == 2  # read back from the database, not from memory
        clock.set(BERLIN_7AM_FEB_22 + dt.timedelta(minutes=1))
        assert await second.notifier.scheduling.run_due("reminder") == 1
        (message,) = await mail_sink.until(1)
        assert str(message["To"]) == f.LEARNER_EMAIL
        assert str(message["Subject"]) == "Erinnerung: CNC-Fräsen bei Spritzguss Meier GmbH beginnt in 14 Tagen"
        assert "Werkstraße 1, 86150 Augsburg" in text_body(message)
        assert await second.notifier.scheduling.run_due("reminder") == 0
        assert len(reminder_jobs(second)) == 1


async def test_reminder_of_a_phase_changed_since_scheduling_tells_the_new_dates(
    settings: NotifierSettings, mail_sink: MailSink
) -> None:
    clock = Clock(START)
    async with notifier_on_test_broker(settings, clock) as app:
        await directory_and_phase(app)
        await send(
            app,
            "assignments",
            f.changed(firm_id=f.OTHER, firm_name="Extrusion Schulz AG", start="2027-W14", end="2027-W17"),
        )
        await mail_sink.until(7)
        mail_sink.clear()
        clock.set(dt.datetime(2027, 3, 23, 6, 1, tzinfo=dt.UTC))  # 14 days before Monday 2027-04-05
        assert await app.notifier.scheduling.run_due("reminder") == 1
        (message,) = await mail_sink.until(1)
        assert "Extrusion Schulz AG" in str(message["Subject"])
        assert "5. April 2027" in text_body(message)


async def test_weekly_digest_lists_open_shortfalls_utilisation_and_phases_starting_once_per_week(
    settings: NotifierSettings, mail_sink: MailSink
) -> None:
    clock = Clock(START)
    async with notifier_on_test_broker(settings, clock) as app:
        await directory_and_phase(app)
        await send(app, "shortfalls", f.shortfall())
        await mail_sink.until(4)
        mail_sink.clear()
        digest_jobs = [j for j in app.notifier.scheduling.jobs() if j.id == f"digest:{f.NETWORK}"]
        assert len(digest_jobs) == 1
        clock.set(dt.datetime(2027, 3, 1, 6, 30, tzinfo=dt.UTC))  # Monday 07:30 in Berlin
        assert await app.notifier.scheduling.run_due("digest") == 1
        (message,) = await mail_sink.until(1)
        assert str(message["To"]) == f.COORDINATOR_EMAIL
        assert str(message["Subject"]).startswith("Wochenübersicht Kunststoffverbund Süd, 2027-W09: 1 offene")
        body = text_body(message)
        assert "Lena Berger: M-LASER – Plätze belegt. Die Plätze für M-LASER sind in den passenden Wochen" in body
        assert "Spritzguss Meier GmbH: 0 / 1 / 1 / 1" in body
        assert "8. März 2027: Lena Berger, CNC-Fräsen bei Spritzguss Meier GmbH" in body
        assert await app.notifier.service.send_digest(f.NETWORK) == 0  # same week: no second digest


async def test_a_job_write_does_not_wait_for_an_open_transaction_of_the_notifiers_sessions(
    settings: NotifierSettings,
) -> None:
    # SQLite locks the whole file for a write. Were the jobs in the notifier's file, this job write would
    # wait for the session's transaction; with the event loop also waiting (for APScheduler's own lock,
    # held by the writing thread) neither would move until SQLite gave up with "database is locked".
    async with notifier_on_test_broker(settings) as app:
        sessions = app.notifier.sessions
        async with sessions.begin() as session:
            session.add(ProcessedEvent(event_id="held", event_type="Test", network_id="N-OTHER", processed_at=START))
            await session.flush()  # the write lock is now this transaction's
            writing = asyncio.create_task(asyncio.to_thread(app.notifier.scheduling.ensure_digest, "N-OTHER"))
            done, _ = await asyncio.wait({writing}, timeout=10)
            assert writing in done, "the job write waited for the session's transaction"
            await session.rollback()
        assert "digest:N-OTHER" in {job.id for job in app.notifier.scheduling.jobs()}


def test_on_sqlite_the_jobs_live_in_a_sibling_file_and_on_postgresql_in_the_same_database() -> None:
    assert job_store_url("sqlite+aiosqlite:////var/lib/verbund/notifier.db") == (
        "sqlite:////var/lib/verbund/notifier-jobs.db"
    )
    assert job_store_url("postgresql+asyncpg://verbund:secret@db/verbund") == (
        "postgresql+psycopg://verbund:secret@db/verbund"
    )


async def test_a_reminder_run_late_tells_the_days_really_left_and_none_goes_out_once_the_phase_began(
    settings: NotifierSettings, mail_sink: MailSink
) -> None:
    clock = Clock(START)
    async with notifier_on_test_broker(settings, clock) as app:
        await directory_and_phase(app)  # starts Monday 2027-03-08
        await mail_sink.until(3)
        mail_sink.clear()

        clock.set(BERLIN_7AM_FEB_22 + dt.timedelta(days=1))  # the notifier was down when the 14-day one was due
        assert await app.notifier.scheduling.run_due("reminder") == 1
        (message,) = await mail_sink.until(1)
        assert str(message["Subject"]) == "Erinnerung: CNC-Fräsen bei Spritzguss Meier GmbH beginnt in 13 Tagen"
        assert "in 13 Tagen beginnt Ihr Einsatz" in text_body(message)

        clock.set(dt.datetime(2027, 3, 8, 7, 0, tzinfo=dt.UTC))  # Monday 08:00 in Berlin: the phase has begun
        assert await app.notifier.scheduling.run_due("reminder") == 1  # the 2-day one ran ...
        async with app.notifier.sessions() as session:
            queued = await session.execute(select(Delivery.kind).where(col(Delivery.kind) == "reminder"))
            kinds = queued.scalars().all()
        assert kinds == ["reminder"], "... and queued nothing: only the late 14-day reminder was ever queued"
