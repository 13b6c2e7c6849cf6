"""Real broker and PostgreSQL: a matcher killed while an erasure is under way completes it after restart, once."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from forced_network import ForcedNetwork, _learner
from kafka_tools import consume
from matcher_harness import (
    MatcherProcess,
    deduplicated,
    events_of,
    settings_for,
    start_group_at_end,
    until,
    version_problems,
)
from verbund_runtime.keyring import HttpKeyring
from verbund_schemas import PersonalDataErased, load_event, topic

from verbund.learner_cli import erasure_event
from verbund.publish import send_events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]

TOKEN = "a-token-for-the-crash-test-endpoint"


def cancelled_and_closed(events: list[dict[str, Any]]) -> bool:
    """Both of the erased learner's assignments are cancelled and the version that cancels them is closed by its
    PlanPublished (published after them)."""
    cancelled = sum(e["type"] == "AssignmentCancelled" for e in events)
    return cancelled >= 2 and events[-1]["type"] == "PlanPublished"


async def test_a_matcher_killed_during_an_erasure_destroys_the_key_and_cancels_each_assignment_once_after_restart(
    kafka_bootstrap: str, fresh_postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Through the environment, as an operator sets it: settings_for would write a SecretStr masked.
    monkeypatch.setenv("VERBUND_KEY_SERVICE_TOKEN", TOKEN)
    settings = settings_for(kafka_bootstrap, fresh_postgres_url, master_key_file=str(tmp_path / "master.key"))
    await start_group_at_end(kafka_bootstrap, settings.group_id)
    url = f"http://127.0.0.1:{settings.health_port}"
    n = ForcedNetwork(f"crash-erase-{uuid.uuid4().hex[:8]}")
    nid = n.network_id
    first = MatcherProcess(settings, tmp_path / "first.log").start()
    second = MatcherProcess(settings, tmp_path / "second.log")
    keyring = HttpKeyring(url, TOKEN)
    try:
        await first.until_partitions(1)
        registrations = [load_event(e) for e in n.setup()] + [
            load_event(n._event("LearnerRegistered", _learner(nid, learner, first_week)))
            for learner, first_week in (("L0000", 0), ("L0001", 3))
        ]
        await send_events(registrations, kafka_bootstrap, topic("inbound"), keyring)
        await consume(
            kafka_bootstrap, topic("assignments"), until=lambda rs: len(events_of(rs, {nid})) >= 5, timeout=120
        )
        await send_events([erasure_event(nid, "L0001")], kafka_bootstrap, topic("inbound"))
        first.kill()  # between reading the erasure and committing it, or just before: either way nothing half-done

        second.start()
        await second.until_partitions(1)

        async def key_destroyed() -> bool:
            try:
                await keyring.key_for(nid, "learner:L0001")
            except PersonalDataErased:
                return True
            return False

        await until(key_destroyed, timeout=120, every=0.5)
        records = await consume(
            kafka_bootstrap,
            topic("assignments"),
            until=lambda rs: cancelled_and_closed(deduplicated(events_of(rs, {nid}))),
            timeout=120,
        )
        await keyring.key_for(nid, "learner:L0000")
    finally:
        await keyring.close()
        first.stop_quietly()
        second.stop_quietly()

    events = deduplicated(events_of(records, {nid}))
    cancelled = [e for e in events if e["type"] == "AssignmentCancelled"]
    assert sorted(e["data"]["assignment_id"] for e in cancelled) == [f"{nid}:L0001:M1", f"{nid}:L0001:M2"]
    assert all(e["data"]["learner_name"] == "" for e in cancelled)
    assert version_problems(events) == []
