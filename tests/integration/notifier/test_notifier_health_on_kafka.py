"""The notifier's probes and metrics on the real broker and PostgreSQL, and the prune's SQL on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import notifier_factories as f
import pytest
from kafka_tools import produce
from notifier_harness import START, deliveries, eventually, free_port, http_get, notifier_settings, stored_delivery
from notifier_on_kafka import fresh_group, notifier_on_kafka, start_groups_at_end
from sqlalchemy import select
from verbund_notifier.clock import Clock
from verbund_notifier.store.tables import Delivery, ProcessedEvent
from verbund_schemas import Envelope, encode_event, topic

from verbund.mailsink import MailSink

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


async def publish(bootstrap: str, role: str, *events: Envelope) -> None:
    for event in events:
        await produce(bootstrap, topic(role), event.network_id, encode_event(event))


async def test_readyz_turns_200_once_consuming_metrics_count_deliveries_and_prune_runs_on_postgres(
    kafka_bootstrap: str, fresh_postgres_url: str, mail_sink: MailSink
) -> None:
    group = fresh_group()
    await start_groups_at_end(kafka_bootstrap, group)
    port = free_port()
    settings = notifier_settings(
        fresh_postgres_url,
        mail_sink,
        kafka_bootstrap_servers=kafka_bootstrap,
        notifier_group_id=group,
        health_port=port,
    )
    async with notifier_on_kafka(settings, Clock(START)) as app:
        assert await http_get(port, "/healthz") == (200, "ok\n")

        async def ready() -> bool:
            return (await http_get(port, "/readyz"))[0] == 200

        await eventually(ready, within=30, what="/readyz answering 200")
        assert (await http_get(port, "/readyz"))[1].splitlines() == [
            "database: ok",
            "kafka: ok",
            "scheduler: ok",
            "consuming: ok",
        ]

        await publish(kafka_bootstrap, "inbound", *f.directory())
        await publish(kafka_bootstrap, "assignments", f.made())
        await mail_sink.until(3, within=60)

        async def all_logged() -> bool:
            rows = await deliveries(app)
            return len(rows) == 3 and all(r.status == "sent" and r.logged for r in rows)

        await eventually(all_logged, within=30, what="the three messages sent and logged")
        _, metrics = await http_get(port, "/metrics")
        assert 'verbund_notifier_deliveries_pending{channel="email"} 0.0' in metrics
        assert 'verbund_notifier_delivered_total{channel="email",kind="assignment_made"}' in metrics

        # Age what was just handled past both retentions; another event has one message still pending.
        long_ago = START - dt.timedelta(days=500)
        async with app.notifier.sessions.begin() as session:
            for row in (await session.execute(select(ProcessedEvent))).scalars():
                row.processed_at = long_ago
            for delivery in (await session.execute(select(Delivery))).scalars():
                delivery.finished_at = long_ago
            session.add_all(
                [
                    stored_delivery("done-long-ago", "another-event", "sent", long_ago),
                    # Not due yet: the worker leaves it pending.
                    stored_delivery("still-trying", "another-event", "pending", None, due=START + dt.timedelta(days=1)),
                ]
            )
        pruned = await app.notifier.prune_now()

        # Four directory events and the assignment go; the network's configuration stays (shortfalls
        # look for it before they are applied).
        assert (pruned.inbox, pruned.deliveries) == (len(f.directory()) - 1 + 1, 3)
        async with app.notifier.sessions() as session:
            kinds = set((await session.execute(select(ProcessedEvent.event_type))).scalars())  # type: ignore[call-overload]
        assert kinds == {"NetworkConfigured"}
        assert {d.notification_id for d in await deliveries(app)} == {"done-long-ago", "still-trying"}
