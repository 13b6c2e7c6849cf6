"""Handlers on FastStream's test broker: directory, messages per recipient, redelivery, rejection."""

from __future__ import annotations

import json
import logging
from typing import Any

import notifier_factories as f
import pytest
from faststream import TestApp
from faststream.kafka import TestKafkaBroker
from notifier_harness import deliveries
from prometheus_client import REGISTRY
from verbund_notifier.app import NotifierApp, asyncapi, build
from verbund_notifier.settings import NotifierSettings
from verbund_notifier.store.tables import Party
from verbund_schemas import CapacityOffered, CapacityOfferedData, Envelope, encode_event, topic

from verbund.mailsink import MailSink, calendar_parts, text_body


async def send(app: NotifierApp, role: str, event: Envelope | bytes) -> None:
    raw = event if isinstance(event, bytes) else encode_event(event)
    await app.broker.publish(raw, topic(role), key=f.NETWORK.encode())


def as_json(body: object) -> dict[str, Any]:
    """What the test broker's publisher mock saw: the decoded JSON body."""
    return body if isinstance(body, dict) else json.loads(body)  # type: ignore[arg-type]


async def test_assignment_made_mails_learner_host_and_home_firm_once_each(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    for event in f.directory():
        await send(running, "inbound", event)
    await send(running, "assignments", f.made())
    messages = await mail_sink.until(3)
    assert sorted(str(m["To"]) for m in messages) == sorted([f.LEARNER_EMAIL, f.HOST_EMAIL, f.HOME_EMAIL])
    to_learner = mail_sink.messages_to(f.LEARNER_EMAIL)[0]
    assert "CNC-Fräsen bei Spritzguss Meier GmbH" in str(to_learner["Subject"])
    assert "8. März 2027 bis 4. April 2027" in text_body(to_learner)
    (cal,) = calendar_parts(to_learner)
    assert cal["METHOD"] == "REQUEST"
    to_home = mail_sink.messages_to(f.HOME_EMAIL)[0]
    assert "Spritzguss Meier GmbH" in text_body(to_home) and "Lena Berger" in text_body(to_home)
    assert calendar_parts(to_home) == []
    assert {d.recipient for d in await deliveries(running)} == {
        f"learner:{f.LEARNER}",
        f"firm:{f.HOST}",
        f"firm:{f.HOME}",
    }


async def test_redelivered_event_produces_no_second_message(running: NotifierApp, mail_sink: MailSink) -> None:
    for event in f.directory():
        await send(running, "inbound", event)
    event = f.made()
    await send(running, "assignments", event)
    await mail_sink.until(3)
    await send(running, "assignments", event)
    await running.notifier.worker.run_once()
    assert len(mail_sink.messages) == 3
    assert len(await deliveries(running)) == 3


def skipped(topic_name: str, cause: str) -> float:
    return REGISTRY.get_sample_value("verbund_notifier_rejected_total", {"topic": topic_name, "cause": cause}) or 0.0


async def test_a_message_it_cannot_read_is_counted_logged_by_position_and_skipped_never_published(
    running: NotifierApp, mail_sink: MailSink, caplog: pytest.LogCaptureFixture
) -> None:
    for event in f.directory():
        await send(running, "inbound", event)
    secret = "geheim-" + "x" * 500
    raw = json.dumps({"type": "AssignmentMade", "id": "a-1", "subject": f.NETWORK, "data": {"learner_id": secret}})
    before = skipped(topic("assignments"), "invalid")
    with caplog.at_level(logging.WARNING, logger="verbund_notifier"):
        await send(running, "assignments", raw.encode())
        await send(running, "assignments", b"\xff not json")
    assert skipped(topic("assignments"), "invalid") == before + 2
    # No publisher of rejections exists: the matcher publishes the rejection of a record, once. (Parking is for
    # records that keep failing, not for unreadable ones.)
    assert sorted(p.topic for p in running.broker.publishers) == sorted([topic("notifications"), topic("parked")])
    lines = [r.getMessage() for r in caplog.records if "cannot read" in r.getMessage()]
    assert len(lines) == 2 and "id a-1" in lines[0] and f"key {f.NETWORK}" in lines[0]
    assert not any("geheim" in r.getMessage() for r in caplog.records)
    # The consumer goes on with the next message.
    await send(running, "assignments", f.made())
    assert len(await mail_sink.until(3)) == 3


async def test_a_message_above_the_size_limit_is_skipped_unread(running: NotifierApp, mail_sink: MailSink) -> None:
    for event in f.directory():
        await send(running, "inbound", event)
    huge = json.loads(encode_event(f.learner(learner_id="L-HUGE")))
    huge["data"]["contact"]["email"] = "x" * 900_000 + "@example.org"
    before = skipped(topic("inbound"), "too_large")
    await send(running, "inbound", json.dumps(huge).encode())
    assert skipped(topic("inbound"), "too_large") == before + 1
    await send(running, "assignments", f.made())
    assert len(await mail_sink.until(3)) == 3


async def test_an_event_with_fields_from_a_newer_matcher_is_processed(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    for event in f.directory():
        await send(running, "inbound", event)
    newer = json.loads(encode_event(f.made()))
    newer["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    newer["data"]["room"] = "Halle 3"
    await send(running, "assignments", json.dumps(newer).encode())
    assert len(await mail_sink.until(3)) == 3


async def test_the_same_event_id_in_two_networks_is_applied_in_both(running: NotifierApp) -> None:
    first = f.network()
    second = first.model_copy(update={"subject": "N-OTHER"})
    assert first.id == second.id
    await send(running, "inbound", first)
    await send(running, "inbound", second)
    assert set(await running.notifier.service.networks()) >= {f.NETWORK, "N-OTHER"}


async def test_inbound_types_the_notifier_does_not_read_are_ignored_not_counted(running: NotifierApp) -> None:
    offer = CapacityOffered(
        **f.stated(),
        subject=f.NETWORK,
        data=CapacityOfferedData(
            offer_id="O-1", firm_id=f.HOST, module_id="M-CNC", first_week="2027-W01", last_week="2027-W20", max_seats=2
        ),
    )
    before = skipped(topic("inbound"), "invalid")
    await send(running, "inbound", offer)
    broken = json.loads(encode_event(offer))
    broken["data"]["max_seats"] = 0
    await send(running, "inbound", json.dumps(broken).encode())
    assert skipped(topic("inbound"), "invalid") == before


async def test_english_speaking_learner_gets_english_message_with_english_calendar_summary(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    from verbund_schemas import Contact, Language

    await send(running, "inbound", f.network())
    await send(running, "inbound", f.host_firm())
    await send(running, "inbound", f.home_firm())
    await send(running, "inbound", f.learner(Contact(name="Lena", email=f.LEARNER_EMAIL, language=Language.EN)))
    await send(running, "assignments", f.made())
    (message,) = [m for m in await mail_sink.until(2) if str(m["To"]) == f.LEARNER_EMAIL]
    assert str(message["Subject"]).startswith("Your next phase: CNC-Fräsen at Spritzguss Meier GmbH")
    assert "8 March 2027 to 4 April 2027" in text_body(message)
    (cal,) = calendar_parts(message)
    (event,) = cal.walk("VEVENT")
    assert str(event["SUMMARY"]) == "CNC-Fräsen at Spritzguss Meier GmbH"


async def test_shortfall_tells_coordinator_reason_competitors_and_suggestion(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    await send(running, "inbound", f.network())
    await send(running, "shortfalls", f.shortfall())
    (message,) = await mail_sink.until(1)
    assert str(message["To"]) == f.COORDINATOR_EMAIL
    assert "Plätze belegt" in str(message["Subject"])
    body = text_body(message)
    assert "L-002, L-003" in body
    assert "1 Platz für M-LASER bei F-HOST, 2027-W20 bis 2027-W24" in body


async def test_withdrawn_learner_is_kept_until_cancellation_is_sent_then_deleted(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    for event in f.directory():
        await send(running, "inbound", event)
    await send(running, "assignments", f.made())
    await mail_sink.until(3)
    await send(running, "inbound", f.withdrawn())
    async with running.notifier.sessions() as session:
        assert await session.get(Party, (f.NETWORK, "learner", f.LEARNER)) is not None
    await send(running, "assignments", f.cancelled())
    messages = await mail_sink.until(6)
    assert any(str(m["Subject"]).startswith("Abgesagt") and str(m["To"]) == f.LEARNER_EMAIL for m in messages)
    await running.notifier.worker.run_once()
    async with running.notifier.sessions() as session:
        assert await session.get(Party, (f.NETWORK, "learner", f.LEARNER)) is None


async def test_app_lifecycle_migrates_starts_scheduler_and_worker_and_stops_them(settings: NotifierSettings) -> None:
    built = build(settings)
    async with TestKafkaBroker(built.broker), TestApp(built.app):
        assert built.notifier.scheduling.scheduler.running
        await send(built, "inbound", f.network())
        assert [j.id for j in built.notifier.scheduling.jobs()] == [f"digest:{f.NETWORK}"]
    assert not built.notifier.scheduling.scheduler.running


def test_asyncapi_document_shows_the_event_contracts_of_every_topic(settings: NotifierSettings) -> None:
    document = asyncapi(settings)
    assert document["info"]["title"] == "Verbund notifier"
    assert set(document["channels"]) == {
        "notifier:assignments",
        "notifier:shortfalls",
        "notifier:directory",
        "notifier:notifications",
        "notifier:parked",
    }
    schemas = json.dumps(document["components"])
    for event_type in (
        "AssignmentMade",
        "PlanPublished",
        "ShortfallDetected",
        "LearnerRegistered",
        "NotificationFailed",
    ):
        assert f'"const": "{event_type}"' in schemas
