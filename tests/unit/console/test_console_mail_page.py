"""The mail page parses a caught message once and again only when its file changed."""

from __future__ import annotations

import os
from email.message import EmailMessage
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
