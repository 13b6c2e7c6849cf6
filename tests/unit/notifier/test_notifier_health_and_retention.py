"""The notifier's health endpoint over real HTTP, and the daily prune on a real database."""

from __future__ import annotations

import datetime as dt

import notifier_factories as f
from notifier_harness import (
    START,
    deliveries,
    eventually,
    free_port,
    http_get,
    notifier_on_test_broker,
    notifier_settings,
    stored_delivery,
)
from sqlalchemy import select
from verbund_notifier.app import NotifierApp, build
from verbund_notifier.clock import Clock
from verbund_notifier.service.scheduling import PRUNE_JOB
from verbund_notifier.settings import NotifierSettings
from verbund_notifier.store.tables import Delivery, ProcessedEvent
from verbund_schemas import Envelope, encode_event, topic

from verbund.mailsink import MailSink


async def send(app: NotifierApp, role: str, event: Envelope) -> None:
    await app.broker.publish(encode_event(event), topic(role), key=f.NETWORK.encode())


async def test_health_endpoint_is_live_ready_and_serves_delivery_metrics_by_channel(
    database_url: str, mail_sink: MailSink
) -> None:
    port = free_port()
    settings = notifier_settings(database_url, mail_sink, health_port=port)
    async with notifier_on_test_broker(settings) as app:
        assert await http_get(port, "/healthz") == (200, "ok\n")
        status, body = await http_get(port, "/readyz")
        assert status == 200, body
        assert body.splitlines() == ["database: ok", "kafka: ok", "scheduler: ok", "consuming: ok"]

        for event in (f.network(), *f.directory()):
            await send(app, "inbound", event)
        await send(app, "assignments", f.made())

        async def all_sent() -> bool:
            rows = await deliveries(app)
            return bool(rows) and all(r.status == "sent" for r in rows)

        await eventually(all_sent, what="every message of the assignment sent")
        status, metrics = await http_get(port, "/metrics")
        assert status == 200
        delivered = [
            line
            for line in metrics.splitlines()
            if line.startswith('verbund_notifier_delivered_total{channel="email",kind="assignment_made"}')
        ]
        assert delivered and float(delivered[0].split()[-1]) >= 1
        assert 'verbund_notifier_deliveries_pending{channel="email"} 0.0' in metrics
        assert 'verbund_notifier_deliveries_pending{channel="webhook"} 0.0' in metrics
        assert "# TYPE verbund_notifier_failed_total counter" in metrics
        assert "# TYPE verbund_notifier_pruned_total counter" in metrics
        assert (await http_get(port, "/nothing-here"))[0] == 404


async def test_readyz_says_503_and_which_part_is_missing_until_consumers_run_and_after_the_scheduler_stops(
    database_url: str, mail_sink: MailSink
) -> None:
    port = free_port()
    built = build(notifier_settings(database_url, mail_sink, health_port=port), clock=Clock(START))
    await built.notifier.prepare()  # as on_startup does, before the broker has started its consumers
    try:
        assert (await http_get(port, "/healthz"))[0] == 200
        status, body = await http_get(port, "/readyz")
        assert status == 503
        assert "database: ok" in body
        assert "kafka: consumers not running" in body

        async def consuming() -> None:
            return None

        built.notifier.kafka_problem = consuming
        assert (await http_get(port, "/readyz"))[0] == 200
        built.notifier.scheduling.shutdown()
        status, body = await http_get(port, "/readyz")
        assert status == 503
        assert "scheduler: reminder and digest scheduler not running" in body
    finally:
        await built.notifier.close()
    # Closed means closed: nothing answers on the port any more.
    status, _ = await http_get_or_refused(port)
    assert status is None


async def http_get_or_refused(port: int) -> tuple[int | None, str]:
    try:
        return await http_get(port, "/healthz")
    except OSError as exc:
        return None, str(exc)


async def test_prune_job_is_daily_and_only_where_the_scheduler_runs(database_url: str, mail_sink: MailSink) -> None:
    async with notifier_on_test_broker(notifier_settings(database_url, mail_sink, notifier_prune_hour=4)) as app:
        job = app.notifier.scheduling.scheduler.get_job(PRUNE_JOB, jobstore="local")
        assert job is not None
        assert str(job.trigger.fields[5]) == "4"  # the cron trigger's hour field
    async with notifier_on_test_broker(notifier_settings(database_url, mail_sink, notifier_scheduler=False)) as app:
        assert app.notifier.scheduling.scheduler.get_job(PRUNE_JOB, jobstore="local") is None


def delivery(nid: str, source: str, status: str, finished_days_ago: float | None, logged: bool = True) -> Delivery:
    finished = None if finished_days_ago is None else START - dt.timedelta(days=finished_days_ago)
    return stored_delivery(nid, source, status, finished, logged=logged)


def handled(event_id: str, days_ago: float, event_type: str = "AssignmentMade") -> ProcessedEvent:
    return ProcessedEvent(
        event_id=event_id,
        event_type=event_type,
        network_id=f.NETWORK,
        processed_at=START - dt.timedelta(days=days_ago),
    )


async def test_prune_forgets_old_ids_and_finished_deliveries_but_keeps_recent_pending_and_unlogged_ones(
    database_url: str, mail_sink: MailSink
) -> None:
    settings: NotifierSettings = notifier_settings(
        database_url, mail_sink, notifier_inbox_retention_days=400, delivery_retention_days=90
    )
    async with notifier_on_test_broker(settings) as app:
        # Stop sending: the pending rows below must stay pending while the prune looks at them.
        await app.notifier.stop_worker()
        async with app.notifier.sessions.begin() as session:
            session.add_all(
                [
                    handled("old-event", 401),
                    handled("recent-event", 399),
                    handled("old-network", 800, event_type="NetworkConfigured"),
                    delivery("old-sent", "ev-a", "sent", 91),
                    delivery("old-dead", "ev-b", "failed", 120),
                    delivery("recent-sent", "ev-c", "sent", 89),
                    delivery("old-unlogged", "ev-d", "sent", 91, logged=False),
                    delivery("old-sibling", "ev-e", "sent", 200),
                    delivery("still-trying", "ev-e", "pending", None, logged=False),
                    delivery("old-pending", "ev-f", "pending", None, logged=False),
                ]
            )

        pruned = await app.notifier.prune_now()

        assert (pruned.inbox, pruned.deliveries) == (1, 2)
        async with app.notifier.sessions() as session:
            ids = set((await session.execute(select(ProcessedEvent.event_id))).scalars())  # type: ignore[call-overload]
        assert ids == {"recent-event", "old-network"}
        assert {d.notification_id for d in await deliveries(app)} == {
            "recent-sent",
            "old-unlogged",
            "old-sibling",
            "still-trying",
            "old-pending",
        }
        # Pruning again changes nothing: what is left is needed.
        again = await app.notifier.prune_now()
        assert (again.inbox, again.deliveries) == (0, 0)


async def test_a_remembered_event_is_still_not_applied_twice_after_a_prune(
    database_url: str, mail_sink: MailSink
) -> None:
    async with notifier_on_test_broker(notifier_settings(database_url, mail_sink)) as app:
        for event in (f.network(), *f.directory()):
            await send(app, "inbound", event)
        made = f.made()
        await send(app, "assignments", made)

        async def sent() -> bool:
            rows = await deliveries(app)
            return bool(rows) and all(r.status == "sent" and r.logged for r in rows)

        await eventually(sent, what="the assignment's messages sent and logged")
        before = len(await deliveries(app))
        await app.notifier.prune_now()
        assert await app.notifier.service.apply(made) is False
        assert len(await deliveries(app)) == before
