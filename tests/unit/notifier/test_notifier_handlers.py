"""Handlers on FastStream's test broker: directory, messages per recipient, redelivery, rejection."""

from __future__ import annotations

import json
from typing import Any

import notifier_factories as f
from faststream import TestApp
from faststream.kafka import TestKafkaBroker
from notifier_harness import deliveries
from verbund_notifier.app import NotifierApp, asyncapi, build
from verbund_notifier.settings import NotifierSettings
from verbund_notifier.tables import Party
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


async def test_invalid_message_is_published_as_rejected_with_original_bytes_and_reason(
    running: NotifierApp,
) -> None:
    raw = b'{"type": "AssignmentMade", "subject": "N-PLAST", "data": {"learner_id": ""}}'
    await send(running, "assignments", raw)
    await send(running, "assignments", b"\xff not json")
    calls = [as_json(c.args[0]) for c in running.rejected_publisher.mock.call_args_list]
    assert len(calls) == 2
    first = calls[0]["data"]
    assert first["service"] == "notifier"
    assert first["original_text"] == raw.decode()
    assert first["original_type"] == "AssignmentMade"
    assert "does not match its contract" in first["reason"]
    assert any(e.startswith("data.") for e in first["errors"])
    assert "not UTF-8" in calls[1]["data"]["reason"]


async def test_inbound_types_the_notifier_does_not_read_are_ignored_not_rejected(running: NotifierApp) -> None:
    offer = CapacityOffered(
        subject=f.NETWORK,
        data=CapacityOfferedData(
            offer_id="O-1", firm_id=f.HOST, module_id="M-CNC", first_week="2027-W01", last_week="2027-W20", max_seats=2
        ),
    )
    await send(running, "inbound", offer)
    broken = json.loads(encode_event(offer))
    broken["data"]["max_seats"] = 0
    await send(running, "inbound", json.dumps(broken).encode())
    assert running.rejected_publisher.mock.call_count == 0


async def test_english_speaking_learner_gets_english_message_with_english_calendar_summary(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    from verbund_schemas import Contact, Language

    await send(running, "inbound", f.network())
    await send(running, "inbound", f.host_firm())
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
    assert "1 Platz/Plätze für M-LASER bei F-HOST, 2027-W20 bis 2027-W24" in body


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
        "notifier:rejected",
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
