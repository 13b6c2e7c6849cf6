"""On the real broker: contacts sealed by `verbund publish` reach the notifier through the matcher's key endpoint."""

from __future__ import annotations

from pathlib import Path

import notifier_factories as f
import pytest
from aiokafka import ConsumerRecord
from kafka_tools import consume
from notifier_harness import START
from notifier_on_kafka import key_serving_matcher, notifier_on_kafka, registered_and_placed
from verbund_matcher.runner import run_matcher
from verbund_notifier.clock import Clock
from verbund_runtime.keyring import HttpKeyring, KeyServiceUnavailable
from verbund_schemas import Contact, topic

from verbund.mailsink import MailSink, text_body

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


async def test_sealed_registrations_are_mailed_by_name_and_no_name_or_address_is_on_the_inbound_topic(
    kafka_bootstrap: str, fresh_postgres_url: str, sqlite_url: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    pair = await key_serving_matcher(
        kafka_bootstrap, sqlite_url, fresh_postgres_url, mail_sink, str(tmp_path / "master.key")
    )
    matcher, settings, url, token = pair.matcher, pair.notifier, pair.keys_url, pair.token
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
                await registered_and_placed(kafka_bootstrap, keyring, registrations, f.made(), mail_sink)
            finally:
                await keyring.close()

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
