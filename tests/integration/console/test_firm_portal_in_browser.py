"""A firm user in a real browser beside the real matcher: their offer plans a learner at their firm, live, and
another firm's user sees none of it.

The firm user's account is made with `verbund console add-user --firm` as an operator runs it; the offer is
posted through the page; every placement the page shows was published by `python -m verbund_matcher`.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The matcher as the operator runs it lives beside the end-to-end tests; one copy serves both.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "e2e"))

from console_in_browser import PASSWORD, RunningConsole, console_environment, free_port, live, signed_in
from kafka_tools import produce
from playwright.async_api import Browser, expect
from service_processes import ServiceProcess, matcher_process
from verbund_schemas import topic

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]

PLANNED_WITHIN_MS = 60_000
ENGLISH = {"Accept-Language": "en"}
MODULE = "M-SPRITZ"


def add_firm_user(env: dict[str, str], email: str, network: str, firm: str) -> str:
    verbund = Path(sys.executable).parent / "verbund"
    result = subprocess.run(
        [str(verbund), "console", "add-user", email, "--network", network, "--firm", firm, "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


@pytest.fixture(scope="module")
def matcher(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with matcher_process(kafka_bootstrap, tmp_path_factory.mktemp("matcher")) as running:
        yield running


@pytest.fixture(scope="module")
def console(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    folder = tmp_path_factory.mktemp("firm-portal")
    port = free_port()
    env = console_environment(kafka_bootstrap, folder, port)
    network = f"net-{uuid.uuid4().hex[:8]}"
    said = add_firm_user(env, "hr@kunststoff-aachen.example", network, "F-AC")
    assert said.strip() == f"Created hr@kunststoff-aachen.example; firm F-AC of network {network}"
    add_firm_user(env, "hr@formenbau-bonn.example", network, "F-BN")
    running = RunningConsole(folder, network, f"other-{network}", env, port)
    running.start()
    try:
        yield running
    finally:
        running.stop()


async def _send(kafka_bootstrap: str, network: str, kind: str, data: dict[str, Any]) -> None:
    event = {
        "type": kind,
        "subject": network,
        "id": f"{network}-{kind}-{uuid.uuid4().hex[:8]}",
        "time": dt.datetime.now(dt.UTC).isoformat(),
        "data": data,
    }
    await produce(kafka_bootstrap, topic("inbound"), network, event)


async def test_a_firm_users_offer_brings_a_learner_onto_their_page_live_and_another_firm_sees_nothing(
    matcher: ServiceProcess, console: RunningConsole, browser: Browser, kafka_bootstrap: str
) -> None:
    network = console.network
    own = f"/f/{network}/F-AC/"
    page = await signed_in(browser, console, "hr@kunststoff-aachen.example", own, extra_http_headers=ENGLISH)
    await live(page)

    # The coordinators' office sets the network up; the learner waits for a seat.
    await _send(kafka_bootstrap, network, "NetworkConfigured", {"name": f"Verbund {network}", "notice_period_weeks": 0})
    await _send(
        kafka_bootstrap,
        network,
        "CurriculumPublished",
        {
            "curriculum_id": "C-VM",
            "name": "Verfahrensmechaniker Kunststoff",
            "modules": [{"module_id": MODULE, "name": "Spritzgießen", "duration_weeks": 4}],
            "groups": [{"group_id": "G-PF", "name": "Pflicht", "module_ids": [MODULE], "required": 1}],
        },
    )
    for firm, name, city in (("F-AC", "Kunststofftechnik Aachen", "Aachen"), ("F-BN", "Formenbau Bonn", "Bonn")):
        await _send(
            kafka_bootstrap, network, "FirmRegistered", {"firm_id": firm, "name": name, "location": {"city": city}}
        )
    await _send(
        kafka_bootstrap,
        network,
        "LearnerRegistered",
        {
            "learner_id": "L-01",
            "name": "Mara Keller",
            "contact": {"name": "Mara Keller", "email": f"mara.{network}@example.org"},
            "curriculum_id": "C-VM",
            "first_week": "2031-W02",
            "last_week": "2031-W20",
        },
    )

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
    await _send(
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
