"""The demo's SMTP sink: receives real SMTP, keeps .eml files, and summarises a message with its calendar entry."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
from verbund_notifier.domain.ics import PhaseEntry, phase_calendar
from verbund_schemas import Language

from verbund.mailsink import MailSink, describe


async def test_sink_receives_over_smtp_stores_eml_and_describes_the_calendar_entry(tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"] = "verbund@example.org"
    message["To"] = "lena@example.org"
    message["Subject"] = "Ihr nächster Einsatz"
    message.set_content("Hallo Lena,\n\nIhr Einsatz steht fest.\n")
    ics = phase_calendar(
        PhaseEntry("A-1", "CNC-Fräsen", "Meier GmbH", dt.date(2027, 3, 8), dt.date(2027, 4, 4), "Ulm", "d", 1),
        cancelled=False,
        language=Language.DE,
        organizer="verbund@example.org",
        uid_domain="example.org",
        stamp=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )
    message.add_attachment(ics.encode(), maintype="text", subtype="calendar", filename="a.ics")
    with MailSink(directory=tmp_path / "mail") as sink:
        await aiosmtplib.send(message, hostname=sink.host, port=sink.port, start_tls=False)
        (received,) = await sink.until(1)
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    summary = describe(received)
    assert "Subject: Ihr nächster Einsatz" in summary
    assert "Ihr Einsatz steht fest." in summary
    assert "[calendar REQUEST seq 1 CONFIRMED] CNC-Fräsen bei Meier GmbH: 2027-03-08 – 2027-04-04 @ Ulm" in summary
