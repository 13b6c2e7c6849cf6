"""On the real broker: contacts sealed by `verbund publish` reach the notifier through the matcher's key endpoint."""

from __future__ import annotations

import secrets
import socket
import uuid
from pathlib import Path

import notifier_factories as f
import pytest
from aiokafka import ConsumerRecord
from kafka_tools import consume
from notifier_harness import START, notifier_settings
from notifier_on_kafka import fresh_group, notifier_on_kafka, start_groups_at_end
from verbund_matcher.runner import run_matcher
from verbund_matcher.settings import MatcherSettings
from verbund_notifier.clock import Clock
from verbund_runtime.keyring import HttpKeyring, KeyServiceUnavailable
from verbund_schemas import Contact, topic

from verbund.mailsink import MailSink, text_body
from verbund.publish import send_events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_sealed_registrations_are_mailed_by_name_and_no_name_or_address_is_on_the_inbound_topic(
    kafka_bootstrap: str, fresh_postgres_url: str, sqlite_url: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    token = secrets.token_urlsafe(32)
    port = _free_port()
    matcher = MatcherSettings(
        database_url=sqlite_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        group_id=f"matcher-test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="latest",
        health_port=port,
        key_service_token=token,
        master_key_file=str(tmp_path / "master.key"),
        full_reoptimise_interval=0,
        solver_workers=1,
        log_json=False,
    )
    group = fresh_group()
    await start_groups_at_end(kafka_bootstrap, group)
    url = f"http://127.0.0.1:{port}"
    settings = notifier_settings(
        fresh_postgres_url,
        mail_sink,
        kafka_bootstrap_servers=kafka_bootstrap,
        notifier_group_id=group,
        key_service_url=url,
        key_service_token=token,
    )
    coordinator = Contact(name="Zora Feldkamp", email=f.COORDINATOR_EMAIL)
    registrations = [f.network(coordinator), f.host_firm(), f.home_firm(), f.other_firm(), f.learner()]
    # Other tests put clear-text events of the same network on the topic: this test's are told by their ids.
    ids = [f'"id": "{e.id}"'.encode() for e in registrations] + [f'"id":"{e.id}"'.encode() for e in registrations]

    def sent_here(records: list[ConsumerRecord[bytes, bytes]]) -> list[bytes]:
        return [r.value for r in records if r.value is not None and any(i in r.value for i in ids)]

    async with run_matcher(matcher) as running:
        await running.until_consuming()
        wrong = HttpKeyring(url, "not-the-token")
        with pytest.raises(KeyServiceUnavailable, match="refused the token"):
            await wrong.key_for(f.NETWORK, "learner:L-001")
        await wrong.close()

        async with notifier_on_kafka(settings, Clock(START)):
            keyring = HttpKeyring(url, token)
            try:
                await send_events(registrations, kafka_bootstrap, topic("inbound"), keyring)
            finally:
                await keyring.close()
            made = f.made()
            await send_events([made], kafka_bootstrap, topic("assignments"))
            await mail_sink.until(2, within=60)

        inbound = await consume(
            kafka_bootstrap,
            topic("inbound"),
            until=lambda rs: len(sent_here(rs)) >= len(registrations),
            timeout=30,
            from_beginning=True,
        )

    to_learner, to_host = mail_sink.messages_to(f.LEARNER_EMAIL), mail_sink.messages_to(f.HOST_EMAIL)
    assert to_learner and to_host, "the sealed addresses were opened for the mails"
    assert "Lena" in text_body(to_learner[0]), "the learner's sealed name was opened for the mail"

    ours = sent_here(inbound)
    assert len(ours) == len(registrations)
    for secret in (b"Lena Berger", f.LEARNER_EMAIL.encode(), f.HOST_EMAIL.encode(), b"Zora", b"coord@"):
        assert all(secret not in value for value in ours), secret
    assert all(b'"personal"' in value for value in ours if b"FirmRegistered" in value or b"Learner" in value)
