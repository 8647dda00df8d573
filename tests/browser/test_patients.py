"""Patient search and chart in a real browser: live htmx results, the chart, and the
404 that a user of another center gets."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Response, expect

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.registry.models import Patient
from limbguard.testing import Personas
from tests.browser.support import Browse, sign_in

pytestmark = pytest.mark.browser

SEARCH_LABEL = "Search by name, MRN or birth date"


@pytest.fixture
def patients(patient_at: Callable[..., Patient]) -> dict[str, Patient]:
    """Three Harbor patients, two of them "Qui…", and one "Qui…" at Coastal."""
    return {
        "alma": patient_at(mrn="HX1001", family_name="Quintero", given_name="Alma"),
        "bernard": patient_at(mrn="HX1002", family_name="Quinn", given_name="Bernard"),
        "chidi": patient_at(mrn="HX1003", family_name="Okafor", given_name="Chidi"),
        "dora": patient_at("coastal", mrn="CX2001", family_name="Quiroga", given_name="Dora"),
    }


def _htmx_search(query: str) -> Callable[[Response], bool]:
    def matches(response: Response) -> bool:
        return f"q={query}" in response.url and response.request.headers.get("hx-request") == "true"

    return matches


def test_name_prefix_search_updates_the_results_in_place(
    browse: Browse, patients: dict[str, Patient]
) -> None:
    def steps(page: Page) -> None:
        sign_in(page, "vascular_specialist")
        rows = page.locator("#results tbody tr")
        expect(rows).to_have_count(3)  # Harbor's patients; Coastal's Dora is not listed
        # A full page load would drop this marker; an htmx swap keeps it.
        page.evaluate("window.sameDocument = true")
        with page.expect_response(_htmx_search("Qui")) as search:
            page.get_by_label(SEARCH_LABEL).fill("Qui")
        assert search.value.ok
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("Quinn, Bernard")
        expect(rows.nth(1)).to_contain_text("Quintero, Alma")
        expect(page).to_have_url(re.compile(r"[?&]q=Qui$"))
        assert page.evaluate("window.sameDocument") is True

    browse(steps)


def test_mrn_search_finds_one_patient(browse: Browse, patients: dict[str, Patient]) -> None:
    def steps(page: Page) -> None:
        sign_in(page, "front_desk")
        with page.expect_response(_htmx_search("hx1002")):
            page.get_by_label(SEARCH_LABEL).fill("hx1002")
        rows = page.locator("#results tbody tr")
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("Quinn, Bernard")
        expect(rows).to_contain_text("HX1002")

    browse(steps)


def test_open_a_chart_from_the_results(
    browse: Browse, personas: Personas, patients: dict[str, Patient]
) -> None:
    alma = patients["alma"]

    def steps(page: Page) -> None:
        sign_in(page, "vascular_specialist")
        page.get_by_label(SEARCH_LABEL).fill("quintero, al")
        page.get_by_role("link", name="Quintero, Alma").click()
        expect(page).to_have_url(re.compile(rf"/patients/{alma.pk}/$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Quintero, Alma")
        expect(page.locator("dd", has_text="HX1001")).to_be_visible()
        expect(page.get_by_role("heading", name="Limbs")).to_be_visible()
        expect(page.get_by_role("heading", name="Problems")).to_be_visible()

    browse(steps)
    viewed = AuditEvent.objects.filter(
        actor=personas["vascular_specialist"],
        action=AuditAction.VIEW,
        patient_id=alma.pk,
        summary="opened chart",
    )
    assert viewed.count() == 1


_CSRF = re.compile(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+')


def _unmasked(answer: tuple[int, str]) -> tuple[int, str]:
    status, body = answer
    return status, _CSRF.sub(r"\1…", body)


def test_a_user_of_another_center_gets_404_like_for_no_patient(
    browse: Browse, patients: dict[str, Patient]
) -> None:
    harbor_patient = patients["alma"].pk
    coastal_patient = patients["dora"].pk
    no_patient = max(p.pk for p in patients.values()) + 1000

    def steps(page: Page) -> dict[str, tuple[int, str]]:
        sign_in(page, "outsider")  # a vascular specialist at Coastal only
        seen = {}
        for name, patient_id in [
            ("other center", harbor_patient),
            ("no such patient", no_patient),
            ("own center", coastal_patient),
        ]:
            response = page.goto(f"/patients/{patient_id}/")
            assert response is not None
            seen[name] = (response.status, response.text())
        return seen

    seen = browse(steps)
    assert seen["own center"][0] == 200
    assert seen["other center"][0] == 404
    # Same answer as for an id that does not exist: no hint that the patient is there
    # (apart from the CSRF token, which is masked afresh in every response).
    assert _unmasked(seen["other center"]) == _unmasked(seen["no such patient"])
    assert "Quintero" not in seen["other center"][1]
