"""On the real broker: `verbund learner export` holds the mails the notifier sent, read from its endpoint."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import notifier_factories as f
import pytest
from notifier_harness import START, eventually, free_port
from notifier_on_kafka import in_network, key_serving_matcher, notifier_on_kafka, registered_and_placed
from verbund_matcher.runner import run_matcher
from verbund_notifier.clock import Clock
from verbund_runtime.keyring import HttpKeyring
from verbund_schemas import topic

from verbund.learner_cli import erasure_event
from verbund.mailsink import MailSink, text_body
from verbund.publish import send_events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]


async def export(bootstrap: str, network: str, env: dict[str, str], target: Path) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "verbund"),
        *("learner", "export", f.LEARNER, "--network", network, "--bootstrap", bootstrap, "--output", str(target)),
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()
    exported: dict[str, Any] = json.loads(await asyncio.to_thread(target.read_text, encoding="utf-8"))
    return exported


async def messages_held(url: str, token: str, network: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        return await client.get(f"/messages/{network}/{f.LEARNER}", headers={"authorization": f"Bearer {token}"})


async def test_the_export_holds_the_subject_and_text_of_a_delivered_mail_and_after_erasure_the_notifier_holds_none(
    kafka_bootstrap: str, fresh_postgres_url: str, sqlite_url: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    network = f"N-EXPORT-{uuid.uuid4().hex[:8]}"
    notifier_port = free_port()
    notifier_url = f"http://127.0.0.1:{notifier_port}"
    pair = await key_serving_matcher(
        kafka_bootstrap,
        sqlite_url,
        fresh_postgres_url,
        mail_sink,
        str(tmp_path / "master.key"),
        health_port=notifier_port,
    )
    matcher, settings, keys_url, token = pair.matcher, pair.notifier, pair.keys_url, pair.token
    env = {
        "VERBUND_KEY_SERVICE_URL": keys_url,
        "VERBUND_KEY_SERVICE_TOKEN": token,
        "VERBUND_NOTIFIER_URL": notifier_url,
    }
    # A network of this test's own: the export reads the topics from their start and must meet no other test's.
    registrations = [in_network(e, network) for e in (f.network(), f.host_firm(), f.home_firm(), f.learner())]
    async with run_matcher(matcher) as running:
        await running.until_consuming()
        async with notifier_on_kafka(settings, Clock(START)):
            keyring = HttpKeyring(keys_url, token)
            try:
                placement = in_network(f.made(), network)
                await registered_and_placed(kafka_bootstrap, keyring, registrations, placement, mail_sink)
            finally:
                await keyring.close()
            mailed = mail_sink.messages_to(f.LEARNER_EMAIL)
            assert mailed, "the learner was mailed"

            async def all_sent() -> bool:
                held = (await messages_held(notifier_url, token, network)).json()["messages"]
                return bool(held) and all(m["state"] == "sent" for m in held)

            await eventually(all_sent, within=30, what="the learner's mail marked sent")
            before = await export(kafka_bootstrap, network, env, tmp_path / "before.json")
            refused = await messages_held(notifier_url, "not-the-token", network)

            await send_events([erasure_event(network, f.LEARNER)], kafka_bootstrap, topic("inbound"))

            async def forgotten() -> bool:
                return not (await messages_held(notifier_url, token, network)).json()["messages"]

            await eventually(forgotten, within=60, what="the notifier forgetting the learner's messages")
            after = (await messages_held(notifier_url, token, network)).json()

    held = before["messages_held_by_the_notifier"]
    subject = str(mailed[0]["Subject"])
    assert [m["subject"] for m in held] == [subject]
    assert held[0]["address"] == f.LEARNER_EMAIL and held[0]["state"] == "sent" and held[0]["sent_at"]
    assert "Lena" in held[0]["text"] and held[0]["text"].strip() in text_body(mailed[0]).replace("\r\n", "\n")
    assert "BEGIN:VCALENDAR" in held[0]["calendar"]
    assert refused.status_code == 401 and "Lena" not in refused.text
    assert after == {"network_id": network, "learner_id": f.LEARNER, "messages": []}
