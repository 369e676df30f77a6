"""Fixtures of the web suites: a headless Debian chromium for the browser stories (the web pages'
``people`` and ``visit`` are in tests/conftest.py: other suites' stories end on a clerk's page too)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Error, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium (./dev test installs it)")
    args = FLAGS + (["--no-sandbox"] if os.geteuid() == 0 else [])  # chromium's sandbox refuses to run as root
    async with async_playwright() as playwright:
        try:
            launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        except Error as exc:
            pytest.fail(f"chromium ({CHROMIUM}) could not start: {exc}")
        try:
            yield launched
        finally:
            await launched.close()
