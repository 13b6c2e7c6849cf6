"""On the real broker: `verbund learner erase` destroys the key, the matcher drops the learner and replans, once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord
from database_rows import rows_of
from kafka_tools import consume
from matcher_harness import events_of, until
from sealed_learners import two_sealed_learners_planned
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_schemas import PersonalDataErased, open_event, topic

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]

TODAY = dt.date(2030, 12, 2)
TOKEN = "a-token-for-the-key-endpoint-of-this-test"
ERASED = (b"Learner L0001", b"l0001@example.org")


async def erase(bootstrap: str, network: str, learner: str, key_service: str) -> tuple[int, str]:
    """`verbund learner erase` as a user runs it, in its own process."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "verbund"),
        "learner",
        "erase",
        learner,
        "--network",
        network,
        "--bootstrap",
        bootstrap,
        "--wait",
        "60",
        env={**os.environ, "VERBUND_KEY_SERVICE_URL": key_service, "VERBUND_KEY_SERVICE_TOKEN": TOKEN},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def table_dump(database_url: str) -> bytes:
    """Every row of every table of the matcher's database, as text."""
    rows = [row for table in (await rows_of(database_url)).values() for row in table]
    return "\n".join(rows).encode("utf-8", "backslashreplace")


async def test_an_erased_learner_leaves_the_plan_their_key_is_gone_and_a_second_erasure_changes_nothing(
    kafka_bootstrap: str, sqlite_url: str, tmp_path: Path
) -> None:
    async with two_sealed_learners_planned(kafka_bootstrap, sqlite_url, tmp_path, TOKEN, TODAY, "erase") as sealed:
        nid, url, keyring = sealed.network_id, sealed.key_service_url, sealed.keyring
        code, out = await erase(kafka_bootstrap, nid, "L0001", url)
        assert code == 0, out
        assert "key is destroyed" in out
        code, out = await erase(kafka_bootstrap, nid, "L0001", url)
        assert code == 0, out

        def cancelled_twice(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
            return bool(sum(e["type"] == "AssignmentCancelled" for e in events_of(records, {nid})) >= 2)

        assignments = await consume(kafka_bootstrap, topic("assignments"), until=cancelled_twice, timeout=90)

        async def both_erasures_handled() -> bool:
            engine = create_async_engine(sqlite_url)
            try:
                async with engine.connect() as conn:
                    found = await conn.execute(
                        text("SELECT count(*) FROM inbox WHERE message_id = 'erase:L0001' AND network_id = :n"),
                        {"n": nid},
                    )
                    return bool(found.scalar_one())
            finally:
                await engine.dispose()

        await until(both_erasures_handled, timeout=60)
        with pytest.raises(PersonalDataErased):
            await keyring.key_for(nid, "learner:L0001")
        await keyring.key_for(nid, "learner:L0000")
        inbound = await consume(
            kafka_bootstrap, topic("inbound"), until=lambda rs: len(events_of(rs, {nid})) >= 10, timeout=30
        )
        everything = [*events_of(inbound, {nid}), *events_of(assignments, {nid})]
        opened: list[dict[str, object]] = []
        unreadable = 0
        for event in everything:
            try:
                opened.append(await open_event(event, keyring))
            except PersonalDataErased:
                unreadable += 1
        matcher_tables = await table_dump(sqlite_url)

    events = events_of(assignments, {nid})
    cancelled = [e for e in events if e["type"] == "AssignmentCancelled"]
    assert {e["data"]["learner_id"] for e in cancelled} == {"L0001"}
    assert {e["data"].get("learner_name") for e in cancelled} == {""}, "a cancellation after erasure names nobody"
    made_for_kept = [e for e in events if e["type"] == "AssignmentMade" and e["data"]["learner_id"] == "L0000"]
    assert len(made_for_kept) == 2 and not any(e["data"]["learner_id"] == "L0000" for e in cancelled)
    # The erased learner's registration and their two assignments: sealed under the destroyed key.
    assert unreadable == 3
    # This network's records only: other tests' networks have learners of the same names, in clear text.
    ours = [r.value or b"" for r in [*inbound, *assignments] if r.key == nid.encode()]
    raw = json.dumps(opened, ensure_ascii=False).encode() + b"".join(ours)
    for secret in ERASED:
        assert secret not in raw
        assert secret not in matcher_tables, "the matcher's tables hold nothing of the erased learner"
    assert b"Learner L0000" in json.dumps(opened).encode(), "the other learner's name still opens"
