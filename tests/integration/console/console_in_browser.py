"""The console as `python -m verbund_console` runs it, and a signed-in page in headless Chromium (browser tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect

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


def add_user(env: dict[str, str], email: str, network: str) -> None:
    verbund = Path(sys.executable).parent / "verbund"
    result = subprocess.run(
        [str(verbund), "console", "add-user", email, "--network", network, "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "networks granted" in result.stdout


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
