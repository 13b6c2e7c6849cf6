"""The console in a real browser beside the real matcher: a coordinator sees what the matcher planned, live.

Only inbound events are produced here (as a firm's or a coordinator's system would); every assignment and
shortfall the page shows was published by `python -m verbund_matcher` on the real broker.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from console_in_browser import (
    ENGLISH,
    MODULE,
    PLANNED_WITHIN_MS,
    RunningConsole,
    add_user,
    console_of_a_new_network,
    live,
    mara,
    plastics_network,
    send_inbound,
    signed_in,
)
from playwright.async_api import Browser, expect
from service_processes import ServiceProcess

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]


def coordinator(env: dict[str, str], network: str) -> None:
    add_user(env, "coord@example.org", network)


@pytest.fixture(scope="module")
def console(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    folder = tmp_path_factory.mktemp("console-and-matcher")
    with console_of_a_new_network(kafka_bootstrap, folder, coordinator) as running:
        yield running


async def test_capacity_and_a_learner_become_a_bar_and_withdrawn_capacity_a_shortfall_through_the_real_matcher(
    matcher: ServiceProcess, console: RunningConsole, browser: Browser, kafka_bootstrap: str
) -> None:
    network = console.network
    page = await signed_in(browser, console, "coord@example.org", f"/n/{network}/timeline", extra_http_headers=ENGLISH)
    await live(page)

    await plastics_network(kafka_bootstrap, network)
    await send_inbound(
        kafka_bootstrap,
        network,
        "FirmRegistered",
        {"firm_id": "F-AC", "name": "Kunststofftechnik Aachen", "location": {"city": "Aachen"}},
    )
    await send_inbound(
        kafka_bootstrap,
        network,
        "CapacityOffered",
        {
            "offer_id": "O-1",
            "firm_id": "F-AC",
            "module_id": MODULE,
            "first_week": "2031-W02",
            "last_week": "2031-W20",
            "max_seats": 1,
        },
    )
    await send_inbound(kafka_bootstrap, network, "LearnerRegistered", mara(network))

    # The matcher plans Mara into the one seat; the console shows her bar without a reload.
    row = page.locator('.row[data-learner="L-01"]')
    await expect(row.locator(f'.bar[data-module="{MODULE}"]')).to_be_visible(timeout=PLANNED_WITHIN_MS)
    await expect(row.locator(".name")).to_contain_text("Mara Keller")
    await expect(row.locator(f'.bar[data-module="{MODULE}"]')).to_contain_text("Spritzgießen")
    assert await page.evaluate("window.notReloaded") is True
    matcher.assert_running()

    problems = await signed_in(
        browser, console, "coord@example.org", f"/n/{network}/problems", extra_http_headers=ENGLISH
    )
    await live(problems)
    await send_inbound(
        kafka_bootstrap, network, "CapacityWithdrawn", {"offer_id": "O-1", "reason": "Machine broke down"}
    )

    # No seat is left: the matcher cancels the phase and names the shortfall's reason; both pages follow live.
    shortfall = problems.locator(".problem.shortfall.open", has_text="Mara Keller")
    await expect(shortfall.locator(".reason")).to_have_text(
        "No firm offers this module within the learner's training window.", timeout=PLANNED_WITHIN_MS
    )
    await expect(shortfall.locator(".message")).not_to_be_empty()
    await expect(row.locator(".bar")).to_have_count(0, timeout=PLANNED_WITHIN_MS)
    assert await problems.evaluate("window.notReloaded") is True
    assert await page.evaluate("window.notReloaded") is True
    matcher.assert_running()
