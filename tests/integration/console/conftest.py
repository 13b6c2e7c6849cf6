"""Headless Chromium for the console's browser tests (Debian's package; a missing browser fails, never skips), and
the matcher as the operator runs it for those beside the real matcher."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# The matcher as the operator runs it lives beside the end-to-end tests; one copy serves both.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "e2e"))

from console_in_browser import CHROMIUM, CHROMIUM_ARGS
from playwright.async_api import Browser, async_playwright
from service_processes import ServiceProcess, matcher_process


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}; the console's browser tests need it. Install it with "
            "`make tools` (as root: apt-get install -y chromium).",
            pytrace=False,
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
def matcher(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with matcher_process(kafka_bootstrap, tmp_path_factory.mktemp("matcher")) as running:
        yield running
