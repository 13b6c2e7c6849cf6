"""The wire format is client-neutral: events written with kcat are planned, and kcat reads the result."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest
import tiny_network as net
from kafka_tools import kcat_security_args
from service_processes import ServiceProcess
from verbund_schemas import AssignmentMade, decode_event, topic

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(180)]


def _kcat() -> str:
    found = shutil.which("kcat")
    assert found, "kcat is not on PATH; `make tools` installs it (Debian package kcat)"
    return found


def _kcat_produce(bootstrap: str, network: str, records: list[dict[str, object]]) -> None:
    # key<TAB>value per line; JSON never holds a raw tab, so the delimiter is unambiguous.
    lines = "".join(f"{network}\t{json.dumps(r, ensure_ascii=False)}\n" for r in records)
    subprocess.run(
        [
            _kcat(),
            "-b",
            bootstrap,
            *kcat_security_args(kcat=_kcat()),
            "-P",
            "-t",
            topic("inbound"),
            "-K",
            "\t",
            "-X",
            "acks=all",
        ],
        input=lines.encode("utf-8"),
        check=True,
        timeout=60,
    )


def _kcat_read_all(bootstrap: str, topic_name: str) -> list[tuple[str, str]]:
    done = subprocess.run(
        [
            _kcat(),
            "-b",
            bootstrap,
            *kcat_security_args(kcat=_kcat()),
            "-C",
            "-t",
            topic_name,
            "-o",
            "beginning",
            "-e",
            "-q",
            "-f",
            "%k\t%s\n",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    pairs = []
    for line in done.stdout.decode("utf-8").splitlines():
        key, _, value = line.partition("\t")
        pairs.append((key, value))
    return pairs


def test_capacity_offered_with_kcat_yields_an_assignment_kcat_can_read(
    kafka_bootstrap: str, matcher: ServiceProcess
) -> None:
    network = net.network_id("kcat")
    _kcat_produce(kafka_bootstrap, network, net.setup_records(network))
    offer = net.capacity_record(network)
    _kcat_produce(kafka_bootstrap, network, [offer])

    made: AssignmentMade | None = None
    for _ in range(240):  # re-read with kcat until the matcher has published (or the test timeout ends it)
        for key, value in _kcat_read_all(kafka_bootstrap, topic("assignments")):
            if key == network and '"AssignmentMade"' in value:
                event = decode_event(value)
                assert isinstance(event, AssignmentMade)
                made = event
        if made is not None:
            break
        matcher.assert_running()
        time.sleep(0.5)

    assert made is not None, f"no AssignmentMade for {network}; matcher log:\n{matcher.log_tail()}"
    assert made.subject == network
    data = made.data
    assert (data.learner_id, data.module_id, data.firm_id) == (net.LEARNER_ID, net.MODULE_ID, net.FIRM_ID)
    assert data.firm_name == "Kunststofftechnik Aachen" and data.module_name == "Spritzgießen"
    offered = offer["data"]
    assert isinstance(offered, dict)
    assert offered["first_week"] <= data.start_week <= data.end_week <= offered["last_week"]
