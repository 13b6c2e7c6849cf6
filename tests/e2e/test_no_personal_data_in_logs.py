"""Matcher, notifier and console on the real broker write no learner's name or email into a log line or a metric.

Learners with distinctive names go through registration, planning, an emailed notification, a withdrawal and
three poison records that carry their names; then every line the three processes wrote (stdout and stderr, in
JSON and in plain mode, at DEBUG) and a scrape of each /metrics are searched for every form a name or address
can take in text: as is, lower-cased, URL-encoded and JSON-escaped.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka_tools import consume, produce
from service_processes import ServiceProcess
from verbund_schemas import AssignmentCancelled, AssignmentMade, NotificationDelivered, topic
from wire import wait_for_event

from verbund.mailsink import MailSink
from verbund.stack.ports import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(420)]

FIRM_ID = "F-PD"
MODULE_ID = "M-PD"
STAYING, LEAVING = "L-PD-1", "L-PD-2"
NAMES = {STAYING: "Zacharias Quellenfeld", LEAVING: "Jördis Üxküll-Wendtorf"}
FIRM_CONTACT = "Ottilie Brummersiepen"
COORDINATOR = "Hartwig Zirbelmoser"


def email_of(person: str, network: str) -> str:
    initials = "".join(part[0] for part in person.split()).lower().replace("ö", "o").replace("ü", "u")
    return f"{initials}-{network}@example.org"


def personal_data(network: str) -> list[str]:
    """Every name and address the network's records carry, and each distinctive part of a name on its own."""
    people = [*NAMES.values(), FIRM_CONTACT, COORDINATOR]
    words = [word for person in people for word in person.replace("-", " ").split() if len(word) >= 5]
    return [*people, *words, *(email_of(person, network) for person in people)]


def forms(value: str) -> set[str]:
    """The ways a value can appear in a text log: as is, URL-encoded, JSON-escaped (ASCII or not)."""
    return {
        value,
        urllib.parse.quote(value),
        urllib.parse.quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }


def leaks(text: str, network: str) -> list[str]:
    """Each line of `text` holding personal data, with what it holds (compared case-insensitively)."""
    needles = {form.lower() for value in personal_data(network) for form in forms(value)}
    return [
        f"{needle!r} in: {line[:300]}"
        for line in text.lower().splitlines()
        for needle in sorted(needles)
        if needle in line
    ]


def _event(network: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "subject": network,
        "id": f"{network}-{kind}-{uuid.uuid4().hex[:6]}",
        "time": "2027-01-04T08:00:00Z",
        "data": data,
    }


def learner(network: str, learner_id: str, kind: str = "LearnerRegistered") -> dict[str, Any]:
    name = NAMES[learner_id]
    return _event(
        network,
        kind,
        {
            "learner_id": learner_id,
            "name": name,
            "contact": {"name": name, "email": email_of(name, network)},
            "curriculum_id": "C-PD",
            "first_week": "2031-W02",
            "last_week": "2031-W20",
        },
    )


def network_records(network: str) -> list[dict[str, Any]]:
    coordinator = {"name": COORDINATOR, "email": email_of(COORDINATOR, network)}
    return [
        _event(
            network,
            "NetworkConfigured",
            {"name": f"Verbund {network}", "notice_period_weeks": 0, "coordinators": [coordinator]},
        ),
        _event(
            network,
            "CurriculumPublished",
            {
                "curriculum_id": "C-PD",
                "name": "Verfahrensmechaniker Kunststoff",
                "modules": [{"module_id": MODULE_ID, "name": "Spritzgießen", "duration_weeks": 4}],
                "groups": [{"group_id": "G-PF", "name": "Pflicht", "module_ids": [MODULE_ID], "required": 1}],
            },
        ),
        _event(
            network,
            "FirmRegistered",
            {
                "firm_id": FIRM_ID,
                "name": "Kunststofftechnik Aachen",
                "location": {"city": "Aachen"},
                "training_contact": {"name": FIRM_CONTACT, "email": email_of(FIRM_CONTACT, network)},
            },
        ),
        learner(network, STAYING),
        learner(network, LEAVING),
        _event(
            network,
            "CapacityOffered",
            {
                "offer_id": "O-PD",
                "firm_id": FIRM_ID,
                "module_id": MODULE_ID,
                "first_week": "2031-W02",
                "last_week": "2031-W20",
                "max_seats": 2,
            },
        ),
    ]


def start(name: str, module: str, env: dict[str, str], folder: Path, health_port: int) -> ServiceProcess:
    log_path = folder / f"{name}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", module], env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT
    )
    return ServiceProcess(name, process, log_path, log_file, health_port)


