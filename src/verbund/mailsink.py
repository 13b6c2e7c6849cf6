"""A local SMTP server that keeps what it receives: the stack's and the demo's inbox, and a real server for tests."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
import socket
import threading
import time
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from icalendar import Calendar


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        self._sink._received(raw, list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP server on localhost that accepts every message.

    `start()`/`stop()` may be called repeatedly; the port stays the same, so a stop is an outage the
    sender sees and a start is the recovery. Messages are kept in memory (unless `in_memory` is off, for a
    sink that runs for days) and, with `directory`, written there as .eml files, numbered on from the files
    already there.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        directory: Path | None = None,
        *,
        in_memory: bool = True,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.directory = directory
        self.in_memory = in_memory
        self._raw: list[tuple[bytes, list[str]]] = []
        self._count = 0
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> MailSink:
        if self._controller is None:
            if self.directory is not None:
                self.directory.mkdir(parents=True, exist_ok=True)
                # A restarted sink must not overwrite the messages an earlier run of it kept.
                self._count = max(self._count, len(list(self.directory.glob("*.eml"))))
            controller = Controller(_Handler(self), hostname=self.host, port=self.port)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _received(self, raw: bytes, recipients: list[str]) -> None:
        with self._lock:
            if self.in_memory:
                self._raw.append((raw, recipients))
            self._count += 1
            count = self._count
        if self.directory is not None:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
            target = self.directory / f"{count:05d}-{stamp}.eml"
            # Written aside and renamed: a reader of the directory never sees half a message.
            partial = target.with_suffix(".part")
            partial.write_bytes(raw)
            partial.replace(target)

    @property
    def received(self) -> int:
        """How many messages arrived so far (without parsing them)."""
        with self._lock:
            return len(self._raw) if self.in_memory else self._count

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message received so far, parsed, oldest first."""
        with self._lock:
            raws = [raw for raw, _ in self._raw]
        parser = BytesParser(policy=default_policy)
        return [parser.parsebytes(raw) for raw in raws]

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m.get("To", "")).lower()]

    def clear(self) -> None:
        with self._lock:
            self._raw.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Block until at least `count` messages arrived (or the timeout passed); returns them all."""
        deadline = time.monotonic() + timeout
        while len(self._raw) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages

    async def until(self, count: int, within: float = 10.0) -> list[EmailMessage]:
        """`wait_for` for async callers: yields to the event loop while waiting."""
        for _ in range(max(1, int(within / 0.05))):
            if len(self._raw) >= count:
                break
            await asyncio.sleep(0.05)
        return self.messages


def calendar_parts(message: EmailMessage) -> list[Calendar]:
    """The iCalendar attachments of a message, parsed."""
    found = []
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found.append(Calendar.from_ical(payload))
    return found


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    content: Any = part.get_content()
    return str(content)


def describe(message: EmailMessage, lines: int = 12) -> str:
    """A short readable summary: sender, recipient, subject, the start of the text, and each calendar entry."""
    out = [
        f"From:    {message.get('From', '')}",
        f"To:      {message.get('To', '')}",
        f"Subject: {message.get('Subject', '')}",
    ]
    body = [line for line in text_body(message).splitlines() if line.strip()]
    out += ["  " + line.strip() for line in body[:lines]]
    if len(body) > lines:
        out.append("  …")
    for cal in calendar_parts(message):
        method = str(cal.get("METHOD", ""))
        for event in cal.walk("VEVENT"):
            start = event.decoded("DTSTART")
            end = event.decoded("DTEND")
            last = end - dt.timedelta(days=1) if isinstance(end, dt.date) else end
            out.append(
                f"  [calendar {method} seq {event.get('SEQUENCE', 0)} {event.get('STATUS', '')}] "
                f"{event.get('SUMMARY', '')}: {start} – {last}"
                + (f" @ {event.get('LOCATION')}" if event.get("LOCATION") else "")
                + f" (uid {event.get('UID')})"
            )
    return "\n".join(out)


def kept_messages(directory: Path) -> list[Path]:
    """The .eml files a sink wrote into `directory`, oldest first (their names are numbered)."""
    return sorted(directory.glob("*.eml")) if directory.is_dir() else []


def read_message(path: Path) -> EmailMessage:
    parsed: EmailMessage = BytesParser(policy=default_policy).parsebytes(path.read_bytes())
    return parsed


def serve(host: str, port: int, directory: Path) -> None:
    """Run a sink until SIGTERM or SIGINT, keeping messages only as files: `verbund stack up` starts it so."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    with MailSink(host, port, directory, in_memory=False) as sink:
        print(f"mail sink on {sink.host}:{sink.port}, messages in {directory}", flush=True)
        stopped.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m verbund.mailsink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", type=Path, required=True, help="where each message is kept as an .eml file")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.directory)


if __name__ == "__main__":
    main()
