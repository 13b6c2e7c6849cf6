"""Headless Chromium for the console's browser tests (Debian's package; a missing browser fails, never skips)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from console_in_browser import CHROMIUM, CHROMIUM_ARGS
from playwright.async_api import Browser, async_playwright


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
