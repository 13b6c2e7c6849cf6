"""The stack's mail sink keeps each message as a file, and the console's mail page reads them from there."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

from verbund_console.web.mail import caught_mail

from verbund.mailsink import MailSink


def _send(port: int, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = "Verbund <verbund@localhost>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Mon, 04 Jan 2027 09:15:30 +0000"
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(message)


def test_messages_caught_by_the_sink_are_listed_newest_first_with_subject_to_time_and_text(tmp_path: Path) -> None:
    with MailSink(directory=tmp_path, in_memory=False) as sink:
        _send(sink.port, "lea@example.org", "Dein Einsatzplan", "Hallo Lea,\nab 2027-W10 bist du bei RKT.")
        _send(sink.port, "tim@example.org", "Your rotation", "Hello Tim")
        assert sink.received == 2

    shown, total = caught_mail(tmp_path)

    assert total == 2
    assert [(m.to, m.subject) for m in shown] == [
        ("tim@example.org", "Your rotation"),
        ("lea@example.org", "Dein Einsatzplan"),
    ]
    assert shown[1].time == "2027-01-04 09:15 UTC"
    assert "ab 2027-W10 bist du bei RKT." in shown[1].body


def test_a_restarted_sink_keeps_the_messages_an_earlier_one_wrote(tmp_path: Path) -> None:
    with MailSink(directory=tmp_path, in_memory=False) as first:
        _send(first.port, "lea@example.org", "first", "one")
    with MailSink(directory=tmp_path, in_memory=False) as second:
        _send(second.port, "lea@example.org", "second", "two")

    shown, total = caught_mail(tmp_path)

    assert total == 2
    assert [m.subject for m in shown] == ["second", "first"]


def test_the_page_shows_only_the_newest_when_there_are_more(tmp_path: Path) -> None:
    with MailSink(directory=tmp_path, in_memory=False) as sink:
        for n in range(3):
            _send(sink.port, "lea@example.org", f"message {n}", "text")

    shown, total = caught_mail(tmp_path, limit=2)

    assert total == 3
    assert [m.subject for m in shown] == ["message 2", "message 1"]
