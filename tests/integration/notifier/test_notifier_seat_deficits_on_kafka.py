"""On the real broker and PostgreSQL: a seat deficit reaches the coordinator in German, and its resolution once."""

from __future__ import annotations

import notifier_factories as f
import pytest
from deficit_factories import detected, resolved
from kafka_tools import produce
from notifier_harness import START, deliveries, notifier_settings
from notifier_on_kafka import fresh_group, notifier_on_kafka, start_groups_at_end
from verbund_notifier.clock import Clock
from verbund_schemas import Envelope, encode_event, topic

from verbund.mailsink import MailSink, text_body

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


async def publish(bootstrap: str, role: str, *events: Envelope) -> None:
    for event in events:
        await produce(bootstrap, topic(role), event.network_id, encode_event(event))


async def test_a_seat_deficit_and_its_resolution_reach_the_coordinator_in_german_once_each(
    kafka_bootstrap: str, fresh_postgres_url: str, mail_sink: MailSink
) -> None:
    group = fresh_group()
    await start_groups_at_end(kafka_bootstrap, group)
    settings = notifier_settings(
        fresh_postgres_url,
        mail_sink,
        kafka_bootstrap_servers=kafka_bootstrap,
        notifier_group_id=group,
    )
    found, gone = detected(), resolved()
    async with notifier_on_kafka(settings, Clock(START)) as app:
        await publish(kafka_bootstrap, "inbound", f.network())
        # One partition (the network is the key): the repeated resolution is consumed before the shortfall
        # that follows it, so once that shortfall's message is out, the repeat has been handled too.
        await publish(kafka_bootstrap, "shortfalls", found, gone, gone, f.shortfall())
        messages = await mail_sink.until(3, within=60)
        rows = await deliveries(app)
    by_subject = {str(m["Subject"]).split(":")[0]: m for m in messages}
    assert sorted(by_subject) == ["Engpass", "Mindestgruppe erreicht", "Mindestgruppe nicht erreicht"]
    told = by_subject["Mindestgruppe nicht erreicht"]
    assert str(told["Subject"]) == "Mindestgruppe nicht erreicht: CNC-Fräsen bei Spritzguss Meier GmbH"
    body = text_body(told)
    assert "2027-W10 bis 2027-W12: 1 von mindestens 3 Lernenden eingeplant" in body
    assert "weitere Lernende für CNC-Fräsen" in body
    assert "in keiner Woche mehr unter der Mindestgruppe" in text_body(by_subject["Mindestgruppe erreicht"])
    assert sorted(r.kind for r in rows) == ["seat_deficit", "seat_deficit_resolved", "shortfall"]
    assert all(str(m["To"]) == f.COORDINATOR_EMAIL for m in messages)
