"""Running the notifier in tests: settings for local servers, a real HTTP receiver, start/stop, waiting."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from faststream.kafka import TestKafkaBroker
from notifier_factories import NETWORK
from sqlalchemy import select
from verbund_notifier.app import NotifierApp, build
from verbund_notifier.clock import Clock
from verbund_notifier.settings import NotifierSettings
from verbund_notifier.store.tables import Delivery

from verbund.mailsink import MailSink

START = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
WEBHOOK_SECRET = "test-shared-secret"


@dataclass
class WebhookServer:
    """A real HTTP server on localhost recording each POST; `status` is what it answers."""

    status: int = 204
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]

    def start(self) -> WebhookServer:
        record = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                record.requests.append((dict(self.headers.items()), body))
                self.send_response(record.status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def notifier_settings(database_url: str, sink: MailSink, **overrides: Any) -> NotifierSettings:
    values: dict[str, Any] = {
        "notifier_database_url": database_url,
        "smtp_host": sink.host,
        "smtp_port": sink.port,
        "smtp_starttls": False,
        "smtp_from": "Verbund <verbund@example.org>",
        "webhook_secret": WEBHOOK_SECRET,
        "retry_base_seconds": 0.05,
        "retry_max_seconds": 0.2,
        "delivery_poll_seconds": 0.05,
        "smtp_timeout_seconds": 5,
        # The test broker hands over each event in order; nothing can overtake a registration.
        # Off unless a test asks for it: parallel test runs must not compete for the default port.
        "health_port": 0,
    }
    values.update(overrides)
    return NotifierSettings(**values)


@asynccontextmanager
async def notifier_on_test_broker(settings: NotifierSettings, clock: Clock | None = None) -> AsyncIterator[NotifierApp]:
    """The notifier app on FastStream's in-memory broker, with migrations, scheduler and delivery worker."""
    built = build(settings, clock=clock or Clock(START))
    async with TestKafkaBroker(built.broker):
        await built.notifier.prepare()
        await built.notifier.start_worker()
        try:
            yield built
        finally:
            await built.notifier.stop()


def free_port() -> int:
    """A port nothing listens on right now (the health endpoint treats 0 as off, so tests pick one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def http_get(port: int, path: str) -> tuple[int, str]:
    """GET http://127.0.0.1:port/path with the standard library; status and body, errors included."""

    def get() -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    return await asyncio.to_thread(get)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0, what: str = "condition") -> None:
    """Poll `check` until it holds; fail saying what did not happen."""
    for _ in range(int(within / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {within} s")


async def deliveries(app: NotifierApp) -> list[Delivery]:
    async with app.notifier.sessions() as session:
        rows = await session.execute(select(Delivery).order_by(Delivery.recipient))  # type: ignore[arg-type]
        return list(rows.scalars().all())


def stored_delivery(
    nid: str,
    source: str,
    status: str,
    finished: dt.datetime | None,
    logged: bool | None = None,
    due: dt.datetime = START - dt.timedelta(days=400),
) -> Delivery:
    """A delivery row as the worker leaves it (finished or not), for tests of what is kept and what goes."""
    return Delivery(
        notification_id=nid,
        source_event_id=source,
        source_event_type="AssignmentMade",
        network_id=NETWORK,
        recipient=f"learner:{nid}",
        channel="email",
        kind="assignment_made",
        language="de",
        status=status,
        attempts=1,
        next_attempt_at=due,
        created_at=START - dt.timedelta(days=400),
        finished_at=finished,
        logged=finished is not None if logged is None else logged,
    )
