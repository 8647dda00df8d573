"""Shared fixtures and the CI rule: under CI=true nothing may be skipped.

Tests that need PostgreSQL, Chromium or ../shared skip on a developer's machine when
those are missing; in CI a skip would hide that they never ran, so it becomes a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings as hypothesis_settings

from limbguard.testing import Personas, make_patient, make_personas

if TYPE_CHECKING:
    from limbguard.registry.models import Patient

IN_CI = os.environ.get("CI", "").lower() == "true"

# Property tests are specs, not timings: no per-example deadline (a loaded 2-core CI
# machine would make it flaky; speed lives in bench/), and the same examples every run.
hypothesis_settings.register_profile("limbguard", deadline=None, derandomize=True)
hypothesis_settings.load_profile("limbguard")
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


# --- personas and seeded data (Django tests) ---------------------------------------
# limbguard.testing imports Django lazily, so the pure vascular tests can still run
# with `-p no:django`.


@pytest.fixture
def personas(db: None) -> Personas:
    """Four centers, one user per role, and an outsider from another center."""
    return make_personas()


@pytest.fixture
def patient_at(personas: Personas) -> Callable[..., Patient]:
    """Create a patient at a center (default: Harbor) through the registry service."""

    def create(center: str = "harbor", **fields: Any) -> Patient:
        return make_patient(personas.centers[center], **fields)

    return create


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest) -> None:
    """Argon2 is deliberately slow; tests that only need *a* password use MD5.
    (tests/config/test_env.py checks that production settings use Argon2.) Skipped
    when the rules tests run without Django (`-p no:django`)."""
    if request.config.pluginmanager.hasplugin("django"):
        settings = request.getfixturevalue("settings")
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
