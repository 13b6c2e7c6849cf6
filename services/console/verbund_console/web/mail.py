"""The local mail sink's messages as a page, so what the notifier sent is read where coordinators already are."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

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


def _time(message: EmailMessage, path: Path) -> str:
    try:
        when = parsedate_to_datetime(str(message["Date"]))
    except (TypeError, ValueError):
        when = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    content: Any = part.get_content()
    return str(content)


# A parsed message by its file, with the file's modification time and size when it was parsed.
Parsed = dict[Path, tuple[tuple[int, int], CaughtMail]]


def caught_mail(directory: Path, limit: int = SHOWN, parsed: Parsed | None = None) -> tuple[list[CaughtMail], int]:
    """The newest `limit` messages in the sink's folder, newest first (the sink numbers its files), and how many.

    `parsed`: the messages an earlier call parsed, reused while their file is unchanged (parsing 200 messages
    took 400 ms of each page view), and left holding this call's ones."""
    files = sorted(directory.glob("*.eml")) if directory.is_dir() else []
    parser = BytesParser(policy=default_policy)
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
                assert isinstance(message, EmailMessage)
                mail = CaughtMail(
                    to=str(message.get("To", "")),
                    subject=str(message.get("Subject", "")),
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
