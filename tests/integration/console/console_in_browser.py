"""The console as `python -m verbund_console` runs it, and a signed-in page in headless Chromium (browser tests)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kafka_tools import produce
from playwright.async_api import Browser, Page, expect
from verbund_schemas import topic

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"
# Generous for a slow, shared machine; the live stream itself answers within the console's 0.4 s poll.
SEEN_WITHIN_MS = 20_000
# The one module of the network the browser tests beside the real matcher plan.
MODULE = "M-SPRITZ"
# The matcher replans within its 5 s limit after a batch; a slow shared machine gets room on top.
PLANNED_WITHIN_MS = 60_000
# The pages in English, whatever the machine's browser would ask for.
ENGLISH = {"Accept-Language": "en"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RunningConsole:
    """`python -m verbund_console` on a free port, with its log in a file; it can be stopped and started again."""

    def __init__(self, folder: Path, network: str, other_network: str, env: dict[str, str], port: int) -> None:
        self.folder, self.network, self.other_network, self.env = folder, network, other_network, env
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.folder / "console.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "verbund_console"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the console did not start: {self.log()[-4000:]}")
            time.sleep(0.3)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def log(self) -> str:
        return (self.folder / "console.log").read_text(errors="replace")


def console_environment(kafka_bootstrap: str, folder: Path, port: int) -> dict[str, str]:
    """A console of its own: its database in `folder`, consumer groups no other test shares."""
    return {
        **os.environ,
        "VERBUND_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "VERBUND_CONSOLE_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'console.db'}",
        "VERBUND_CONSOLE_SESSION_SECRET": uuid.uuid4().hex * 2,
        "VERBUND_CONSOLE_PORT": str(port),
        "VERBUND_CONSOLE_HEALTH_PORT": "0",
        "VERBUND_CONSOLE_GROUP_ID": f"console-test-{uuid.uuid4().hex[:8]}",
        "VERBUND_LOG_JSON": "false",
    }


@contextmanager
def console_with_accounts(
    kafka_bootstrap: str, folder: Path, network: str, accounts: Callable[[dict[str, str]], object]
) -> Iterator[RunningConsole]:
    """A console of its own for `network`, started once `accounts` has made its users in its environment with the
    command line; stopped afterwards."""
    port = free_port()
    env = console_environment(kafka_bootstrap, folder, port)
    accounts(env)
    running = RunningConsole(folder, network, f"other-{network}", env, port)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@contextmanager
def console_of_a_new_network(
    kafka_bootstrap: str, folder: Path, accounts: Callable[[dict[str, str], str], object]
) -> Iterator[RunningConsole]:
    """A console of its own for a network no other test uses, started once `accounts(env, network)` has made its
    users; stopped afterwards."""
    network = f"net-{uuid.uuid4().hex[:8]}"
    with console_with_accounts(kafka_bootstrap, folder, network, lambda env: accounts(env, network)) as running:
        yield running


def account_added(env: dict[str, str], email: str, network: str, *options: str) -> str:
    """`verbund console add-user` as an operator runs it (`options` such as `--firm F-AC`); what it printed."""
    verbund = Path(sys.executable).parent / "verbund"
    result = subprocess.run(
        [str(verbund), "console", "add-user", email, "--network", network, *options, "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def add_user(env: dict[str, str], email: str, network: str) -> None:
    assert "networks granted" in account_added(env, email, network)


async def send_inbound(kafka_bootstrap: str, network: str, kind: str, data: dict[str, Any]) -> None:
    """An inbound event as a firm's or the coordinators' system sends it."""
    event = {
        "type": kind,
        "subject": network,
        "id": f"{network}-{kind}-{uuid.uuid4().hex[:8]}",
        "time": dt.datetime.now(dt.UTC).isoformat(),
        "data": data,
    }
    await produce(kafka_bootstrap, topic("inbound"), network, event)


async def plastics_network(kafka_bootstrap: str, network: str) -> None:
    """The coordinators' office configures the network and publishes its curriculum of one module."""
    await send_inbound(
        kafka_bootstrap, network, "NetworkConfigured", {"name": f"Verbund {network}", "notice_period_weeks": 0}
    )
    await send_inbound(
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


def mara(network: str) -> dict[str, Any]:
    """The learner who waits for a seat in the plastics network."""
    return {
        "learner_id": "L-01",
        "name": "Mara Keller",
        "contact": {"name": "Mara Keller", "email": f"mara.{network}@example.org"},
        "curriculum_id": "C-VM",
        "first_week": "2031-W02",
        "last_week": "2031-W20",
    }


async def signed_in(browser: Browser, console: RunningConsole, email: str, path: str, **context: Any) -> Page:
    page = await (await browser.new_context(**context)).new_page()
    await page.goto(f"{console.url}{path}")
    await expect(page).to_have_url(f"{console.url}/signin?next={path}")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#sign-in")
    await expect(page).to_have_url(f"{console.url}{path}")
    return page


async def live(page: Page) -> None:
    """Wait until the page's change stream is open, then mark the document: a reload would lose the mark."""
    await expect(page.locator("#live")).not_to_be_empty(timeout=SEEN_WITHIN_MS)
    await page.evaluate("window.notReloaded = true")
