"""A real headless browser for the tests of the pages we write (reports, replays).

Debian's chromium (``/usr/bin/chromium``, installed by `.ci/run` with apt) driven by
Playwright, which is told where the browser is and so never downloads one. The page is
opened from a ``file://`` address with the network closed: a page that needs anything
from outside itself fails its test. Every console message and page error is kept, so a
test asserts that a page loads cleanly.

The ``browser`` fixture is registered by ``tests/conftest.py``::

    from browser import Browser

    def test_page(browser: Browser, tmp_path):
        page = browser.open(tmp_path / "report.html")
        assert page.errors == []
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SIM_TEST_CHROMIUM", "/usr/bin/chromium")
"""The browser the tests drive; `.ci/run` installs Debian's package, which puts it here."""

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Without the background-networking flags chromium keeps trying to reach Google's hosts,
which this machine's closed network refuses."""


@dataclass
class OpenPage:
    """A page loaded in the browser, with what it said on its console."""

    page: Any
    console: list[str] = field(default_factory=list)
    """Every console message, as ``type: text``."""
    errors: list[str] = field(default_factory=list)
    """Uncaught exceptions, console errors and requests the page tried to make outside
    itself (the page must be self-contained)."""
    dialogs: list[str] = field(default_factory=list)
    """Messages of alert/confirm/prompt dialogs the page opened (an injected script's
    ``alert(1)`` lands here)."""


class Browser:
    """One chromium for the test module; each `open` gets a fresh page and context."""

    def __init__(self, playwright: Any) -> None:
        self._browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(FLAGS))
        self._contexts: list[Any] = []

    def open(
        self, path: Path, *, width: int = 1280, height: int = 800, wait_for: str | None = None
    ) -> OpenPage:
        """Load `path` (a local HTML file) and wait until it has settled."""
        context = self._browser.new_context(viewport={"width": width, "height": height})
        self._contexts.append(context)
        page = context.new_page()
        opened = OpenPage(page)

        def on_console(message: Any) -> None:
            opened.console.append(f"{message.type}: {message.text}")
            if message.type == "error":
                opened.errors.append(f"console: {message.text}")

        def on_request(request: Any) -> None:
            if not request.url.startswith(("file:", "data:", "blob:", "about:")):
                opened.errors.append(f"request outside the page: {request.url}")

        def on_dialog(dialog: Any) -> None:
            opened.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", lambda error: opened.errors.append(f"page error: {error}"))
        page.on("request", on_request)
        page.on("dialog", on_dialog)
        page.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(("file:", "data:", "blob:"))
                else route.abort()
            ),
        )
        page.goto(Path(path).resolve().as_uri())
        page.wait_for_load_state("load")
        if wait_for is not None:
            page.wait_for_selector(wait_for)
        return opened

    def close(self) -> None:
        for context in self._contexts:
            context.close()
        self._browser.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless chromium for the module's tests. There is no skip: CI installs the
    browser, and a missing one is a failure that names it."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.fail(f"no browser at {CHROMIUM}: install Debian's chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        opened = Browser(playwright)
        try:
            yield opened
        finally:
            opened.close()
