"""Playwright plumbing for the browser tests: one Chromium in a worker thread.

Why a worker thread: Playwright's sync API marks an asyncio loop as *running* in the
thread that started it, for as long as it lives (between calls too). Django refuses
every ORM call in such a thread (`SynchronousOnlyOperation`), which would break
pytest-django's own database flush and every later test of the session. So the one
Playwright driver and Chromium of the session live in a dedicated thread, and a test
hands them its browser steps through `browse(steps)`. The test's own thread never sees
the loop: it seeds data before `browse(...)` and checks the database after, with no
`DJANGO_ALLOW_ASYNC_UNSAFE`. An ORM call *inside* the steps fails loudly, by design.

Screenshots go to artifacts/screenshots/ (ignored by git). With
LIMBGUARD_UPDATE_SCREENSHOTS=1 the ones taken with `docs=True` are also written to
docs/screenshots/ for the README, always at the same 1280x800 viewport.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from playwright.sync_api import Browser, Error, Page, Playwright, ViewportSize, sync_playwright

from limbguard.testing import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
# The closed network here refuses Chromium's background connections; these flags stop
# it from trying (../shared/reference/stack_notes.md).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
STEP_TIMEOUT_MS = 10_000
# A whole browse() call: far above any test, so that a hang fails instead of blocking CI.
BROWSE_TIMEOUT_S = 120

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"

T = TypeVar("T")


class BrowserThread:
    """One Playwright driver and one Chromium, owned by a single worker thread."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._executor.submit(self._start).result(timeout=BROWSE_TIMEOUT_S)

    def _start(self) -> None:
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )

    def _stop(self) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()

    def close(self) -> None:
        try:
            self._executor.submit(self._stop).result(timeout=BROWSE_TIMEOUT_S)
        finally:
            self._executor.shutdown(wait=True)

    def run(self, steps: Callable[[Page], T], *, base_url: str, name: str) -> T:
        """Run `steps` on a fresh page with its own cookies, in the browser thread."""
        future = self._executor.submit(self._in_new_context, steps, base_url, name)
        return future.result(timeout=BROWSE_TIMEOUT_S)

    def _in_new_context(self, steps: Callable[[Page], T], base_url: str, name: str) -> T:
        assert self._browser is not None
        context = self._browser.new_context(base_url=base_url, viewport=VIEWPORT)
        context.set_default_timeout(STEP_TIMEOUT_MS)
        page = context.new_page()
        in_flight = _InFlight(page)
        try:
            result = steps(page)
            in_flight.settle()
            return result
        except BaseException:
            # The page as it was when the test failed, for whoever reads the CI log.
            failures = ARTIFACTS / "failures"
            failures.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Error):
                page.screenshot(path=str(failures / f"{_safe(name)}.png"), full_page=True)
            in_flight.settle()
            raise
        finally:
            context.close()


class _InFlight:
    """Counts the page's unanswered requests, so that a test ends only after the live
    server has answered them all. With SQLite the server thread shares the test's
    in-memory connection: a request still running (an htmx section loading after the
    last step) would otherwise race the database flush that ends the test."""

    def __init__(self, page: Page) -> None:
        self._page = page
        self._open = 0
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, _: object) -> None:
        self._open += 1

    def _ended(self, _: object) -> None:
        self._open -= 1

    def settle(self) -> None:
        with contextlib.suppress(Error):
            # Requests that the last page sends once loaded (hx-trigger="load") ...
            self._page.wait_for_load_state("networkidle", timeout=STEP_TIMEOUT_MS)
            # ... and any sent later, e.g. by typing into a live search.
            deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
            while self._open > 0 and time.monotonic() < deadline:
                self._page.wait_for_timeout(20)


class Browse:
    """`browse(steps)`: run `steps(page)` against the live server; returns their result."""

    def __init__(self, thread: BrowserThread, base_url: str, name: str) -> None:
        self._thread = thread
        self._base_url = base_url
        self._name = name

    def __call__(self, steps: Callable[[Page], T]) -> T:
        return self._thread.run(steps, base_url=self._base_url, name=self._name)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


# --- steps shared by the tests (they run in the browser thread: no ORM here) --------


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form and wait until the browser has left it."""
    page.goto("/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def screenshot(page: Page, name: str, *, docs: bool = False) -> Path:
    """Save artifacts/screenshots/<name>.png of the viewport; with `docs`, copy it to
    docs/screenshots/ too when LIMBGUARD_UPDATE_SCREENSHOTS=1."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Sections that htmx loads after the page (the chart's limb status) are in place.
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path))
    if docs and os.environ.get("LIMBGUARD_UPDATE_SCREENSHOTS", "") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (DOCS_SCREENSHOTS / f"{name}.png").write_bytes(path.read_bytes())
    return path