def until_ready(service: ServiceProcess, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (answer := service.readiness())[0] != 200:
        service.assert_running()
        assert time.monotonic() < deadline, f"{service.name} not ready: {answer}; log:\n{service.log_tail()}"
        time.sleep(0.3)


@pytest.fixture(params=[True, False], ids=["json-logs", "plain-logs"])
def services(
    request: pytest.FixtureRequest, kafka_bootstrap: str, tmp_path: Path
) -> Iterator[tuple[MailSink, list[ServiceProcess]]]:
    """The three services as operators run them, at DEBUG, in one log format; each process only for this test."""
    shared = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "VERBUND_LOG_JSON": str(request.param).lower(),
        "VERBUND_LOG_LEVEL": "DEBUG",
    }
    run = uuid.uuid4().hex[:8]
    with MailSink() as sink:
        ports = {name: free_port() for name in ("matcher", "notifier", "console")}
        matcher_env = {
            **shared,
            "VERBUND_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'matcher.db'}",
            "VERBUND_GROUP_ID": f"pd-matcher-{run}",
            "VERBUND_HEALTH_PORT": str(ports["matcher"]),
            "VERBUND_SOLVER_WORKERS": "1",
            "VERBUND_REPLAN_TIME_LIMIT": "2",
            "VERBUND_FULL_REOPTIMISE_INTERVAL": "0",
            "VERBUND_BATCH_TIMEOUT_MS": "100",
            "VERBUND_RELAY_POLL_SECONDS": "0.2",
            "VERBUND_AUTO_OFFSET_RESET": "earliest",
        }
        notifier_env = {
            **shared,
            "VERBUND_NOTIFIER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}",
            "VERBUND_NOTIFIER_GROUP_ID": f"pd-notifier-{run}",
            "VERBUND_SMTP_HOST": "127.0.0.1",
            "VERBUND_SMTP_PORT": str(sink.port),
            "VERBUND_SMTP_STARTTLS": "false",
            "VERBUND_DELIVERY_POLL_SECONDS": "0.2",
            "VERBUND_RETRY_BASE_SECONDS": "0.5",
            "VERBUND_HEALTH_PORT": str(ports["notifier"]),
        }
        console_env = {
            **shared,
            "VERBUND_CONSOLE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.db'}",
            "VERBUND_CONSOLE_GROUP_ID": f"pd-console-{run}",
            "VERBUND_CONSOLE_PORT": str(free_port()),
            "VERBUND_CONSOLE_SESSION_SECRET": "s" * 48,
            "VERBUND_CONSOLE_HEALTH_PORT": str(ports["console"]),
        }
        running = [
            start("matcher", "verbund_matcher", matcher_env, tmp_path, ports["matcher"]),
            start("notifier", "verbund_notifier", notifier_env, tmp_path, ports["notifier"]),
            start("console", "verbund_console", console_env, tmp_path, ports["console"]),
        ]
        try:
            for service in running:
                until_ready(service)
            yield sink, running
        finally:
            for service in running:
                service.stop()


async def test_no_log_line_or_metric_of_any_service_holds_a_learners_firms_or_coordinators_name_or_email(
    kafka_bootstrap: str, services: tuple[MailSink, list[ServiceProcess]]
) -> None:
    sink, running = services
    network = f"e2e-pd-{uuid.uuid4().hex[:8]}"
    for record in network_records(network):
        await produce(kafka_bootstrap, topic("inbound"), network, record)

    made = await wait_for_event(
        kafka_bootstrap,
        topic("assignments"),
        network,
        lambda e: isinstance(e, AssignmentMade) and e.data.learner_id == STAYING,
    )
    await wait_for_event(
        kafka_bootstrap,
        topic("notifications"),
        network,
        lambda e: isinstance(e, NotificationDelivered) and e.data.source_event_id == made.id,
    )
    assert sink.messages_to(email_of(NAMES[STAYING], network)), "the learner was not mailed"

    # A learner's whole record again (the update path), then her withdrawal.
    await produce(kafka_bootstrap, topic("inbound"), network, learner(network, LEAVING, "LearnerUpdated"))
    withdrawn = _event(network, "LearnerWithdrawn", {"learner_id": LEAVING, "reason": "moved away"})
    await produce(kafka_bootstrap, topic("inbound"), network, withdrawn)
    await wait_for_event(
        kafka_bootstrap,
        topic("assignments"),
        network,
        lambda e: isinstance(e, AssignmentCancelled) and e.data.learner_id == LEAVING,
    )

    # Poison that carries personal data: a registration too large to be read, one cut off mid-JSON, and one
    # whose contract error quotes the contact's name (it wants email and gives no address).
    oversized = learner(network, STAYING, "LearnerUpdated")
    oversized["data"]["unavailable"] = [{"first_week": "2031-W03", "last_week": "2031-W03", "label": "x" * 900_000}]
    cut_off = json.dumps(learner(network, LEAVING, "LearnerUpdated"))[:-40]
    await produce(kafka_bootstrap, topic("inbound"), network, json.dumps(oversized))
    await produce(kafka_bootstrap, topic("inbound"), network, cut_off)
    no_address = learner(network, STAYING, "LearnerUpdated")
    no_address["data"]["contact"] = {"name": NAMES[STAYING], "channel": "email"}
    await produce(kafka_bootstrap, topic("inbound"), network, no_address)
    await consume(
        kafka_bootstrap,
        topic("rejected"),
        until=lambda rs: sum(r.key == network.encode() for r in rs) >= 3,
        timeout=90,
    )

    # The services read both, and their consumers had time to log what they do with them.
    await asyncio.sleep(3)
    async with httpx.AsyncClient(timeout=10) as http:
        scrapes = {s.name: (await http.get(f"http://127.0.0.1:{s.health_port}/metrics")).text for s in running}
    for service in running:
        service.assert_running()
        assert scrapes[service.name].strip(), f"{service.name} /metrics is empty"
        service.stop()  # SIGTERM: the shutdown lines belong to the log too.

    # The search itself finds what it looks for, in every form.
    assert leaks(json.dumps(network_records(network)), network)
    assert leaks(urllib.parse.quote(email_of(COORDINATOR, network)).upper(), network)
    found = []
    for service in running:
        log = service.log_path.read_text(encoding="utf-8", errors="replace")
        assert "Processed" in log, f"{service.name} logged no record it handled"
        found += [f"{service.name} log: {leak}" for leak in leaks(log, network)]
        found += [f"{service.name} /metrics: {leak}" for leak in leaks(scrapes[service.name], network)]
    assert not found, "\n".join(found[:40])
