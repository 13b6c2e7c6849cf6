"""`verbund demo` plays the plastics network to the end: plans, both shortfalls, messages with calendar entries."""

from __future__ import annotations

import re

import pytest
from verbund_cli import run_verbund

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(300)]


def test_demo_shows_rotations_shortfalls_and_delivered_messages_then_stops(kafka_bootstrap: str) -> None:
    # Every message listed: which ones come first depends on delivery order, and some carry no calendar entry.
    done = run_verbund("demo", "--messages", "1000", "--timeout", "200", bootstrap=kafka_bootstrap, timeout=280)

    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert "Demo complete." in out
    assert "Rotation plans — kunststoff-verbund" in out
    # scenarios/README.md: exactly two shortfalls, each with its reason.
    assert "Emily Köhler (azubi-009)" in out and "no_offer" in out
    assert "Paul Schwarz (azubi-017)" in out and "eligibility" in out
    delivered = re.search(r"messages delivered\s+\S+\s+(\d+)/(\d+)", out)
    assert delivered is not None and delivered.group(1) == delivered.group(2) and int(delivered.group(1)) > 0
    assert re.search(r"Messages sent \((\d+)\)", out)
    assert re.search(r"\d{4}-\d\d-\d\d – \d{4}-\d\d-\d\d @ ", out), "no calendar entry with a location shown"
