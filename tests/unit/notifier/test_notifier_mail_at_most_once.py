"""Mail at most once: handed over only after the recipient was accepted, never sent again once handed over.

Against real local SMTP servers: the demo's mail sink, and an aiosmtpd server scripted per test to refuse a
recipient, refuse the message, or drop the connection in the middle of DATA.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import notifier_factories as f
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from notifier_harness import START, deliveries, eventually, notifier_on_test_broker, notifier_settings
from prometheus_client import REGISTRY
from verbund_notifier.app import NotifierApp
from verbund_notifier.service.delivery import HANDING_OVER, is_uncertain, log_event
from verbund_notifier.settings import NotifierSettings
from verbund_notifier.store.tables import Delivery
from verbund_schemas import encode_event, topic

from verbund.mailsink import MailSink, free_port

NID = "0123456789abcdef0123456789abcdef"


def logged(app: NotifierApp) -> list[dict[str, Any]]:
    return [
        c.args[0] if isinstance(c.args[0], dict) else json.loads(c.args[0])
        for c in app.log_publisher.mock.call_args_list
    ]


def uncertain_count(kind: str) -> float:
    return REGISTRY.get_sample_value("verbund_notifier_uncertain_total", {"channel": "email", "kind": kind}) or 0.0


class ScriptedServer:
    """A real SMTP server on localhost: `rcpt_reply` / `data_reply` answer RCPT / DATA (None: accept),
    `drop_in_data` closes the connection while the message is being received. `status_at_data` keeps the
    delivery's status as the database had it when DATA arrived."""

    def __init__(self, database: Path | None = None) -> None:
        self.database = database
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self.drop_in_data = False
        self.received: list[bytes] = []
        self.status_at_data: list[str] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=free_port())

    @property
    def port(self) -> int:
        return int(self._controller.port)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.database is not None:
            with sqlite3.connect(self.database) as db:
                self.status_at_data += [status for (status,) in db.execute("SELECT status FROM deliveries")]
        if self.drop_in_data:
            assert server.transport is not None
            server.transport.close()
            return "250 never read"
        if self.data_reply is not None:
            return self.data_reply
        self.received.append(envelope.original_content or b"")
        return "250 Message accepted for delivery"

    def __enter__(self) -> ScriptedServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    return tmp_path / "notifier.db"


@pytest.fixture
def scripted(database_file: Path) -> Iterator[ScriptedServer]:
    with ScriptedServer(database_file) as server:
        yield server


def scripted_settings(database_file: Path, server: ScriptedServer, **overrides: Any) -> NotifierSettings:
    values: dict[str, Any] = {"smtp_port": server.port, "retry_max_attempts": 3}
    values.update(overrides)
    settings: NotifierSettings = notifier_settings(f"sqlite+aiosqlite:///{database_file}", MailSink(), **values)
    return settings


async def a_learner_told_of_an_assignment(app: NotifierApp) -> None:
    """Both firms are known but have nobody to message: the learner's is the one message."""
    firms = [f.firm(f.HOST, "Spritzguss Meier GmbH", None), f.firm(f.HOME, "Stammwerk Huber KG", None)]
    for event in [f.network(), *firms, f.learner()]:
        await app.broker.publish(encode_event(event), topic("inbound"), key=f.NETWORK.encode())
    await app.broker.publish(encode_event(f.made()), topic("assignments"), key=f.NETWORK.encode())


async def finished(app: NotifierApp) -> Delivery:
    async def done() -> bool:
        rows = await deliveries(app)
        return len(rows) == 1 and rows[0].status in ("sent", "failed") and rows[0].logged

    await eventually(done, what="the message finished and logged")
    rows: list[Delivery] = await deliveries(app)
    return rows[0]


async def test_a_mail_is_handed_over_after_the_recipient_was_accepted_and_sent_once(
    database_file: Path, scripted: ScriptedServer
) -> None:
    async with notifier_on_test_broker(scripted_settings(database_file, scripted)) as app:
        await a_learner_told_of_an_assignment(app)
        row = await finished(app)
        for _ in range(3):
            await app.notifier.worker.run_once()

        assert row.status == "sent"
        assert row.attempts == 1
        # When the server got DATA, the database already said the message was being handed over.
        assert scripted.status_at_data == [HANDING_OVER]
        assert len(scripted.received) == 1
        assert b"Message-ID: <" in scripted.received[0]
        assert [e["type"] for e in logged(app)] == ["NotificationDelivered"]


async def test_a_refused_recipient_is_an_ordinary_failure_and_the_message_is_never_handed_over(
    database_file: Path, scripted: ScriptedServer
) -> None:
    scripted.rcpt_reply = "550 5.1.1 no such mailbox"
    async with notifier_on_test_broker(scripted_settings(database_file, scripted)) as app:
        await a_learner_told_of_an_assignment(app)
        row = await finished(app)

        assert row.status == "failed"
        assert row.attempts == 1
        assert "refused the recipient: 550" in (row.last_error or "")
        assert not is_uncertain(row.last_error)
        assert scripted.status_at_data == []
        (entry,) = logged(app)
        assert entry["type"] == "NotificationFailed"


async def test_a_recipient_refused_for_now_is_retried_until_the_server_accepts_it(
    database_file: Path, scripted: ScriptedServer
) -> None:
    scripted.rcpt_reply = "451 4.3.0 try again later"
    async with notifier_on_test_broker(scripted_settings(database_file, scripted, retry_max_attempts=8)) as app:
        await a_learner_told_of_an_assignment(app)

        async def retried() -> bool:
            rows = await deliveries(app)
            return len(rows) == 1 and rows[0].attempts >= 2

        await eventually(retried, what="a second attempt after 451")
        assert {r.status for r in await deliveries(app)} == {"pending"}
        scripted.rcpt_reply = None
        row = await finished(app)

        assert row.status == "sent"
        assert len(scripted.received) == 1


