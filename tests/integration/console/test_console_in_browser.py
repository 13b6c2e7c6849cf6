"""The console in a real browser (headless Chromium via Playwright), its consumers on the real broker.

The console runs as `python -m verbund_console` does; events are produced to the real topics and the pages must
change without a reload. Screenshots of each page go to docs/console/.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from verbund_schemas import Envelope, encode_event, topic

# The event factories live beside the unit tests; one copy serves both.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "console"))

from console_events import (
    assignment_changed,
    assignment_made,
    capacity_offered,
    plan_published,
    rejected,
    shortfall_detected,
)
from console_in_browser import (
    SEEN_WITHIN_MS,
    RunningConsole,
    add_user,
    console_environment,
    free_port,
    live,
    signed_in,
)
from kafka_tools import produce
from playwright.async_api import Browser, expect

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "console"
GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture(scope="module")
def console(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    folder = tmp_path_factory.mktemp("console")
    port = free_port()
    run = uuid.uuid4().hex[:8]
    env = console_environment(kafka_bootstrap, folder, port)
    network, other = f"net-{run}", f"other-{run}"
    add_user(env, "coord@example.org", network)
    add_user(env, "stranger@example.org", other)
    running = RunningConsole(folder, network, other, env, port)
    running.start()
    try:
        yield running
    finally:
        running.stop()


async def _publish(kafka_bootstrap: str, role: str, event: Envelope) -> None:
    await produce(kafka_bootstrap, topic(role), event.subject, encode_event(event))


async def test_a_published_assignment_appears_on_the_signed_in_coordinators_timeline_without_reload(
    console: RunningConsole, browser: Browser, kafka_bootstrap: str
) -> None:
    page = await signed_in(
        browser,
        console,
        "coord@example.org",
        f"/n/{console.network}/timeline",
        locale="en-GB",
        extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    await live(page)

    await _publish(
        kafka_bootstrap,
        "assignments",
        assignment_made(console.network, "anna", "M1", "f1", "2027-W10", "2027-W19", learner_name="Anna Berg"),
    )
    await _publish(
        kafka_bootstrap,
        "assignments",
        assignment_made(console.network, "anna", "M2", "f2", "2027-W22", "2027-W30", learner_name="Anna Berg"),
    )
    await _publish(kafka_bootstrap, "assignments", plan_published(console.network, 1))

    row = page.locator('.row[data-learner="anna"]')
    await expect(row.locator('.bar[data-module="M1"]')).to_be_visible(timeout=SEEN_WITHIN_MS)
    await expect(row.locator('.bar[data-module="M2"]')).to_be_visible(timeout=SEEN_WITHIN_MS)
    await expect(row.locator(".name")).to_have_text("Anna Berg")
    assert await page.evaluate("window.notReloaded") is True
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "timeline.png"), full_page=True)

    await page.goto(f"{console.url}/n/{console.network}/")
    await expect(page.locator("#placed")).to_have_text("1")
    await expect(page.locator("#plan")).to_contain_text("version 1")
    await page.screenshot(path=str(SCREENSHOTS / "overview.png"), full_page=True)


async def test_a_shortfall_appears_on_the_problems_page_with_its_reason_in_words(
    console: RunningConsole, browser: Browser, kafka_bootstrap: str
) -> None:
    page = await signed_in(
        browser,
        console,
        "coord@example.org",
        f"/n/{console.network}/problems",
        extra_http_headers={"Accept-Language": "en"},
    )
    await live(page)

    await _publish(kafka_bootstrap, "shortfalls", shortfall_detected(console.network, "ben", "M3"))

    problem = page.locator(f'[data-problem="{console.network}:ben:g1:M3"]')
    await expect(problem.locator(".reason")).to_have_text(
        "No firm offers this module within the learner's training window.", timeout=SEEN_WITHIN_MS
    )
    await expect(problem).to_have_class("problem shortfall open")
    assert await page.evaluate("window.notReloaded") is True
    await page.screenshot(path=str(SCREENSHOTS / "problems.png"), full_page=True)

    # The switch is kept for the next pages, over the browser's own language.
    await page.click("#switch-language")
    await expect(page.locator("h1")).to_have_text("Probleme")
    await expect(problem.locator(".reason")).to_have_text("Kein Betrieb bietet dieses Modul im Ausbildungszeitraum an.")
    await page.goto(f"{console.url}/n/{console.network}/timeline")
    await expect(page.locator("h1")).to_have_text("Zeitplan je Person")


async def test_a_coordinator_without_access_to_the_network_gets_403(console: RunningConsole, browser: Browser) -> None:
    page = await signed_in(
        browser, console, "stranger@example.org", f"/n/{console.other_network}/", extra_http_headers=GERMAN
    )

    answer = await page.goto(f"{console.url}/n/{console.network}/")

    assert answer is not None and answer.status == 403
    await expect(page.locator(".error")).to_contain_text("nicht freigegeben")
    events = await page.request.get(f"{console.url}/n/{console.network}/events")
    assert events.status == 403


async def test_the_signin_page_is_all_a_stranger_sees(console: RunningConsole, browser: Browser) -> None:
    page = await (await browser.new_context(extra_http_headers=GERMAN)).new_page()

    await page.goto(f"{console.url}/n/{console.network}/")

    await expect(page).to_have_url(f"{console.url}/signin?next=/n/{console.network}/")
    await page.fill("input[name=email]", "coord@example.org")
    await page.fill("input[name=password]", "not the password")
    await page.click("#sign-in")
    await expect(page.locator(".error")).to_have_text("E-Mail oder Passwort ist falsch.")
    await page.screenshot(path=str(SCREENSHOTS / "signin.png"))


async def test_a_page_that_lost_its_stream_catches_up_after_reconnecting(
    console: RunningConsole, browser: Browser, kafka_bootstrap: str
) -> None:
    page = await signed_in(
        browser, console, "coord@example.org", f"/n/{console.network}/timeline", extra_http_headers=ENGLISH
    )
    await live(page)

    await asyncio.to_thread(console.stop)
    await expect(page.locator("#live")).to_have_text("disconnected – reconnecting …", timeout=SEEN_WITHIN_MS)
    cem = assignment_made(console.network, "cem", "M1", "f1", "2027-W12", "2027-W20", learner_name="Cem Aydin")
    await _publish(kafka_bootstrap, "assignments", cem)
    await asyncio.to_thread(console.start)

    await expect(page.locator('.row[data-learner="cem"] .bar[data-module="M1"]')).to_be_visible(timeout=SEEN_WITHIN_MS)
    await expect(page.locator("#live")).to_have_text("live")
    assert await page.evaluate("window.notReloaded") is True


async def test_firm_timeline_utilisation_history_and_rejected_pages_show_what_was_published(
    console: RunningConsole, browser: Browser, kafka_bootstrap: str
) -> None:
    network = console.network
    page = await signed_in(browser, console, "coord@example.org", f"/n/{network}/firms", extra_http_headers=ENGLISH)
    await live(page)
    # Anna is at f1 for M1 in W10–W19 and Cem in W12–W20 (the tests above); f1 runs M1 for two or nobody.
    await _publish(
        kafka_bootstrap,
        "inbound",
        capacity_offered(network, "o-f1-m1", "f1", "M1", "2027-W08", "2027-W20", max_seats=2, min_seats=2),
    )
    anna_m2 = assignment_made(network, "anna", "M2", "f2", "2027-W22", "2027-W30", learner_name="Anna Berg")
    await _publish(
        kafka_bootstrap, "assignments", assignment_changed(anna_m2, 2, firm="f3", start="2027-W31", end="2027-W38")
    )
    await _publish(kafka_bootstrap, "assignments", plan_published(network, 2, changed=1))
    payload = (
        b'{"type": "CapacityOffered", "note": "<img src=x onerror=window.pwned=1><script>window.pwned=2</script>"}'
    )
    await _publish(kafka_bootstrap, "rejected", rejected(network, payload, offset=41))

    # Per firm, live: a row per firm x module, a bar per learner.
    await expect(page.locator('.row[data-firm="f3"][data-module="M2"] .bar[data-learner="anna"]')).to_be_visible(
        timeout=SEEN_WITHIN_MS
    )
    f1 = page.locator('.row[data-firm="f1"][data-module="M1"]')
    await expect(f1.locator(".bar")).to_have_count(2)
    assert await page.evaluate("window.notReloaded") is True
    await page.screenshot(path=str(SCREENSHOTS / "firms.png"), full_page=True)

    # Filters and zoom are a form and links on the page; each keeps the others.
    await page.select_option("select[name=firm]", "f1")
    await page.click("#apply-filters")
    await expect(page.locator(".row[data-firm]")).to_have_count(1)
    await page.click('[data-zoom="week"]')
    await expect(page.locator(".timeline.zoom-week")).to_be_visible()
    assert "firm=f1" in page.url and "zoom=week" in page.url
    await page.fill("input[name=search]", "cem")
    await page.click("#apply-filters")
    await expect(f1.locator(".bar")).to_have_count(1)
    await expect(f1.locator('.bar[data-learner="cem"]')).to_be_visible()
    await page.goto(f"{console.url}/n/{network}/timeline?search=berg&zoom=year")
    await expect(page.locator(".row[data-learner]")).to_have_count(1)
    await expect(page.locator('.row[data-learner="anna"] .name')).to_contain_text("Anna Berg")

    # Utilisation: under the minimum and full weeks carry a mark besides their colour; a cell says who is there.
    await page.goto(f"{console.url}/n/{network}/utilisation")
    row = page.locator('tr[data-firm="f1"][data-module="M1"]')
    await expect(row.locator('td[data-week="2027-W10"]')).to_have_attribute("data-state", "under")
    await expect(row.locator('td[data-week="2027-W10"]')).to_have_text("1▾")
    await expect(row.locator('td[data-week="2027-W12"]')).to_have_text("2●")
    await page.screenshot(path=str(SCREENSHOTS / "utilisation.png"), full_page=True)
    await row.locator('td[data-week="2027-W12"] a').click()
    await expect(page.locator("#present")).to_contain_text("Anna Berg")
    await expect(page.locator("#present")).to_contain_text("Cem Aydin")

    # History: who moved from where to where, and why in words.
    await page.goto(f"{console.url}/n/{network}/history")
    moved = page.locator('[data-version="2"] tr[data-kind="changed"][data-learner="anna"]')
    await expect(moved.locator(".before")).to_have_text("Firm f2 2027-W22–2027-W30")
    await expect(moved.locator(".after")).to_have_text("Firm f3 2027-W31–2027-W38")
    await expect(moved.locator(".why")).to_contain_text("An offer for Module M2 changed (weeks or seats).")
    await page.screenshot(path=str(SCREENSHOTS / "history.png"), full_page=True)

    # Rejected: the payload as text; nothing in it runs.
    await page.goto(f"{console.url}/n/{network}/rejected")
    rejection = page.locator(".rejection", has=page.locator(".where", has_text="verbund.inbound/0/41"))
    await expect(rejection.locator(".payload")).to_have_text(payload.decode())
    await expect(rejection.locator(".size")).to_have_text(str(len(payload)))
    assert await page.evaluate("window.pwned") is None
    assert await page.locator("main img, main script").count() == 0
    await page.screenshot(path=str(SCREENSHOTS / "rejected.png"), full_page=True)
    await page.click("#switch-language")
    await expect(page.locator("h1")).to_have_text("Abgewiesene Ereignisse")

    # Exports, with the page's own session.
    exported = await page.request.get(f"{console.url}/n/{network}/utilisation?format=csv")
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert (await exported.text()).lstrip("\ufeff").startswith("firm_id,firm_name,module_id,module_name,week,")
    ics = await page.request.get(f"{console.url}/n/{network}/learners/anna.ics")
    assert ics.status == 200 and (await ics.text()).startswith("BEGIN:VCALENDAR")


async def test_a_rebuild_from_the_topics_gives_the_same_pages(console: RunningConsole, browser: Browser) -> None:
    page = await signed_in(browser, console, "coord@example.org", f"/n/{console.network}/", extra_http_headers=ENGLISH)
    views = ("", "problems", "timeline", "firms", "utilisation", "history", "rejected")
    paths = [f"/n/{console.network}/{view}" for view in views]

    async def pages() -> list[str]:
        shown = []
        for path in paths:
            await page.goto(f"{console.url}{path}")
            shown.append(await page.locator("main").inner_html())
        return shown

    before = await pages()
    verbund = Path(sys.executable).parent / "verbund"
    result = await asyncio.to_thread(
        subprocess.run,
        [str(verbund), "console", "rebuild", "--bootstrap", console.env["VERBUND_KAFKA_BOOTSTRAP_SERVERS"]],
        env=console.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Rebuilt the read model" in result.stdout

    assert await pages() == before
    assert "Cem Aydin" in before[2] and "Anna Berg" in before[2]
    assert "Firm f3 2027-W31–2027-W38" in before[5] and "verbund.inbound/0/41" in before[6]
