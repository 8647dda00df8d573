"""Fixtures of the browser tests; the Playwright plumbing and its reasons are in support.py.

Without /usr/bin/chromium the tests skip; under CI=true the root conftest turns that
skip into a failure.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.browser.support import CHROMIUM, Browse, BrowserThread


@pytest.fixture(scope="session")
def browser_thread() -> Iterator[BrowserThread]:
    """Playwright and Chromium, started once for the session in their own thread."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    thread = BrowserThread()
    yield thread
    thread.close()


@pytest.fixture
def browse(
    browser_thread: BrowserThread,
    live_server: LiveServer,
    settings: Settings,
    request: pytest.FixtureRequest,
) -> Browse:
    """Run browser steps against `live_server` (which brings `transactional_db`)."""
    # live_server speaks plain http, where the browser would drop Secure cookies.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return Browse(browser_thread, live_server.url, request.node.name)
