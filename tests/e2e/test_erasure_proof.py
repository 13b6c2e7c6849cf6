"""The proof of erasure: after `verbund learner erase`, the learner's name and address are nowhere in clear text.

Matcher, notifier and console run as operators run them, with the key endpoint on; a network with two learners
is sent with `verbund publish`, planned and mailed; one learner is erased with `verbund learner erase`. Then
every topic is read raw from offset 0, every table of every service's database is dumped, and every log line is
read: the erased learner's name and address appear in none of them, in any form, while the other learner's plan
and messages are intact.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from kafka_tools import consume
from service_processes import ServiceProcess
from verbund_runtime.learner_export import read_topic
from verbund_schemas import load_topics, topic

from verbund.mailsink import MailSink
from verbund.stack.ports import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(420)]

VERBUND = str(Path(sys.executable).parent / "verbund")
TOKEN = "an-e2e-token-for-the-matchers-key-endpoint"
STAYING, LEAVING = "L-EP-1", "L-EP-2"
NAMES = {STAYING: "Wendelin Sauerbrey", LEAVING: "Gesine Pfannenstiel-Kükelhaus"}


def email_of(learner: str, network: str) -> str:
    return f"{learner.lower()}-{network}@example.org"


def traces(network: str) -> list[str]:
    """The erased learner's name, its distinctive parts and address, in the forms text can hold them."""
    name = NAMES[LEAVING]
    values = [name, *(w for w in name.replace("-", " ").split() if len(w) >= 5), email_of(LEAVING, network)]
    forms = set()
    for value in values:
        forms |= {
            value,
            urllib.parse.quote(value),
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
        }
    return sorted(f.casefold() for f in forms)


def found_in(text: str, needles: list[str]) -> list[str]:
    folded = text.casefold()
    return [n for n in needles if n in folded]


def records(network: str) -> list[dict[str, Any]]:
    def event(kind: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"type": kind, "subject": network, "id": f"{kind}-{uuid.uuid4().hex[:8]}", "data": data}

    def learner(learner_id: str, first: str) -> dict[str, Any]:
        name = NAMES[learner_id]
        contact = {"name": name, "email": email_of(learner_id, network)}
        window = {"first_week": first, "last_week": "2031-W30"}
        return event("LearnerRegistered", {"learner_id": learner_id, "name": name, "contact": contact,
                                           "curriculum_id": "C-EP", "home_firm_id": "F-EP", **window})  # fmt: skip

    return [
        event("NetworkConfigured", {"name": f"Verbund {network}", "notice_period_weeks": 0}),
        event(
            "CurriculumPublished",
            {
                "curriculum_id": "C-EP",
                "name": "Kunststoff",
                "modules": [{"module_id": "M-EP", "name": "Spritzgießen", "duration_weeks": 4}],
                "groups": [{"group_id": "G", "name": "Pflicht", "module_ids": ["M-EP"], "required": 1}],
            },
        ),
        event(
            "FirmRegistered",
            {
                "firm_id": "F-EP",
                "name": "Kunststoffwerk Eschweiler",
                "location": {"city": "Eschweiler"},
                "training_contact": {"name": "Ausbildung", "email": f"ausbildung-{network}@example.org"},
            },
        ),
        event(
            "CapacityOffered",
            {
                "offer_id": "O-EP",
                "firm_id": "F-EP",
                "module_id": "M-EP",
                "first_week": "2031-W02",
                "last_week": "2031-W30",
                "max_seats": 2,
            },
        ),
        learner(STAYING, "2031-W02"),
        learner(LEAVING, "2031-W04"),
    ]


def start(name: str, module: str, env: dict[str, str], folder: Path, health_port: int) -> ServiceProcess:
    log_path = folder / f"{name}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", module], env={**_environ(), **env}, stdout=log_file, stderr=subprocess.STDOUT
    )
    return ServiceProcess(name, process, log_path, log_file, health_port)


def _environ() -> dict[str, str]:
    return dict(os.environ)


async def until_ready(service: ServiceProcess) -> None:
    async with asyncio.timeout(120):
        while (await asyncio.to_thread(service.readiness))[0] != 200:
            service.assert_running()
            await asyncio.sleep(0.3)


def dump(database: Path) -> str:
    """Every row of every table of an SQLite database file, as text."""
    with sqlite3.connect(database) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(f"{t}: {row!r}" for t in tables for row in db.execute(f'SELECT * FROM "{t}"'))


def events_of(found: list[ConsumerRecord[bytes, bytes]], network: str) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in found if r.key == network.encode() and r.value]


