"""Mail at most once on the real broker and PostgreSQL: a hand-over cut off by a dead notifier is not resent."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import notifier_factories as f
import pytest
from kafka_tools import consume, produce
from notifier_harness import START, deliveries, eventually, notifier_settings
from notifier_on_kafka import fresh_group, notifier_on_kafka, start_groups_at_end
from verbund_notifier.clock import Clock
from verbund_notifier.service.delivery import HANDING_OVER, is_uncertain
from verbund_notifier.store.tables import Delivery
from verbund_schemas import encode_event, topic

from verbund.mailsink import MailSink

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


async def test_a_hand_over_cut_off_by_a_dead_notifier_is_reported_failed_on_the_topic_and_the_rest_sent_once(
    kafka_bootstrap: str, fresh_postgres_url: str, mail_sink: MailSink
) -> None:
    group = fresh_group()
    await start_groups_at_end(kafka_bootstrap, group)
    settings = notifier_settings(
        fresh_postgres_url, mail_sink, kafka_bootstrap_servers=kafka_bootstrap, notifier_group_id=group
    )
    cut_off = uuid.uuid4().hex
    async with notifier_on_kafka(settings, Clock(START)) as app:
        # As a notifier killed during DATA left it: hand-over begun, its lease run out.
        async with app.notifier.sessions.begin() as session:
            session.add(
                Delivery(
                    notification_id=cut_off,
                    source_event_id=f"E-{cut_off}",
                    source_event_type="AssignmentMade",
                    network_id=f.NETWORK,
                    recipient=f"learner:{f.LEARNER}",
                    channel="email",
                    kind="assignment_made",
                    language="de",
                    address=f.LEARNER_EMAIL,
                    subject="Ihr nächster Einsatz",
                    body_text="Hallo",
                    status=HANDING_OVER,
                    next_attempt_at=START - dt.timedelta(minutes=5),
                    lease_until=START - dt.timedelta(seconds=1),
                    created_at=START - dt.timedelta(minutes=5),
                )
            )
        for event in f.directory():
            await produce(kafka_bootstrap, topic("inbound"), f.NETWORK, encode_event(event))
        made = f.made()
        await produce(kafka_bootstrap, topic("assignments"), f.NETWORK, encode_event(made))

        records = await consume(
            kafka_bootstrap,
            topic("notifications"),
            until=lambda rs: (
                sum(json.loads(r.value)["data"]["source_event_id"] in (made.id, f"E-{cut_off}") for r in rs) >= 4
            ),
            timeout=60,
        )
        ours = [json.loads(r.value) for r in records]
        (failed,) = [e for e in ours if e["data"]["notification_id"] == cut_off]
        assert failed["type"] == "NotificationFailed"
        assert is_uncertain(failed["data"]["error"])
        assert f"Message-ID <{cut_off}@verbund>" in failed["data"]["error"]
        assert {e["type"] for e in ours if e["data"]["source_event_id"] == made.id} == {"NotificationDelivered"}

        async def all_finished() -> bool:
            return all(r.status in ("sent", "failed") and r.logged for r in await deliveries(app))

        await eventually(all_finished, within=30, what="every row finished and logged")
        for _ in range(3):
            await app.notifier.worker.run_once()
        messages = mail_sink.messages
        assert sorted(str(m["To"]) for m in messages) == sorted([f.LEARNER_EMAIL, f.HOST_EMAIL, f.HOME_EMAIL])
        assert all(str(m["X-Verbund-Notification"]) != cut_off for m in messages)
        rows = {r.notification_id: r for r in await deliveries(app)}
        assert rows[cut_off].status == "failed"
        assert rows[cut_off].attempts == 1
        assert {r.status for nid, r in rows.items() if nid != cut_off} == {"sent"}
