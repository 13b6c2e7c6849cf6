"""`verbund publish` against the real broker: a file with bad records is reported by line and nothing is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny_network as net
from kafka_tools import consume
from verbund_cli import run_verbund
from verbund_schemas import topic

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(180)]


async def test_bad_file_is_reported_by_line_and_not_one_event_reaches_the_broker(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    network = net.network_id("badfile")
    records = net.all_records(network)
    records[2] = {**records[2], "data": {**records[2]["data"], "location": {}}}  # a firm without a city
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines.insert(4, '{"type": "LearnerRegistered", "subject": ')
    file = tmp_path / "network.jsonl"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    refused = run_verbund("publish", str(file), bootstrap=kafka_bootstrap)

    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "2 records cannot be sent; nothing was sent" in refused.stderr
    assert f"{file}:3: FirmRegistered event does not match its contract" in refused.stderr
    assert "data.location.city: Field required" in refused.stderr
    assert f"{file}:5: not valid JSON" in refused.stderr

    # A marker sent afterwards with the same key lands on the same partition, after anything sent before it:
    # once it is read, every earlier record of this network has been read too.
    marker = tmp_path / "marker.jsonl"
    marker.write_text(json.dumps(net.setup_records(network)[0]) + "\n", encoding="utf-8")
    sent = run_verbund("publish", str(marker), bootstrap=kafka_bootstrap)
    assert sent.returncode == 0, sent.stderr

    def marker_arrived(records: list) -> bool:  # type: ignore[type-arg]
        return any(r.key == network.encode() for r in records)

    seen = await consume(kafka_bootstrap, topic("inbound"), until=marker_arrived, timeout=60)
    of_network = [json.loads(r.value) for r in seen if r.key == network.encode()]
    assert [e["type"] for e in of_network] == ["NetworkConfigured"]