async def test_a_message_the_server_refuses_at_data_is_a_definite_failure_not_an_uncertain_one(
    database_file: Path, scripted: ScriptedServer
) -> None:
    scripted.data_reply = "554 5.6.0 message content rejected"
    async with notifier_on_test_broker(scripted_settings(database_file, scripted)) as app:
        await a_learner_told_of_an_assignment(app)
        row = await finished(app)

        assert row.status == "failed"
        assert "did not take the message: 554" in (row.last_error or "")
        assert not is_uncertain(row.last_error)
        assert scripted.status_at_data == [HANDING_OVER]


async def test_a_connection_lost_during_data_ends_uncertain_and_the_message_is_not_sent_again(
    database_file: Path, scripted: ScriptedServer
) -> None:
    scripted.drop_in_data = True
    before = uncertain_count("assignment_made")
    async with notifier_on_test_broker(scripted_settings(database_file, scripted)) as app:
        await a_learner_told_of_an_assignment(app)
        row = await finished(app)
        scripted.drop_in_data = False
        for _ in range(3):
            await app.notifier.worker.run_once()

        assert row.status == "failed"
        assert row.attempts == 1
        error = row.last_error or ""
        assert is_uncertain(error)
        assert "broke while it was receiving this message" in error
        assert f"Message-ID <{row.notification_id}@verbund>" in error
        assert scripted.status_at_data == [HANDING_OVER]
        assert scripted.received == []  # nothing came again once the server was well
        (entry,) = logged(app)
        assert entry["type"] == "NotificationFailed"
        assert entry["data"]["error"] == error
    assert uncertain_count("assignment_made") == before + 1


def handing_over(lease_until: dt.datetime) -> Delivery:
    """A row as a notifier killed during DATA leaves it: content kept, lease taken, hand-over begun."""
    return Delivery(
        notification_id=NID,
        source_event_id="E-1",
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
        attempts=0,
        next_attempt_at=START - dt.timedelta(minutes=5),
        lease_until=lease_until,
        created_at=START - dt.timedelta(minutes=5),
    )


async def already_received(sink: MailSink) -> None:
    """What the mail server had taken before the notifier died: the message, under its Message-ID."""
    message = EmailMessage()
    message["From"] = "verbund@example.org"
    message["To"] = f.LEARNER_EMAIL
    message["Message-ID"] = f"<{NID}@verbund>"
    message["X-Verbund-Notification"] = NID
    message.set_content("Hallo")
    await aiosmtplib.send(message, hostname=sink.host, port=sink.port)


async def test_a_mail_left_handing_over_by_a_killed_notifier_is_not_sent_again_and_is_reported_failed(
    settings: NotifierSettings, mail_sink: MailSink
) -> None:
    await already_received(mail_sink)
    before = uncertain_count("reminder")
    async with notifier_on_test_broker(settings) as app:
        async with app.notifier.sessions.begin() as session:
            row = handing_over(lease_until=START - dt.timedelta(seconds=1))
            row.kind = "reminder"
            session.add(row)
        app.notifier.worker.wake()

        async def reported() -> bool:
            return any(e["type"] == "NotificationFailed" for e in logged(app))

        await eventually(reported, what="NotificationFailed for the message cut off in DATA")
        for _ in range(3):
            await app.notifier.worker.run_once()

        (stored,) = await deliveries(app)
        assert stored.status == "failed"
        assert stored.attempts == 1
        assert stored.body_text == "Hallo"  # kept, as every dead letter, for an operator
        assert stored.last_error == (
            "the notifier stopped while the mail server was receiving this message; it may have arrived; "
            f"not resent so that nobody gets it twice; Message-ID <{NID}@verbund>"
        )
        (entry,) = logged(app)
        assert entry["id"] == f"{NID}:failed"
        assert entry["data"]["error"] == stored.last_error
        assert [str(m["Message-ID"]) for m in mail_sink.messages] == [f"<{NID}@verbund>"]
    assert uncertain_count("reminder") == before + 1


async def test_a_hand_over_still_under_its_lease_is_left_to_the_worker_that_holds_it(
    settings: NotifierSettings, mail_sink: MailSink
) -> None:
    async with notifier_on_test_broker(settings) as app:
        async with app.notifier.sessions.begin() as session:
            session.add(handing_over(lease_until=START + dt.timedelta(minutes=10)))
        for _ in range(3):
            await app.notifier.worker.run_once()

        (stored,) = await deliveries(app)
        assert stored.status == HANDING_OVER
        assert mail_sink.messages == []
        assert logged(app) == []


async def test_the_log_entry_of_a_finished_row_is_the_same_whenever_it_is_published_again(
    settings: NotifierSettings,
) -> None:
    async with notifier_on_test_broker(settings) as app:
        async with app.notifier.sessions.begin() as session:
            session.add(handing_over(lease_until=START - dt.timedelta(seconds=1)))
        await app.notifier.worker.run_once()
        (row,) = await deliveries(app)
        first = encode_event(log_event(row))
        # As after a crash between publishing and marking it published: read back and built again later.
        await app.notifier.worker.run_once()
        (again,) = await deliveries(app)

        assert encode_event(log_event(again)) == first
        assert logged(app) == [json.loads(first)]
