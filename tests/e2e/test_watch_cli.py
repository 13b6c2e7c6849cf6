"""`verbund watch` shows the matcher's assignments as they arrive (plain lines when stdout is not a terminal)."""

from __future__ import annotations

import signal

import pytest
import tiny_network as net
from kafka_tools import produce
from service_processes import ServiceProcess
from verbund_cli import run_verbund, start_verbund
from verbund_schemas import AssignmentMade, topic
from wire import wait_for_event

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(180)]


async def test_watch_prints_the_assignment_as_it_is_made_and_stops_cleanly_on_ctrl_c(
    kafka_bootstrap: str, matcher: ServiceProcess
) -> None:
    network = net.network_id("watch")
    other = net.network_id("other")
    watch = start_verbund("watch", "--network", network, "--timeout", "150", bootstrap=kafka_bootstrap)
    try:
        assert watch.stdout is not None and watch.stderr is not None
        ready = watch.stderr.readline()  # printed once every partition's position is known
        assert ready.startswith("watching "), ready + watch.stderr.read()

        for record in [*net.all_records(other), *net.all_records(network)]:
            await produce(kafka_bootstrap, topic("inbound"), record["subject"], record)
        shown: list[str] = []
        while not any(" AssignmentMade " in line for line in shown):
            line = watch.stdout.readline()
            assert line, f"watch ended early: {shown} {watch.stderr.read()}"
            shown.append(line)
        watch.send_signal(signal.SIGINT)
        _, err = watch.communicate(timeout=60)
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()

    assert watch.returncode == 0, err
    assert "Traceback" not in err and err.strip().endswith("stopped.")
    assert all(f" network={network} " in line for line in shown), shown
    (made,) = [line for line in shown if " AssignmentMade " in line]
    assert "learner=Mara Keller (L-01)" in made
    assert "module=Spritzgießen (M-SPRITZ)" in made
    assert "firm=Kunststofftechnik Aachen (F-AC)" in made
    assert "weeks=2031-W" in made and "plan v" in made


async def test_watch_from_the_beginning_stops_by_itself_after_max_events(
    kafka_bootstrap: str, matcher: ServiceProcess
) -> None:
    network = net.network_id("replay")
    for record in net.all_records(network):
        await produce(kafka_bootstrap, topic("inbound"), network, record)
    await wait_for_event(kafka_bootstrap, topic("assignments"), network, lambda e: isinstance(e, AssignmentMade))

    done = run_verbund(
        "watch",
        "--network",
        network,
        "--from-beginning",
        "--max-events",
        "2",
        "--timeout",
        "60",
        bootstrap=kafka_bootstrap,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and all(f" network={network} " in line for line in lines), done.stdout


async def test_watch_exits_1_when_the_timeout_ends_it_before_max_events(kafka_bootstrap: str) -> None:
    done = run_verbund(
        "watch",
        "--network",
        net.network_id("quiet"),
        "--max-events",
        "1",
        "--timeout",
        "1",
        bootstrap=kafka_bootstrap,
    )

    assert done.returncode == 1
    assert done.stdout == ""
    assert "0 of 1 events shown" in done.stderr
