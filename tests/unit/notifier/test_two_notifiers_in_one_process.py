"""Two notifiers built in one process share nothing: each scheduler runs its stored jobs on its own service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import notifier_factories as f
from apscheduler.triggers.date import DateTrigger
from notifier_harness import notifier_on_test_broker, notifier_settings
from verbund_notifier.app import NotifierApp
from verbund_notifier.service import scheduling
from verbund_notifier.service.ingest import NotifierService
from verbund_schemas import Contact, encode_event, topic

from verbund.mailsink import MailSink


async def configure(app: NotifierApp, email: str) -> None:
    event = f.network(Contact(name="Koordination", email=email))
    await app.broker.publish(encode_event(event), topic("inbound"), key=f.NETWORK.encode())


def digest_due_now(app: NotifierApp) -> None:
    """A stored digest job due on the wall clock in a moment, so the scheduler itself runs it."""
    app.notifier.scheduling.scheduler.add_job(
        scheduling.SEND_DIGEST,
        trigger=DateTrigger(run_date=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.5)),
        id=f"digest-now:{f.NETWORK}",
        args=[f.NETWORK],
        misfire_grace_time=60,
    )


async def test_two_notifiers_with_their_own_databases_each_run_their_own_jobs_and_send_their_own_mail(
    tmp_path: Path,
) -> None:
    first_sink, second_sink = MailSink().start(), MailSink().start()
    try:
        first = notifier_settings(f"sqlite+aiosqlite:///{tmp_path / 'first.db'}", first_sink)
        second = notifier_settings(f"sqlite+aiosqlite:///{tmp_path / 'second.db'}", second_sink)
        # The same network id in both: only their databases and settings tell them apart.
        async with notifier_on_test_broker(first) as one, notifier_on_test_broker(second) as other:
            await configure(one, "eins@example.org")
            await configure(other, "zwei@example.org")
            # The second was started last: a scheduler that found "the" running service through module state
            # would run the first notifier's job on the second one.
            digest_due_now(one)
            digest_due_now(other)
            (to_first,) = await first_sink.until(1, within=15)
            (to_second,) = await second_sink.until(1, within=15)
            assert str(to_first["To"]) == "eins@example.org"
            assert str(to_second["To"]) == "zwei@example.org"
            assert str(to_first["Subject"]).startswith("Wochenübersicht")
            assert one.notifier.engine is not other.notifier.engine
            assert one.notifier.scheduling.scheduler is not other.notifier.scheduling.scheduler
        assert len(first_sink.messages) == 1 and len(second_sink.messages) == 1
    finally:
        first_sink.stop()
        second_sink.stop()
    # Nothing of a running notifier is left behind at module level once both are stopped.
    assert not [name for name, value in vars(scheduling).items() if isinstance(value, NotifierService)]
