"""A firm user in a real browser beside the real matcher: their offer plans a learner at their firm, live, and
another firm's user sees none of it.

The firm user's account is made with `verbund console add-user --firm` as an operator runs it; the offer is
posted through the page; every placement the page shows was published by `python -m verbund_matcher`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from console_in_browser import (
    ENGLISH,
    MODULE,
    PLANNED_WITHIN_MS,
    RunningConsole,
    account_added,
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


def firm_users(env: dict[str, str], network: str) -> None:
    said = account_added(env, "hr@kunststoff-aachen.example", network, "--firm", "F-AC")
    assert said.strip() == f"Created hr@kunststoff-aachen.example; firm F-AC of network {network}"
    account_added(env, "hr@formenbau-bonn.example", network, "--firm", "F-BN")


@pytest.fixture(scope="module")
def console(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    folder = tmp_path_factory.mktemp("firm-portal")
    with console_of_a_new_network(kafka_bootstrap, folder, firm_users) as running:
        yield running


async def test_a_firm_users_offer_brings_a_learner_onto_their_page_live_and_another_firm_sees_nothing(
    matcher: ServiceProcess, console: RunningConsole, browser: Browser, kafka_bootstrap: str
) -> None:
    network = console.network
    own = f"/f/{network}/F-AC/"
    page = await signed_in(browser, console, "hr@kunststoff-aachen.example", own, extra_http_headers=ENGLISH)
    await live(page)

    # The coordinators' office sets the network up; the learner waits for a seat.
    await plastics_network(kafka_bootstrap, network)
    for firm, name, city in (("F-AC", "Kunststofftechnik Aachen", "Aachen"), ("F-BN", "Formenbau Bonn", "Bonn")):
        await send_inbound(
            kafka_bootstrap, network, "FirmRegistered", {"firm_id": firm, "name": name, "location": {"city": city}}
        )
    await send_inbound(kafka_bootstrap, network, "LearnerRegistered", mara(network))

    # The module appears in the offer form without a reload, once the console has the curriculum.
    await expect(page.locator(f'select[name=module_id] option[value="{MODULE}"]')).to_have_count(
        1, timeout=PLANNED_WITHIN_MS
    )
    assert await page.evaluate("window.notReloaded") is True
    await page.select_option("select[name=module_id]", MODULE)
    form = page.locator("#new-offer")
    await form.locator("input[name=first_week]").fill("2031-W02")
    await form.locator("input[name=last_week]").fill("2031-W20")
    await form.locator("input[name=max_seats]").fill("1")
    # A change arriving while the form is being filled in refreshes the page live, but keeps what was typed.
    await page.evaluate("document.querySelector('main h1').dataset.before = 'refresh'")
    await send_inbound(
        kafka_bootstrap,
        network,
        "FirmUpdated",
        {"firm_id": "F-AC", "name": "Kunststofftechnik Aachen", "location": {"city": "Aachen"}},
    )
    await expect(page.locator("main h1[data-before]")).to_have_count(0, timeout=PLANNED_WITHIN_MS)
    await expect(form.locator("input[name=first_week]")).to_have_value("2031-W02")
    await expect(form.locator("input[name=max_seats]")).to_have_value("1")
    await form.locator("button").click()
    await expect(page.locator("#sent")).to_be_visible()
    await live(page)

    # The matcher plans Mara into the seat; the firm's page shows her without a reload.
    placement = page.locator('tr.placement[data-learner="L-01"]')
    await expect(placement).to_contain_text("Mara Keller", timeout=PLANNED_WITHIN_MS)
    await expect(placement).to_contain_text("Spritzgießen")
    await expect(page.locator("tr.offer")).to_contain_text("2031-W02–2031-W20")
    assert await page.evaluate("window.notReloaded") is True
    matcher.assert_running()

    other = await signed_in(
        browser, console, "hr@formenbau-bonn.example", f"/f/{network}/F-BN/", extra_http_headers=ENGLISH
    )
    await expect(other.locator("#firm-name")).to_contain_text("Formenbau Bonn")
    assert "Mara" not in await other.content()
    assert "Kunststofftechnik" not in await other.content()
    refused = await other.goto(f"{console.url}{own}")
    assert refused is not None and refused.status == 403
    assert "Mara" not in await other.content()
    coordinators = await other.goto(f"{console.url}/n/{network}/timeline")
    assert coordinators is not None and coordinators.status == 403
