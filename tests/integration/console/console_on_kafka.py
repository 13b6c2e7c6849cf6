"""A console built in the test's process on the real broker, and a signed-in HTTP client of its pages."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiokafka import ConsumerRecord
from verbund_console.app import Console, build
from verbund_console.settings import ConsoleSettings
from verbund_console.store.database import migrate
from verbund_matcher.runner import run_matcher
from verbund_matcher.settings import MatcherSettings
from verbund_runtime.keyring import HttpKeyring
from verbund_schemas import Envelope, load_event, topic, week_monday, week_sunday

from verbund.publish import send_events
from verbund.service_metrics import free_port

PASSWORD = "correct horse battery staple"
TIME = "2027-01-04T08:00:00Z"


def console_settings(kafka_bootstrap: str, folder: Path, **overrides: Any) -> ConsoleSettings:
    """A console of its own: its database in `folder`, consuming nothing (the test feeds its ingest)."""
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{folder / 'console.db'}",
        "consume": False,
        "session_secret": "s" * 40,
        "kafka_bootstrap_servers": kafka_bootstrap,
    }
    return ConsoleSettings(**{**values, **overrides})


def key_serving_matcher(kafka_bootstrap: str, folder: Path, token: str, **overrides: Any) -> MatcherSettings:
    """A matcher of its own serving the key endpoint on a free port to `token`; database and master key in `folder`.
    The endpoint's address is `http://127.0.0.1:{health_port}`."""
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{folder / 'matcher.db'}",
        "kafka_bootstrap_servers": kafka_bootstrap,
        "group_id": f"matcher-test-{uuid.uuid4().hex[:8]}",
        # Started before the test produces: a new group must not read earlier tests' events.
        "auto_offset_reset": "latest",
        "health_port": free_port(),
        "key_service_token": token,
        "master_key_file": str(folder / "master.key"),
        "full_reoptimise_interval": 0,
        "log_json": False,
    }
    return MatcherSettings(**{**values, **overrides})


@asynccontextmanager
async def console_on_kafka(settings: ConsoleSettings) -> AsyncIterator[Console]:
    """The console with a migrated database; its producer and database closed afterwards."""
    await migrate(settings.database_url)
    console = build(settings)
    try:
        yield console
    finally:
        await console.broker.stop()
        await console.engine.dispose()


def client_of(console: Console) -> httpx.AsyncClient:
    assert console.web is not None
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=console.web), base_url="http://console.test")


def csrf_in(page: str) -> str:
    """The CSRF token of the page's form."""
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page[:2000]
    return found.group(1)


async def csrf_of(client: httpx.AsyncClient, path: str = "/signin") -> str:
    return csrf_in((await client.get(path, follow_redirects=True)).text)


async def sign_in(client: httpx.AsyncClient, email: str) -> httpx.Response:
    token = await csrf_of(client)
    return await client.post("/signin", data={"csrf": token, "email": email, "password": PASSWORD, "next": "/"})


def assignment_made(
    network: str, learner: str, name: str, module: str, firm: str, start: str, end: str, module_name: str = ""
) -> Envelope:
    data = {
        "assignment_id": f"{network}:{learner}:{module}",
        "learner_id": learner,
        "learner_name": name,
        "module_id": module,
        "module_name": module_name or f"Module {module}",
        "firm_id": firm,
        "firm_name": f"Firm {firm}",
        "start_week": start,
        "end_week": end,
        "start_date": week_monday(start).isoformat(),
        "end_date": week_sunday(end).isoformat(),
        "plan_version": 1,
    }
    body = {"type": "AssignmentMade", "id": f"m-{uuid.uuid4().hex}", "time": TIME, "subject": network, "data": data}
    return load_event(body)


COORDINATOR, ELSEWHERE = "coord@example.org", "elsewhere@example.org"


def inbound_record(network: str, kind: str, data: dict[str, object]) -> dict[str, object]:
    """An inbound event of `network` as a firm's system would produce it, one of its kind in the network."""
    return {"type": kind, "id": f"{network}-{kind}", "time": "2030-11-04T08:00:00Z", "subject": network, "data": data}


@dataclass(frozen=True)
class ConsoleBesideKeys:
    """A console and the keyring of the matcher whose key endpoint it reads."""

    console: Console
    keyring: HttpKeyring


@asynccontextmanager
async def console_beside_a_key_serving_matcher(
    kafka_bootstrap: str, folder: Path, token: str, records: list[dict[str, object]], network: str, other: str
) -> AsyncIterator[ConsoleBesideKeys]:
    """A matcher serving its key endpoint to `token`, running with `records` sent to it sealed through that endpoint,
    and a console reading the same endpoint where COORDINATOR coordinates `network` and ELSEWHERE only `other`."""
    matcher = key_serving_matcher(kafka_bootstrap, folder, token, batch_timeout_ms=100, relay_poll_seconds=0.1)
    url = f"http://127.0.0.1:{matcher.health_port}"
    settings = console_settings(kafka_bootstrap, folder, key_service_url=url, key_service_token=token)
    async with run_matcher(matcher) as running:
        await running.until_consuming()
        keyring = HttpKeyring(url, token)
        try:
            await send_events([load_event(e) for e in records], kafka_bootstrap, topic("inbound"), keyring)
            async with console_on_kafka(settings) as console:
                await console.accounts.add_user(COORDINATOR, PASSWORD, [network])
                await console.accounts.add_user(ELSEWHERE, PASSWORD, [other])
                yield ConsoleBesideKeys(console, keyring)
        finally:
            await keyring.close()


def requests_of(records: list[ConsumerRecord[bytes, bytes]], network: str, kind: str) -> list[dict[str, object]]:
    """The `kind` events of `network` among the records, as JSON."""
    found = [json.loads(r.value or b"{}") for r in records if r.key == network.encode()]
    return [e for e in found if e.get("type") == kind]


def sender_of(request: dict[str, object]) -> tuple[object, object, object]:
    """Role, principal and network of the principal the event is stamped with."""
    sender = request["authcontext"]
    assert isinstance(sender, dict)
    return sender["role"], sender["principalid"], sender["network_id"]
