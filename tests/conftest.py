"""Shared fixtures and the CI rule: under CI=true nothing may be skipped.

Tests that need PostgreSQL, Chromium or ../shared skip on a developer's machine when
those are missing; in CI a skip would hide that they never ran, so it becomes a failure.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must run everything: {report.longrepr}"
    return report
