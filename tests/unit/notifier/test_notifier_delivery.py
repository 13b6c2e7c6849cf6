"""The delivery worker against real local servers: webhooks signed, outages survived, failures dead-lettered."""

from __future__ import annotations

import json
import random
from typing import Any

import notifier_factories as f
from notifier_harness import WebhookServer, deliveries, eventually, notifier_on_test_broker, notifier_settings
from verbund_notifier.app import NotifierApp
from verbund_notifier.channels.webhook import SIGNATURE_HEADER, verify
from verbund_notifier.service.delivery import backoff_seconds
from verbund_notifier.settings import NotifierSettings
from verbund_schemas import Channel, Contact, Envelope, encode_event, topic

from verbund.mailsink import MailSink

SECRET = "test-shared-secret"


async def send(app: NotifierApp, role: str, event: Envelope) -> None:
    await app.broker.publish(encode_event(event), topic(role), key=f.NETWORK.encode())


def logged(app: NotifierApp) -> list[dict[str, Any]]:
    return [
        c.args[0] if isinstance(c.args[0], dict) else json.loads(c.args[0])
        for c in app.log_publisher.mock.call_args_list
    ]


async def send_firms_without_contacts(app: NotifierApp) -> None:
    """Both firms known (an assignment waits for them) but nobody to message: the learner's is the one delivery."""
    await send(app, "inbound", f.firm(f.HOST, "Spritzguss Meier GmbH", None))
    await send(app, "inbound", f.firm(f.HOME, "Stammwerk Huber KG", None))


def webhook_learner(url: str) -> Envelope:
    return f.learner(Contact(name="Lena Berger", channel=Channel.WEBHOOK, webhook_url=url))


async def test_webhook_is_posted_as_json_with_a_signature_that_verifies(
    settings: NotifierSettings, webhook_server: WebhookServer
) -> None:
    async with notifier_on_test_broker(settings) as app:
        await send(app, "inbound", f.network())
        await send_firms_without_contacts(app)
        await send(app, "inbound", webhook_learner(webhook_server.url))
        await send(app, "assignments", f.made())

        async def posted() -> bool:
            return len(webhook_server.requests) == 1

        await eventually(posted, what="the webhook POST")
        headers, body = webhook_server.requests[0]
        assert headers["Content-Type"] == "application/json"
        assert verify(body, SECRET, headers[SIGNATURE_HEADER])
        assert not verify(body, "wrong-secret", headers[SIGNATURE_HEADER])
        payload = json.loads(body)
        assert payload["kind"] == "assignment_made"
        assert payload["recipient"] == f"learner:{f.LEARNER}"
        assert payload["details"]["start_date"] == "2027-03-08"
        assert "BEGIN:VCALENDAR" in payload["calendar"]

        async def delivered() -> bool:
            return any(e["type"] == "NotificationDelivered" for e in logged(app))

        await eventually(delivered, what="NotificationDelivered")
        (entry,) = logged(app)
        assert entry["data"]["channel"] == "webhook"
        assert entry["subject"] == f.NETWORK


async def test_smtp_outage_then_recovery_delivers_every_pending_message_exactly_once(
    settings: NotifierSettings, mail_sink: MailSink
) -> None:
    mail_sink.stop()
    async with notifier_on_test_broker(settings) as app:
        for event in f.directory():
            await send(app, "inbound", event)
        await send(app, "assignments", f.made())

        async def retried() -> bool:
            return all(d.attempts >= 2 and d.status == "pending" for d in await deliveries(app))

        await eventually(retried, what="two failed attempts per message while the SMTP server is down")
        assert all("cannot reach SMTP server" in (d.last_error or "") for d in await deliveries(app))
        assert mail_sink.messages == []

        mail_sink.start()

        async def all_sent() -> bool:
            return all(d.status == "sent" for d in await deliveries(app))

        await eventually(all_sent, what="delivery after recovery")
        for _ in range(5):
            await app.notifier.worker.run_once()
        messages = mail_sink.messages
        assert sorted(str(m["To"]) for m in messages) == sorted([f.LEARNER_EMAIL, f.HOST_EMAIL, f.HOME_EMAIL])
        assert len({m["Message-ID"] for m in messages}) == 3
        assert all(e["data"]["attempts"] >= 3 for e in logged(app))


async def test_webhook_failing_every_time_is_dead_lettered_with_notification_failed(
    database_url: str, mail_sink: MailSink, webhook_server: WebhookServer
) -> None:
    webhook_server.status = 503
    settings = notifier_settings(database_url, mail_sink, retry_max_attempts=3)
    async with notifier_on_test_broker(settings) as app:
        await send(app, "inbound", f.network())
        await send_firms_without_contacts(app)
        await send(app, "inbound", webhook_learner(webhook_server.url))
        await send(app, "assignments", f.made())

        async def failed() -> bool:
            return any(e["type"] == "NotificationFailed" for e in logged(app))

        await eventually(failed, what="NotificationFailed")
        (row,) = await deliveries(app)
        assert row.status == "failed"
        assert row.attempts == 3
        assert len(webhook_server.requests) == 3
        (entry,) = logged(app)
        assert "HTTP 503" in entry["data"]["error"]
        assert entry["data"]["recipient"] == f"learner:{f.LEARNER}"
        assert row.body_text  # the dead letter keeps its content for an operator


async def test_webhook_answering_400_fails_at_once_without_retries(
    settings: NotifierSettings, webhook_server: WebhookServer
) -> None:
    webhook_server.status = 400
    async with notifier_on_test_broker(settings) as app:
        await send(app, "inbound", f.network())
        await send_firms_without_contacts(app)
        await send(app, "inbound", webhook_learner(webhook_server.url))
        await send(app, "assignments", f.made())

        async def failed() -> bool:
            return any(d.status == "failed" for d in await deliveries(app))

        await eventually(failed, what="a failed delivery")
        (row,) = await deliveries(app)
        assert row.attempts == 1


async def test_webhooks_are_not_sent_unsigned_when_no_secret_is_configured(
    database_url: str, mail_sink: MailSink, webhook_server: WebhookServer
) -> None:
    settings = notifier_settings(database_url, mail_sink, webhook_secret=None, retry_max_attempts=2)
    async with notifier_on_test_broker(settings) as app:
        await send(app, "inbound", f.network())
        await send_firms_without_contacts(app)
        await send(app, "inbound", webhook_learner(webhook_server.url))
        await send(app, "assignments", f.made())

        async def failed() -> bool:
            return any(d.status == "failed" for d in await deliveries(app))

        await eventually(failed, what="a failed delivery")
        (row,) = await deliveries(app)
        assert "VERBUND_WEBHOOK_SECRET is not set" in (row.last_error or "")
        assert webhook_server.requests == []


def test_backoff_doubles_per_attempt_within_jitter_and_stops_at_the_cap() -> None:
    settings = NotifierSettings(retry_base_seconds=2, retry_max_seconds=60)
    rng = random.Random(7)
    for attempts, full in [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (12, 60)]:
        delay = backoff_seconds(attempts, settings, rng)
        assert full / 2 <= delay <= full
