"""On the real broker: a firm that leaves (FirmLeft) takes its contact with it, erased as ContactErased would."""

from __future__ import annotations

import json
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
from verbund_schemas import Contact, FirmLeft, FirmLeftData, FirmRegistered, load_event, open_event, topic

from verbund.contact_cli import current_key_id
from verbund.mailsink import MailSink
from verbund.publish import send_events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]

CONTACT = Contact(name="Gerlinde Brückenhaupt", email="gerlinde.brueckenhaupt@example.org")
SECRETS = ("Gerlinde", "Brückenhaupt", "gerlinde.brueckenhaupt@example.org")


async def test_a_firm_that_leaves_has_its_contact_key_destroyed_and_its_contact_forgotten_by_the_notifier(
    kafka_bootstrap: str, fresh_postgres_url: str, sqlite_url: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    network = f"N-LEFT-{uuid.uuid4().hex[:8]}"
    pair = await key_serving_matcher(
        kafka_bootstrap, sqlite_url, fresh_postgres_url, mail_sink, str(tmp_path / "master.key")
    )
    settings = pair.notifier
    registrations = [in_network(e, network) for e in (f.network(), f.host_firm(CONTACT), f.home_firm(), f.learner())]
    left = in_network(FirmLeft(**f.stated(), subject=f.NETWORK, data=FirmLeftData(firm_id=f.HOST)), network)
    async with matcher_serving_keys(pair) as keyring:
        async with notifier_on_kafka(settings, Clock(START)):
            placement = in_network(f.made(), network)
            await registered_and_placed(kafka_bootstrap, keyring, registrations, placement, mail_sink)
            assert mail_sink.messages_to(str(CONTACT.email)), "the firm's contact was mailed"

            async def known_to_the_notifier() -> bool:
                return "parties" in mentioning(await rows_of(fresh_postgres_url), SECRETS)

            await eventually(known_to_the_notifier, within=30, what="the contact stored by the notifier")
            key_id = await current_key_id(keyring, network, f"firm:{f.HOST}")
            assert key_id is not None and await keyring.key(network, key_id) is not None

            await send_events([left], kafka_bootstrap, topic("inbound"), keyring)

            async def key_destroyed() -> bool:
                return await keyring.key(network, key_id) is None

            await eventually(key_destroyed, within=60, what="the departed firm's contact key destroyed")

            still: dict[str, dict[str, int]] = {}

            async def forgotten() -> bool:
                matcher_rows, notifier_rows = await rows_of(sqlite_url), await rows_of(fresh_postgres_url)
                still.update(matcher=mentioning(matcher_rows, SECRETS), notifier=mentioning(notifier_rows, SECRETS))
                return not still["matcher"] and not still["notifier"]

            try:
                await eventually(forgotten, within=60, what="the contact gone from the matcher's and notifier's")
            except AssertionError as exc:
                raise AssertionError(f"{exc}; tables still naming them: {still}") from None
            notifier_after = await rows_of(fresh_postgres_url)

        inbound = await consume(
            kafka_bootstrap,
            topic("inbound"),
            until=lambda rs: sum(r.key == network.encode() for r in rs) >= len(registrations) + 1,
            timeout=30,
            from_beginning=True,
        )
        ours = [json.loads(r.value) for r in inbound if r.key == network.encode() and r.value is not None]
        registered = [await open_event(e, keyring) for e in ours if e["type"] == "FirmRegistered"]

    assert [e["type"] for e in ours].count("FirmLeft") == 1
    raw = json.dumps(ours, ensure_ascii=False)
    assert not any(s.casefold() in raw.casefold() for s in SECRETS), "nothing in clear text on the topic"
    # Reopened now, the departed firm's registration reads without its contact; the other firm's keeps its own.
    firms = {e.data.firm_id: e for e in map(load_event, registered) if isinstance(e, FirmRegistered)}
    assert firms[f.HOST].data.name == "Spritzguss Meier GmbH" and firms[f.HOST].data.training_contact is None
    home_contact = firms[f.HOME].data.training_contact
    assert home_contact is not None and str(home_contact.email) == f.HOME_EMAIL
    assert not mentioning(notifier_after, SECRETS)
    assert any(f.HOME_EMAIL in row for row in notifier_after["parties"]), "other firms' contacts stay"
