"""The mail page parses a caught message once and again only when its file changed, and reads it as it was sent."""

from __future__ import annotations

import os
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

from verbund_console.web.mail import Parsed, caught_mail


def _write(path: Path, subject: str) -> None:
    message = EmailMessage()
    message["To"] = "lea@example.org"
    message["Subject"] = subject
    message["Date"] = "Mon, 04 Jan 2027 09:15:30 +0000"
    message.set_content("Hallo Lea")
    path.write_bytes(bytes(message))


def test_an_unchanged_message_is_not_parsed_again_and_a_changed_one_is(tmp_path: Path) -> None:
    _write(tmp_path / "000001.eml", "Dein Einsatzplan")
    _write(tmp_path / "000002.eml", "Version 1")
    parsed: Parsed = {}

    first, _ = caught_mail(tmp_path, parsed=parsed)
    _write(tmp_path / "000002.eml", "Version 2, a longer subject")
    os.utime(tmp_path / "000002.eml", ns=(10**18, 10**18))
    second, total = caught_mail(tmp_path, parsed=parsed)
    (tmp_path / "000001.eml").unlink()
    third, _ = caught_mail(tmp_path, parsed=parsed)

    assert [m.subject for m in first] == ["Version 1", "Dein Einsatzplan"]
    assert [m.subject for m in second] == ["Version 2, a longer subject", "Dein Einsatzplan"]
    assert second[1] is first[1] and total == 2
    assert [m.subject for m in third] == ["Version 2, a longer subject"]
    assert set(parsed) == {tmp_path / "000002.eml"}


def test_a_message_as_the_notifier_sends_it_reads_as_the_modern_email_policy_reads_it(tmp_path: Path) -> None:
    message = EmailMessage()
    message["To"] = "Jürgen Müller-Lüdenscheidt <juergen@example.org>"
    message["Subject"] = "Dein Einsatzplan für das Ausbildungsjahr 2027/28: Fräsen bei der Müller & Söhne GmbH, " * 2
    message["Date"] = "Mon, 04 Jan 2027 09:15:30 +0100"
    message.set_content("Hallo Jürgen,\n\ndein Einsatz beginnt am 08.03.2027 – viel Erfolg!\n", cte="quoted-printable")
    message.add_alternative("<p>Hallo Jürgen</p>", subtype="html")
    message.add_attachment(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text", "plain", filename="plan.txt")
    (tmp_path / "000001.eml").write_bytes(bytes(message))
    only_html = EmailMessage()
    only_html["Subject"] = "Only HTML in this message, and a subject long enough to be folded over lines " * 2
    only_html.set_content("<p>x</p>", subtype="html")
    (tmp_path / "000002.eml").write_bytes(bytes(only_html))

    (html_mail, mail), total = caught_mail(tmp_path)

    reread = BytesParser(policy=default).parsebytes((tmp_path / "000001.eml").read_bytes())
    assert isinstance(reread, EmailMessage)
    body = reread.get_body(preferencelist=("plain",))
    assert body is not None
    assert (mail.to, mail.subject, mail.body) == (str(reread["To"]), str(reread["Subject"]), body.get_content())
    assert mail.to == "Jürgen Müller-Lüdenscheidt <juergen@example.org>"
    assert mail.body.startswith("Hallo Jürgen,\n\ndein Einsatz beginnt am 08.03.2027 – viel Erfolg!")
    assert mail.time == "2027-01-04 08:15 UTC"
    assert b"\n " in (tmp_path / "000002.eml").read_bytes(), "the subject is folded in the file"
    assert (html_mail.subject, html_mail.body, total) == (str(only_html["Subject"]), "", 2)