async def wait_for(
    bootstrap: str, role: str, network: str, holds: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    found = await consume(bootstrap, topic(role), until=lambda rs: holds(events_of(rs, network)), timeout=120)
    return events_of(found, network)


async def verbund(*args: str, env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        VERBUND, *args, env={**_environ(), **env}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()
    return out.decode()


async def test_after_erasure_the_learners_name_and_address_are_on_no_topic_in_no_table_and_in_no_log(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    network = f"e2e-erase-{uuid.uuid4().hex[:8]}"
    run = uuid.uuid4().hex[:8]
    ports = {name: free_port() for name in ("matcher", "notifier", "console")}
    key_service = f"http://127.0.0.1:{ports['matcher']}"
    keys = {"VERBUND_KEY_SERVICE_URL": key_service, "VERBUND_KEY_SERVICE_TOKEN": TOKEN}
    shared = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "VERBUND_LOG_JSON": "false", "VERBUND_LOG_LEVEL": "DEBUG"}
    databases = {name: tmp_path / f"{name}.db" for name in ("matcher", "notifier", "console")}
    with MailSink() as sink:
        running = [
            start(
                "matcher",
                "verbund_matcher",
                {
                    **shared,
                    "VERBUND_KEY_SERVICE_TOKEN": TOKEN,
                    "VERBUND_MASTER_KEY_FILE": str(tmp_path / "master.key"),
                    "VERBUND_DATABASE_URL": f"sqlite+aiosqlite:///{databases['matcher']}",
                    "VERBUND_GROUP_ID": f"ep-matcher-{run}",
                    "VERBUND_HEALTH_PORT": str(ports["matcher"]),
                    "VERBUND_SOLVER_WORKERS": "1",
                    "VERBUND_FULL_REOPTIMISE_INTERVAL": "0",
                    "VERBUND_BATCH_TIMEOUT_MS": "100",
                    "VERBUND_RELAY_POLL_SECONDS": "0.2",
                    "VERBUND_AUTO_OFFSET_RESET": "earliest",
                },
                tmp_path,
                ports["matcher"],
            ),
            start(
                "notifier",
                "verbund_notifier",
                {
                    **shared,
                    **keys,
                    "VERBUND_NOTIFIER_DATABASE_URL": f"sqlite+aiosqlite:///{databases['notifier']}",
                    "VERBUND_NOTIFIER_GROUP_ID": f"ep-notifier-{run}",
                    "VERBUND_SMTP_HOST": "127.0.0.1",
                    "VERBUND_SMTP_PORT": str(sink.port),
                    "VERBUND_SMTP_STARTTLS": "false",
                    "VERBUND_DELIVERY_POLL_SECONDS": "0.2",
                    "VERBUND_HEALTH_PORT": str(ports["notifier"]),
                },
                tmp_path,
                ports["notifier"],
            ),
            start(
                "console",
                "verbund_console",
                {
                    **shared,
                    **keys,
                    "VERBUND_CONSOLE_DATABASE_URL": f"sqlite+aiosqlite:///{databases['console']}",
                    "VERBUND_CONSOLE_GROUP_ID": f"ep-console-{run}",
                    "VERBUND_CONSOLE_PORT": str(free_port()),
                    "VERBUND_CONSOLE_SESSION_SECRET": "s" * 48,
                    "VERBUND_CONSOLE_HEALTH_PORT": str(ports["console"]),
                },
                tmp_path,
                ports["console"],
            ),
        ]
        try:
            for service in running:
                await until_ready(service)
            scenario = tmp_path / "network.jsonl"
            await asyncio.to_thread(scenario.write_text, "\n".join(json.dumps(r) for r in records(network)) + "\n")
            env = {**shared, **keys}
            await verbund("publish", str(scenario), "--bootstrap", kafka_bootstrap, env=env)

            def both_placed(events: list[dict[str, Any]]) -> bool:
                return {e["data"]["learner_id"] for e in events if e["type"] == "AssignmentMade"} >= {STAYING, LEAVING}

            await wait_for(kafka_bootstrap, "assignments", network, both_placed)
            await sink.until(4, within=90)  # each learner and the firm about each
            assert sink.messages_to(email_of(LEAVING, network)) and sink.messages_to(email_of(STAYING, network))
            held = "\n".join([await asyncio.to_thread(dump, databases[name]) for name in ("notifier", "console")])
            assert found_in(held, traces(network)), "before the erasure the services hold the learner's data"

            out = await verbund(
                "learner", "erase", LEAVING, "--network", network, "--bootstrap", kafka_bootstrap, env=env
            )
            assert "key is destroyed" in out

            def cancelled(events: list[dict[str, Any]]) -> bool:
                return any(e["type"] == "AssignmentCancelled" and e["data"]["learner_id"] == LEAVING for e in events)

            await wait_for(kafka_bootstrap, "assignments", network, cancelled)

            def erased_everywhere() -> bool:
                return "erasures: ('" in dump(databases["notifier"]) and (
                    f"('{network}', '{LEAVING}', '{LEAVING}'" in dump(databases["console"])
                )

            async with asyncio.timeout(90):
                while not await asyncio.to_thread(erased_everywhere):  # noqa: ASYNC110 - another process's database
                    await asyncio.sleep(0.5)
            await asyncio.sleep(2)  # the consumers log what they did
        finally:
            for service in running:
                service.stop()

    needles = traces(network)
    assert found_in(json.dumps(records(network), ensure_ascii=False), needles), "the search finds what it seeks"
    problems: list[str] = []
    for role in load_topics():
        # Every record of the network, from offset 0 to the end, as the bytes a plain consumer reads.
        on_topic = await read_topic(kafka_bootstrap, topic(role), network)
        assert on_topic or role in ("rejected", "parked", "shortfalls"), f"nothing read from {role}"
        problems += [f"topic {topic(role)}: {n}" for n in found_in(json.dumps(on_topic, ensure_ascii=False), needles)]
    for name, database in databases.items():
        problems += [f"{name} database: {n}" for n in found_in(await asyncio.to_thread(dump, database), needles)]
    for jobs in await asyncio.to_thread(lambda: list(tmp_path.glob("*-jobs.db"))):
        problems += [f"{jobs.name}: {n}" for n in found_in(await asyncio.to_thread(dump, jobs), needles)]
    for service in running:
        log = await asyncio.to_thread(service.log_path.read_text, encoding="utf-8", errors="replace")
        problems += [f"{service.name} log: {n}" for n in found_in(log, needles)]
    assert problems == []

    # The other learner is untouched: named in the console, reachable in the notifier, mailed.
    assert NAMES[STAYING] in await asyncio.to_thread(dump, databases["console"])
    assert email_of(STAYING, network) in await asyncio.to_thread(dump, databases["notifier"])
    assert f"'learner:{LEAVING}', None" in await asyncio.to_thread(dump, databases["matcher"]), "the key is gone"
