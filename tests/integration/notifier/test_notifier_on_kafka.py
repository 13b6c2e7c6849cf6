"""The notifier on the real broker and PostgreSQL with real SMTP and HTTP receivers: no mocks anywhere."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable

import notifier_factories as f
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from kafka_tools import consume, produce
from notifier_harness import START, WebhookServer, deliveries, eventually, notifier_settings
from notifier_on_kafka import fresh_group, notifier_on_kafka, start_groups_at_end
from prometheus_client import REGISTRY
from verbund_notifier.app import NotifierApp
from verbund_notifier.channels.webhook import SIGNATURE_HEADER, verify
from verbund_notifier.clock import Clock
from verbund_notifier.domain.parties import LEARNER
from verbund_notifier.settings import NotifierSettings
from verbund_notifier.store import directory
from verbund_runtime.kafka import client_options
from verbund_schemas import Channel, Contact, Envelope, Language, encode_event, load_topics, topic

from verbund.mailsink import MailSink, calendar_parts, text_body

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

SECRET = "test-shared-secret"


async def settings_for(bootstrap: str, database_url: str, sink: MailSink, **overrides: object) -> NotifierSettings:
    group = fresh_group()
    await start_groups_at_end(bootstrap, group)
    values: dict[str, object] = {**overrides}
    return notifier_settings(database_url, sink, kafka_bootstrap_servers=bootstrap, notifier_group_id=group, **values)


async def publish(bootstrap: str, role: str, *events: Envelope) -> None:
    for event in events:
        await produce(bootstrap, topic(role), event.network_id, encode_event(event))


async def test_phase_made_changed_cancelled_reaches_everyone_with_calendar_updates_and_a_delivery_log(
    kafka_bootstrap: str, fresh_postgres_url: str, mail_sink: MailSink, webhook_server: WebhookServer
) -> None:
    settings = await settings_for(kafka_bootstrap, fresh_postgres_url, mail_sink)
    home_by_webhook = f.home_firm(Contact(name="Frau Huber", channel=Channel.WEBHOOK, webhook_url=webhook_server.url))
    made, moved, cancelled = (
        f.made(),
        f.changed(firm_id=f.OTHER, firm_name="Extrusion Schulz AG", start="2027-W14", end="2027-W17"),
        f.cancelled(firm_id=f.OTHER, firm_name="Extrusion Schulz AG", start="2027-W14", end="2027-W17"),
    )
    async with notifier_on_kafka(settings, Clock(START)):
        await publish(
            kafka_bootstrap, "inbound", f.network(), f.host_firm(), home_by_webhook, f.other_firm(), f.learner()
        )
        await publish(kafka_bootstrap, "assignments", made, moved, cancelled)
        # learner ×3, old host ×2 (arrival, then its entry cancelled), new host ×2 (arrival, cancellation)
        messages = await mail_sink.until(7, within=60)

        async def three_webhooks() -> bool:
            return len(webhook_server.requests) == 3

        await eventually(three_webhooks, within=30, what="three webhooks to the home firm")

        ours = {made.id, moved.id, cancelled.id}
        records = await consume(
            kafka_bootstrap,
            topic("notifications"),
            until=lambda rs: sum(json.loads(r.value)["data"]["source_event_id"] in ours for r in rs) >= 10,
            timeout=60,
        )
        log = [json.loads(r.value) for r in records if json.loads(r.value)["data"]["source_event_id"] in ours]
        assert {e["type"] for e in log} == {"NotificationDelivered"}
        assert all(
            r.key == f.NETWORK.encode() for r in records if json.loads(r.value)["data"]["source_event_id"] in ours
        )
        assert {e["data"]["recipient"] for e in log} == {
            f"learner:{f.LEARNER}",
            f"firm:{f.HOST}",
            f"firm:{f.OTHER}",
            f"firm:{f.HOME}",
        }

    to_learner = mail_sink.messages_to(f.LEARNER_EMAIL)
    assert len(messages) == 7 and len(to_learner) == 3
    entries = [calendar_parts(m)[0] for m in to_learner]
    assert [str(c["METHOD"]) for c in entries] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [c.walk("VEVENT")[0]["SEQUENCE"] for c in entries] == [0, 1, 2]
    assert {str(c.walk("VEVENT")[0]["UID"]) for c in entries} == {f"{made.data.assignment_id}@example.org"}
    assert entries[1].walk("VEVENT")[0].decoded("DTSTART") == dt.date(2027, 4, 5)
    assert str(entries[2].walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    assert "Bisher: Spritzguss Meier GmbH" in text_body(to_learner[1])
    old_host = mail_sink.messages_to(f.HOST_EMAIL)
    assert [str(calendar_parts(m)[0]["METHOD"]) for m in old_host] == ["REQUEST", "CANCEL"]
    for headers, body in webhook_server.requests:
        assert verify(body, SECRET, headers[SIGNATURE_HEADER])
    assert [b["kind"] for b in webhook_server.bodies()] == ["home_made", "home_changed", "home_cancelled"]

    raw_log = b"".join(r.value for r in records)
    assert b"@example.org" not in raw_log and b"Lena" not in raw_log  # no personal data on the topic


async def test_redelivered_event_on_the_broker_is_not_sent_twice(
    kafka_bootstrap: str, fresh_postgres_url: str, mail_sink: MailSink
) -> None:
    settings = await settings_for(kafka_bootstrap, fresh_postgres_url, mail_sink)
    event = f.made()
    later = f.made(start="2027-W30", end="2027-W33")
    later = later.model_copy(update={"data": later.data.model_copy(update={"assignment_id": "N-PLAST.L-001.M-2"})})
    async with notifier_on_kafka(settings, Clock(START)):
        await publish(kafka_bootstrap, "inbound", *f.directory())
        await publish(kafka_bootstrap, "assignments", event, event, later)
        # `later` follows the duplicate on the same partition: once its messages are out, the duplicate
        # has been consumed too.
        await mail_sink.until(6, within=60)
        await eventually(_quiet(mail_sink), within=5, what="nothing more")
    subjects = [str(m["Subject"]) for m in mail_sink.messages_to(f.LEARNER_EMAIL)]
    assert len(mail_sink.messages) == 6
    assert len(subjects) == 2 and subjects[0] != subjects[1]


def _quiet(sink: MailSink) -> object:
    seen = len(sink.messages)

    async def check() -> bool:
        return len(sink.messages) == seen

    return check


async def test_smtp_outage_loses_nothing_and_recovery_delivers_each_message_once(
    kafka_bootstrap: str, fresh_postgres_url: str, mail_sink: MailSink
) -> None:
    settings = await settings_for(kafka_bootstrap, fresh_postgres_url, mail_sink, retry_max_attempts=50)
    mail_sink.stop()
    async with notifier_on_kafka(settings, Clock(START)) as app:
        await publish(kafka_bootstrap, "inbound", *f.directory())
        await publish(kafka_bootstrap, "assignments", f.made())
        await publish(kafka_bootstrap, "shortfalls", f.shortfall())

        async def four_failing() -> bool:
            from notifier_harness import deliveries

            rows = await deliveries(app)
            return len(rows) == 4 and all(r.attempts >= 2 and r.status == "pending" for r in rows)

        await eventually(four_failing, within=60, what="4 pending deliveries retried while SMTP is down")
        mail_sink.start()
        await mail_sink.until(4, within=30)
        await eventually(_quiet(mail_sink), within=5, what="nothing more")
        for _ in range(3):
            await app.notifier.worker.run_once()
    assert sorted(str(m["To"]) for m in mail_sink.messages) == sorted(
        [f.LEARNER_EMAIL, f.HOST_EMAIL, f.HOME_EMAIL, f.COORDINATOR_EMAIL]
    )


async def test_reminder_fires_after_restart_from_the_postgres_job_store(
    kafka_bootstrap: str, fresh_postgres_url: str, mail_sink: MailSink
) -> None:
    settings = await settings_for(kafka_bootstrap, fresh_postgres_url, mail_sink)
    async with notifier_on_kafka(settings, Clock(START)):
        await publish(kafka_bootstrap, "inbound", *f.directory())
        await publish(kafka_bootstrap, "assignments", f.made())
        await mail_sink.until(3, within=60)
    mail_sink.clear()
    clock = Clock(START)
    async with notifier_on_kafka(settings, clock) as restarted:
        clock.set(dt.datetime(2027, 2, 22, 6, 1, tzinfo=dt.UTC))  # 07:01 in Berlin, 14 days before the start
        assert await restarted.notifier.scheduling.run_due("reminder") == 1
        await mail_sink.until(1, within=30)
        clock.set(dt.datetime(2027, 3, 6, 6, 1, tzinfo=dt.UTC))  # two days before
        assert await restarted.notifier.scheduling.run_due("reminder") == 1
        messages = await mail_sink.until(2, within=30)
    assert {str(m["Subject"]) for m in messages} == {
        "Erinnerung: CNC-Fräsen bei Spritzguss Meier GmbH beginnt in 14 Tagen",
        "Erinnerung: CNC-Fräsen bei Spritzguss Meier GmbH beginnt in 2 Tagen",
    }


async def test_unreadable_and_oversized_messages_are_counted_and_skipped_and_consumption_carries_on(
    kafka_bootstrap: str, fresh_postgres_url: str, mail_sink: MailSink
) -> None:
    settings = await settings_for(kafka_bootstrap, fresh_postgres_url, mail_sink)
    garbage = b'{"type": "ShortfallDetected", "subject": "N-PLAST", "data": {}} trailing'
    oversized = json.loads(encode_event(f.learner(learner_id="L-BIG")))
    oversized["data"]["contact"]["email"] = "x" * 900_000 + "@example.org"
    invalid_before = _skipped(topic("shortfalls"), "invalid")
    large_before = _skipped(topic("inbound"), "too_large")
    async with notifier_on_kafka(settings, Clock(START)):
        await publish(kafka_bootstrap, "inbound", f.network())
        await produce(kafka_bootstrap, topic("inbound"), f.NETWORK, json.dumps(oversized))
        await produce(kafka_bootstrap, topic("shortfalls"), f.NETWORK, garbage)
        await publish(kafka_bootstrap, "shortfalls", f.shortfall())
        (message,) = await mail_sink.until(1, within=60)

        async def oversized_counted() -> bool:
            return _skipped(topic("inbound"), "too_large") == large_before + 1

        await eventually(oversized_counted, within=30, what="the oversized record counted")
    assert str(message["To"]) == f.COORDINATOR_EMAIL
    assert _skipped(topic("shortfalls"), "invalid") == invalid_before + 1
    # The matcher publishes the rejection of an inbound record; the notifier publishes none at all.
    published = [json.loads(r.value or b"{}") for r in await _everything_on(kafka_bootstrap, topic("rejected"))]
    assert not [r for r in published if r.get("data", {}).get("service") == "notifier"]


def _learner_known(app: NotifierApp) -> Callable[[], Awaitable[bool]]:
    async def known() -> bool:
        async with app.notifier.sessions() as session:
            return await directory.find(session, f.NETWORK, LEARNER, f.LEARNER) is not None

    return known


def _skipped(topic_name: str, cause: str) -> float:
    return REGISTRY.get_sample_value("verbund_notifier_rejected_total", {"topic": topic_name, "cause": cause}) or 0.0


async def _everything_on(bootstrap: str, topic_name: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record the topic holds now (up to its end offsets)."""
    consumer = AIOKafkaConsumer(**client_options(bootstrap), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic_name, p) for p in range(load_topics()["rejected"].partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def test_resolved_shortfall_is_announced_once_to_each_coordinator_in_their_language_on_postgres(
    kafka_bootstrap: str, fresh_postgres_url: str, mail_sink: MailSink
) -> None:
    settings = await settings_for(kafka_bootstrap, fresh_postgres_url, mail_sink)
    english = "coord-en@example.org"
    coordinators = f.network_of(
        Contact(name="Clara Koordinatorin", email=f.COORDINATOR_EMAIL),
        Contact(name="Chris Coordinator", email=english, language=Language.EN),
    )
    detected, resolved = f.shortfall(), f.resolved()
    never_announced = f.resolved(shortfall_id=f"{f.NETWORK}.L-009.G-WAHL")
    other = f.shortfall()
    other = other.model_copy(
        update={
            "data": other.data.model_copy(
                update={"shortfall_id": f"{f.NETWORK}.L-002.G-WAHL", "learner_id": "L-002", "learner_name": "Emil Roth"}
            )
        }
    )
    async with notifier_on_kafka(settings, Clock(START)) as app:
        await publish(kafka_bootstrap, "inbound", coordinators, f.learner())
        # The inbound and shortfall topics are read apart: a ShortfallResolved read before the learner's
        # registration is worded without knowing whether the learner left. This test is about the wording for a
        # learner who is still there, so it waits for the registration.
        await eventually(_learner_known(app), within=30, what="the learner's registration applied")
        # One partition (the network is the key) keeps this order: the repeat of `resolved`, a new
        # ShortfallResolved for the same shortfall and one for a shortfall never announced come before
        # `other`, so once `other` is out they have all been consumed.
        await publish(kafka_bootstrap, "shortfalls", detected, resolved, resolved, f.resolved(version=3))
        await publish(kafka_bootstrap, "shortfalls", never_announced, other)
        await mail_sink.until(6, within=60)
        await eventually(_quiet(mail_sink), within=5, what="nothing more")
        rows = await deliveries(app)
    assert len(mail_sink.messages) == 6
    assert sorted(r.kind for r in rows) == ["shortfall"] * 4 + ["shortfall_resolved"] * 2
    assert {r.source_event_id for r in rows if r.kind == "shortfall_resolved"} == {resolved.id}
    (de,) = [m for m in mail_sink.messages_to(f.COORDINATOR_EMAIL) if "gelöst" in str(m["Subject"])]
    assert str(de["Subject"]) == "Engpass gelöst: Lena Berger – M-LASER"
    assert "Jetzt ist der Bedarf gedeckt." in text_body(de) and "Planversion 2" in text_body(de)
    (en,) = [m for m in mail_sink.messages_to(english) if "resolved" in str(m["Subject"])]
    assert str(en["Subject"]) == "Shortfall resolved: Lena Berger – M-LASER"
    assert "The reason was: seats taken" in text_body(en)
