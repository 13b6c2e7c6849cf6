"""The whole path as a user drives it: `verbund publish` a file, the matcher assigns, the notifier emails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny_network as net
from service_processes import ServiceProcess
from verbund_cli import run_verbund
from verbund_schemas import AssignmentMade, NotificationDelivered, topic
from wire import wait_for_event

from verbund.mailsink import MailSink, calendar_parts

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(240)]


async def test_published_file_leads_to_an_assignment_and_a_delivered_email_with_calendar_entry(
    kafka_bootstrap: str, matcher: ServiceProcess, notifier: ServiceProcess, mail_sink: MailSink, tmp_path: Path
) -> None:
    network = net.network_id("publish")
    file = tmp_path / "network.jsonl"
    # Hand-written style: no id, time or source; publish fills them in.
    records = [{k: v for k, v in r.items() if k != "id"} for r in net.all_records(network)]
    file.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")

    done = run_verbund("publish", str(file), bootstrap=kafka_bootstrap)

    assert done.returncode == 0, done.stderr
    assert f"sent 5 events to {topic('inbound')}" in done.stdout
    made = await wait_for_event(kafka_bootstrap, topic("assignments"), network, lambda e: isinstance(e, AssignmentMade))
    assert isinstance(made, AssignmentMade)
    assert (made.data.learner_id, made.data.module_id, made.data.firm_id) == (
        net.LEARNER_ID,
        net.MODULE_ID,
        net.FIRM_ID,
    )

    delivered = await wait_for_event(
        kafka_bootstrap,
        topic("notifications"),
        network,
        lambda e: isinstance(e, NotificationDelivered) and e.data.source_event_id == made.id,
    )
    assert isinstance(delivered, NotificationDelivered)
    assert delivered.data.recipient == f"learner:{net.LEARNER_ID}" and delivered.data.channel.value == "email"

    matcher.assert_running()
    notifier.assert_running()
    (message,) = mail_sink.messages_to(net.learner_email(network))
    (calendar,) = calendar_parts(message)
    (entry,) = calendar.walk("VEVENT")
    assert "Spritzgießen" in str(entry.get("SUMMARY"))
    assert entry.decoded("DTSTART") == made.data.start_date
    assert "Aachen" in str(entry.get("LOCATION", "")) or "Kunststofftechnik Aachen" in str(entry.get("SUMMARY"))
