"""The local mail sink's messages as a page, so what the notifier sent is read where coordinators already are."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import parsedate_to_datetime
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# The newest ones; a sink that ran for weeks holds more than a page should.
SHOWN = 200

WORDS: dict[str, dict[str, str]] = {
    "heading": {"de": "E-Mails im lokalen Mail-Sink", "en": "Mail caught by the local mail sink"},
    "intro": {
        "de": "Was der Notifier verschickt hat, neueste zuerst; nichts davon hat diesen Rechner verlassen.",
        "en": "What the notifier sent, newest first; none of it left this machine.",
    },
    "none": {"de": "Noch keine E-Mails.", "en": "No mail yet."},
    "shown": {"de": "Die neuesten {shown} von {total}.", "en": "The newest {shown} of {total}."},
    "to": {"de": "An", "en": "To"},
    "no_sink": {
        "de": "Diese Konsole liest keinen Mail-Sink (VERBUND_CONSOLE_MAIL_SINK_DIR ist nicht gesetzt).",
        "en": "This console reads no mail sink (VERBUND_CONSOLE_MAIL_SINK_DIR is not set).",
    },
}


class MailSinkSettings(BaseSettings):
    """Set only where a development mail sink runs (`verbund stack up` sets it); production has none."""

    model_config = SettingsConfigDict(env_prefix="VERBUND_CONSOLE_", extra="ignore")

    mail_sink_dir: Path | None = Field(
        default=None, description="Folder where the local mail sink keeps each message as an .eml file; unset: no page"
    )


@dataclass(frozen=True)
class CaughtMail:
    to: str
    subject: str
    time: str
    body: str


def _header(message: Message, name: str) -> str:
    """A header's text as a reader sees it: unfolded, encoded words (umlauts in names and subjects) decoded."""
    value = message.get(name)
    if value is None:
        return ""
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", str(value))
    return str(make_header(decode_header(unfolded)))


def _time(message: Message, path: Path) -> str:
    try:
        when = parsedate_to_datetime(_header(message, "Date"))
    except (TypeError, ValueError):
        when = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _text(message: Message) -> str:
    """The plain-text body, as `EmailMessage.get_body(("plain",))` finds it and `get_content()` decodes it: the
    first text/plain part that is not an attachment, its transfer encoding undone, in its own charset."""
    for part in message.walk():
        if part.get_content_type() == "text/plain" and part.get_content_disposition() != "attachment":
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                return ""
            charset = part.get_content_charset() or "ascii"
            try:
                return payload.decode(charset, errors="replace")
            except LookupError:  # a charset Python does not know
                return payload.decode("utf-8", errors="replace")
    return ""


# A parsed message by its file, with the file's modification time and size when it was parsed.
Parsed = dict[Path, tuple[tuple[int, int], CaughtMail]]


def caught_mail(directory: Path, limit: int = SHOWN, parsed: Parsed | None = None) -> tuple[list[CaughtMail], int]:
    """The newest `limit` messages in the sink's folder, newest first (the sink numbers its files), and how many.

    `parsed`: the messages an earlier call parsed, reused while their file is unchanged (parsing 200 messages
    took 400 ms of each page view), and left holding this call's ones."""
    files = sorted(directory.glob("*.eml")) if directory.is_dir() else []
    # The compat32 policy: the modern one's header objects made parsing 200 messages take 170-380 ms, the first
    # view of the page after a start; what the page shows is decoded as that policy would (_header, _text).
    parser = BytesParser(policy=compat32)
    earlier = dict(parsed or {})
    kept: Parsed = {}
    shown = []
    for path in reversed(files[-limit:]):
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if path in earlier and earlier[path][0] == stamp:
                mail = earlier[path][1]
            else:
                message = parser.parsebytes(path.read_bytes())
                mail = CaughtMail(
                    to=_header(message, "To"),
                    subject=_header(message, "Subject"),
                    time=_time(message, path),
                    body=_text(message),
                )
        except OSError:  # removed meanwhile (`verbund stack down`)
            continue
        kept[path] = (stamp, mail)
        shown.append(mail)
    if parsed is not None:
        parsed.clear()
        parsed.update(kept)
    return shown, len(files)


Page = Callable[[Request], Awaitable[Response]]


def mail_routes(
    render: Callable[..., Response], signed_in: Callable[[Page], Page], settings: MailSinkSettings | None = None
) -> list[Route]:
    """`/mail` for a signed-in coordinator; answers 404 where no mail sink is configured."""
    folder = (settings or MailSinkSettings()).mail_sink_dir
    parsed: Parsed = {}  # this app's, at most the messages one page shows
    parsing = asyncio.Lock()  # one page view at a time reads and refills it

    @signed_in
    async def mail_page(request: Request) -> Response:
        if folder is None:
            return render(request, "mail.html", status_code=404, configured=False, messages=[], total=0, words=WORDS)
        async with parsing:
            messages, total = await asyncio.to_thread(caught_mail, folder, SHOWN, parsed)
        return render(request, "mail.html", configured=True, messages=messages, total=total, words=WORDS)

    return [Route("/mail", mail_page)]
