"""On the real broker: `verbund learner export` gathers one learner's data, opened; after erasure only ids remain."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from kafka_tools import consume
from matcher_harness import events_of
from sealed_learners import two_sealed_learners_planned
from verbund_schemas import topic

from verbund.learner_cli import erasure_event
from verbund.publish import send_events

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]

TODAY = dt.date(2030, 12, 2)
TOKEN = "a-token-for-the-export-test-endpoint"


async def export(bootstrap: str, network: str, learner: str, url: str, target: Path) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "verbund"),
        *("learner", "export", learner, "--network", network, "--bootstrap", bootstrap, "--output", str(target)),
        env={**os.environ, "VERBUND_KEY_SERVICE_URL": url, "VERBUND_KEY_SERVICE_TOKEN": TOKEN},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()
    mode = (await asyncio.to_thread(target.stat)).st_mode
    assert mode & 0o777 == 0o600, "the file holds personal data: its owner's only"
    exported: dict[str, Any] = json.loads(await asyncio.to_thread(target.read_text, encoding="utf-8"))
    return exported


async def watch(bootstrap: str, network: str, url: str) -> str:
    """`verbund watch` with the key endpoint configured: the plan as the operator sees it, names opened."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "verbund"),
        *("watch", "--network", network, "--from-beginning", "--max-events", "4", "--timeout", "30"),
        *("--bootstrap", bootstrap),
        env={**os.environ, "VERBUND_KEY_SERVICE_URL": url, "VERBUND_KEY_SERVICE_TOKEN": TOKEN, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return out.decode()


async def test_the_export_holds_the_learners_registration_plan_and_history_and_nothing_of_others(
    kafka_bootstrap: str, sqlite_url: str, tmp_path: Path
) -> None:
    async with two_sealed_learners_planned(kafka_bootstrap, sqlite_url, tmp_path, TOKEN, TODAY, "export") as sealed:
        nid, url = sealed.network_id, sealed.key_service_url
        before = await export(kafka_bootstrap, nid, "L0000", url, tmp_path / "before.json")
        watched = await watch(kafka_bootstrap, nid, url)

        await send_events([erasure_event(nid, "L0000")], kafka_bootstrap, topic("inbound"))
        await consume(
            kafka_bootstrap,
            topic("assignments"),
            until=lambda rs: any(e["type"] == "AssignmentCancelled" for e in events_of(rs, {nid})),
            timeout=90,
        )
        after = await export(kafka_bootstrap, nid, "L0000", url, tmp_path / "after.json")

    assert "Learner L0000" in watched and "Learner L0001" in watched, watched
    held = before["held_by_the_matcher"]
    assert held["registration"]["name"] == "Learner L0000" and held["erased"] is False
    assert [a["module_id"] for a in held["assignments"]] == ["M1", "M2"]
    assert [r["data"]["contact"]["email"] for r in before["registrations"]] == ["l0000@example.org"]
    assert {e["data"]["learner_name"] for e in before["plan_history"]} == {"Learner L0000"}
    assert "L0001" not in json.dumps(before), "nothing about another learner"

    assert after["held_by_the_matcher"]["registration"] is None and after["held_by_the_matcher"]["erased"] is True
    text = json.dumps(after, ensure_ascii=False)
    assert "Learner L0000" not in text and "l0000@example.org" not in text
    kinds = [r["type"] for r in after["registrations"]]
    assert kinds == ["LearnerRegistered", "LearnerErased"]
    assert after["registrations"][0]["data"]["personal"].startswith("erased")
