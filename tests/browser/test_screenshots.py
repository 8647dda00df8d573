"""Screenshots of the main pages with the demo data, for people and for the README.

Always written to artifacts/screenshots/ (ignored by git). With
LIMBGUARD_UPDATE_SCREENSHOTS=1 the README's copies in docs/screenshots/ are rewritten
too; commit those when they change.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from limbguard.config import demo
from limbguard.registry.models import Patient
from tests.browser.support import VIEWPORT, Browse, screenshot, sign_in

pytestmark = pytest.mark.browser

DEMO_PATIENTS = 60


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_screenshots_of_the_main_pages(browse: Browse) -> None:
    centers = demo.ensure_centers()
    demo.ensure_users(centers)
    demo.ensure_patients(centers, DEMO_PATIENTS)
    # A chart with some content: the first Harbor patient with an HbA1c on file.
    chart = (
        Patient.objects.filter(home_center=centers["harbor"], labs__kind="hba1c")
        .order_by("family_key", "given_key", "id")
        .first()
    )
    assert chart is not None

    def as_vascular_specialist(page: Page) -> list[Path]:
        page.goto("/login/")
        shots = [screenshot(page, "login", docs=True)]
        sign_in(page, "vascular", demo.DEMO_PASSWORD)
        expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
        shots.append(screenshot(page, "patients", docs=True))
        page.goto(f"/patients/{chart.pk}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(chart.family_name)
        shots.append(screenshot(page, "chart", docs=True))
        page.goto("/centers/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Centers")
        shots.append(screenshot(page, "centers", docs=True))
        return shots

    def as_program_lead(page: Page) -> list[Path]:
        sign_in(page, "lead", demo.DEMO_PASSWORD)
        page.goto("/audit/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
        expect(page.locator("tbody")).to_contain_text("opened chart")
        return [screenshot(page, "audit", docs=True)]

    shots = browse(as_vascular_specialist) + browse(as_program_lead)
    assert [p.stem for p in shots] == ["login", "patients", "chart", "centers", "audit"]
    for path in shots:
        assert _png_size(path) == (VIEWPORT["width"], VIEWPORT["height"])
