"""The console beside the real matcher on the real broker shows only what the matcher accepted: a capacity offer of
a firm the network does not know is rejected by `python -m verbund_matcher`, and the console's pages, live and
after `verbund console rebuild`, show the valid offer produced beside it but not that one."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from console_in_browser import (
    ENGLISH,
    MODULE,
    PASSWORD,
    RunningConsole,
    add_user,
    console_of_a_new_network,
    plastics_network,
    send_inbound,
)
from service_processes import ServiceProcess

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]

COORDINATOR = "coord@example.org"
DECIDED_WITHIN_S = 90.0


async def _signed_in(console: RunningConsole) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=console.url, headers=ENGLISH, timeout=30)
    page = await client.get("/signin")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = await client.post("/signin", data={"csrf": csrf, "email": COORDINATOR, "password": PASSWORD, "next": "/"})
    assert answer.status_code in (302, 303), answer.text[:500]
    return client


async def _pages(client: httpx.AsyncClient, network: str) -> dict[str, str]:
    """What a coordinator sees of the network's capacity, and its rejected inputs."""
    # The rejections first: a page read after them shows at least what the console knew when they were read.
    paths = {
        "rejected": f"/n/{network}/rejected?format=csv",
        "utilisation": f"/n/{network}/utilisation?format=csv",
        "firms": f"/n/{network}/firms?format=csv",
        "firms page": f"/n/{network}/firms",
    }
    found = {}
    for name, path in paths.items():
        answer = await client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        found[name] = answer.text
    return found


async def _decided(client: httpx.AsyncClient, network: str) -> dict[str, str]:
    """The pages once the console has read the matcher's rejection and the valid offer produced after the rejected
    one (so the rejected one has been read as well)."""
    deadline = time.monotonic() + DECIDED_WITHIN_S
    while True:
        pages = await _pages(client, network)
        if "F-NOWHERE" in pages["rejected"] and "F-AC" in pages["utilisation"]:
            return pages
        assert time.monotonic() < deadline, pages
        await asyncio.sleep(0.5)


def _rebuild(console: RunningConsole, kafka_bootstrap: str) -> None:
    verbund = Path(sys.executable).parent / "verbund"
    result = subprocess.run(
        [str(verbund), "console", "rebuild", "--bootstrap", kafka_bootstrap],
        env=console.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr


async def test_an_offer_the_matcher_rejects_is_not_shown_and_the_valid_one_beside_it_is(
    matcher: ServiceProcess, kafka_bootstrap: str, tmp_path: Path
) -> None:
    with console_of_a_new_network(kafka_bootstrap, tmp_path, lambda env, n: add_user(env, COORDINATOR, n)) as console:
        network = console.network
        client = await _signed_in(console)
        try:
            await plastics_network(kafka_bootstrap, network)
            await send_inbound(
                kafka_bootstrap,
                network,
                "FirmRegistered",
                {"firm_id": "F-AC", "name": "Kunststofftechnik Aachen", "location": {"city": "Aachen"}},
            )
            offer = {"module_id": MODULE, "first_week": "2031-W02", "last_week": "2031-W20", "max_seats": 2}
            await send_inbound(
                kafka_bootstrap, network, "CapacityOffered", {**offer, "offer_id": "O-X", "firm_id": "F-NOWHERE"}
            )
            await send_inbound(
                kafka_bootstrap, network, "CapacityOffered", {**offer, "offer_id": "O-1", "firm_id": "F-AC"}
            )

            pages = await _decided(client, network)
            assert "unknown firm 'F-NOWHERE'" in pages["rejected"], "the matcher's own reason"
            # The firms' timeline has a row per firm × module offered (its CSV only the learners placed: none).
            for name in ("utilisation", "firms page"):
                assert "F-AC" in pages[name], name
            for name in ("utilisation", "firms", "firms page"):
                assert "F-NOWHERE" not in pages[name], f"the {name} shows the rejected offer"
            matcher.assert_running()

            _rebuild(console, kafka_bootstrap)
            rebuilt = await _decided(client, network)
            assert rebuilt["utilisation"] == pages["utilisation"]
            assert "F-NOWHERE" not in rebuilt["firms page"]
        finally:
            await client.aclose()
