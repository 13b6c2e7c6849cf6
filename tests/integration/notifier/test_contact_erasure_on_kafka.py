"""On the real broker: `verbund contact erase` makes a firm's contact and the coordinators unreadable everywhere."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import notifier_factories as f
import pytest
from database_rows import rows_of
from kafka_tools import consume
from notifier_harness import START, eventually
from notifier_on_kafka import (
    in_network,
    key_serving_matcher,
    matcher_serving_keys,
    mentioning,
    notifier_on_kafka,
    registered_and_placed,
)
from verbund_notifier.clock import Clock
from verbund_schemas import Contact, FirmRegistered, NetworkConfigured, load_event, open_event, topic

from verbund.mailsink import MailSink
from verbund.publish import send_events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]

CONTACT = Contact(name="Wiebke Trautmann-Özdemir", email="wiebke.trautmann@example.org")
COORDINATOR = Contact(name="Hiltrud Ambrosius", email="hiltrud.ambrosius@example.org")
SECRETS = ("Wiebke", "Trautmann", "wiebke.trautmann@example.org", "Hiltrud", "Ambrosius", "hiltrud.ambrosius@")


async def erase(bootstrap: str, env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "verbund"),
        *("contact", "erase", *args, "--bootstrap", bootstrap, "--wait", "60"),
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()
    return out.decode()


async def test_an_erased_firm_contact_and_coordinators_are_unreadable_on_the_topic_and_gone_from_every_table(
    kafka_bootstrap: str, fresh_postgres_url: str, sqlite_url: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    network = f"N-CONTACT-{uuid.uuid4().hex[:8]}"
    pair = await key_serving_matcher(
        kafka_bootstrap, sqlite_url, fresh_postgres_url, mail_sink, str(tmp_path / "master.key")
    )
    settings, url, token = pair.notifier, pair.keys_url, pair.token
    env = {"VERBUND_KEY_SERVICE_URL": url, "VERBUND_KEY_SERVICE_TOKEN": token}
    registrations = [
        in_network(e, network) for e in (f.network(COORDINATOR), f.host_firm(CONTACT), f.home_firm(), f.learner())
    ]
    async with matcher_serving_keys(pair) as keyring:
        async with notifier_on_kafka(settings, Clock(START)):
            placement = in_network(f.made(), network)
            await registered_and_placed(kafka_bootstrap, keyring, registrations, placement, mail_sink)
            assert mail_sink.messages_to(str(CONTACT.email)), "the firm's contact was mailed"

            async def known_everywhere() -> bool:
                matcher_rows, notifier_rows = await rows_of(sqlite_url), await rows_of(fresh_postgres_url)
                return "firms" in mentioning(matcher_rows, SECRETS) and "parties" in mentioning(notifier_rows, SECRETS)

            await eventually(known_everywhere, within=30, what="the contacts stored by matcher and notifier")

            said = await erase(kafka_bootstrap, env, "--network", network, "--firm", f.HOST)
            said += await erase(kafka_bootstrap, env, "--network", network, "--coordinators")

            async def forgotten() -> bool:
                matcher_rows, notifier_rows = await rows_of(sqlite_url), await rows_of(fresh_postgres_url)
                return not mentioning(matcher_rows, SECRETS) and not mentioning(notifier_rows, SECRETS)

            await eventually(forgotten, within=60, what="the contacts gone from the matcher's and notifier's tables")
            notifier_after = await rows_of(fresh_postgres_url)
            matcher_after = await rows_of(sqlite_url)
            # A new contact of the firm is sealed under a new key and reads as usual.
            newcomer = Contact(name="Jan Neu", email="jan.neu@example.org")
            fresh = in_network(f.firm(f.HOST, "Spritzguss Meier GmbH", newcomer), network)
            updated = fresh.model_dump(mode="json") | {"type": "FirmUpdated", "id": "firm-updated-after-erasure"}
            await send_events([load_event(updated)], kafka_bootstrap, topic("inbound"), keyring)

            async def new_contact_known() -> bool:
                return "jan.neu@example.org" in json.dumps(await rows_of(fresh_postgres_url))

            await eventually(new_contact_known, within=60, what="the firm's new contact reaching the notifier")

        inbound = await consume(
            kafka_bootstrap,
            topic("inbound"),
            until=lambda rs: sum(r.key == network.encode() for r in rs) >= len(registrations) + 3,
            timeout=30,
            from_beginning=True,
        )
        ours = [json.loads(r.value) for r in inbound if r.key == network.encode() and r.value is not None]
        # The records as they were before the erasure; the firm's update after it has a new key.
        before = [e for e in ours if e["type"] in ("FirmRegistered", "NetworkConfigured")]
        opened = [await open_event(e, keyring) for e in before]

    assert "Their key is destroyed" in said and said.count("requested") == 2, said
    raw = json.dumps(ours, ensure_ascii=False)
    assert not any(s.casefold() in raw.casefold() for s in SECRETS), "nothing in clear text on the topic"
    assert [e["type"] for e in ours].count("ContactErased") == 2
    # Reopened now, the firm and the network are still there, their erased contacts are not.
    firm = next(load_event(e) for e in opened if e["type"] == "FirmRegistered" and e["data"]["firm_id"] == f.HOST)
    policy = next(load_event(e) for e in opened if e["type"] == "NetworkConfigured")
    assert isinstance(firm, FirmRegistered) and firm.data.name == "Spritzguss Meier GmbH"
    assert firm.data.training_contact is None
    assert isinstance(policy, NetworkConfigured) and policy.data.coordinators == []
    assert not any(s.casefold() in json.dumps(opened, ensure_ascii=False).casefold() for s in SECRETS)
    assert mentioning(notifier_after, SECRETS) == {} and mentioning(matcher_after, SECRETS) == {}
    assert any(f.HOME_EMAIL in row for row in notifier_after["parties"]), "other firms' contacts stay"
    assert any("Frau Huber" in row for row in matcher_after["firms"])
