"""Treatment and outcomes in a real browser: log a procedure on a limb, close a
care-team task's loop from the worklist, read the analytics page and download its PDF
(which must open: page count and title)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from limbguard.accounts.models import AuditEvent
from limbguard.registry.models import Patient
from limbguard.testing import Personas
from limbguard.treatment.actions.care_team import do_create_task
from limbguard.treatment.actions.events import do_record_event
from limbguard.treatment.care_team import CareTask
from limbguard.treatment.procedures import Intervention
from tests.browser.support import Browse, screenshot, sign_in
from tests.treatment.support import ago, log_angioplasty

pytestmark = pytest.mark.browser


@pytest.fixture
def patient(patient_at: Callable[..., Patient]) -> Patient:
    return patient_at(mrn="BR6001", family_name="Okafor", given_name="Ada")


def test_log_a_procedure(browse: Browse, personas: Personas, patient: Patient) -> None:
    def steps(page: Page) -> None:
        sign_in(page, "vascular_specialist")
        page.goto(f"/treatment/patients/{patient.pk}/")
        page.get_by_role("link", name="Log procedure: left leg").click()
        page.select_option("#id_kind", "arterial_endovascular")
        page.select_option("#id_indication", "tissue_loss")
        page.select_option("#id_access", "femoral_antegrade")
        page.select_option("#id_lesion-0-segment", "sfa")
        page.select_option("#id_lesion-0-lesion_type", "occlusion")
        page.fill("#id_lesion-0-length_cm", "12")
        page.select_option("#id_lesion-0-techniques", ["dcb", "des"])
        page.fill("#id_lesion-0-residual_stenosis_pct", "10")
        page.select_option("#id_device-0-kind", "des")
        page.fill("#id_device-0-model_name", "Zilver PTX")
        page.get_by_role("button", name="Log procedure").click()
        expect(page.get_by_role("status")).to_contain_text("CPT 37226")
        expect(page.locator("#proc-h + table")).to_contain_text("Technical success")
        expect(page.locator("#proc-h + table")).to_contain_text("grade 3")
        screenshot(page, "procedure-logged", docs=True)

    browse(steps)
    intervention = Intervention.objects.get(patient=patient)
    assert intervention.cpt_codes == ["37226"]
    assert intervention.devices.get().model_name == "Zilver PTX"
    assert hasattr(intervention, "surveillance")
    assert AuditEvent.objects.filter(object_type="treatment.intervention").exists()


def test_complete_a_care_team_task(browse: Browse, personas: Personas, patient: Patient) -> None:
    task = do_create_task(
        acting_user=personas["vascular_specialist"],
        patient=patient,
        discipline="wound_care",
        title="Weekly dressing change",
    )

    def steps(page: Page) -> None:
        sign_in(page, "wound_care")
        page.get_by_role("link", name="Care team").click()
        expect(page.locator("main")).to_contain_text("Weekly dressing change")
        page.get_by_role("link", name="Okafor, Ada").click()
        row = page.get_by_test_id(f"task-{task.pk}")
        note = row.get_by_label("Closing note")
        row.get_by_role("button", name="Complete").click()  # no note: the loop stays open
        assert note.evaluate("input => input.checkValidity()") is False
        expect(row.get_by_role("button", name="Complete")).to_be_visible()
        page.get_by_test_id(f"task-{task.pk}").get_by_label("Closing note").fill(
            "Dressed; wound smaller"
        )
        page.get_by_test_id(f"task-{task.pk}").get_by_role("button", name="Complete").click()
        expect(page.get_by_test_id(f"task-{task.pk}").get_by_test_id("task-status")).to_have_text(
            "Completed"
        )

    browse(steps)
    task = CareTask.objects.get(pk=task.pk)
    assert (task.status, task.closing_note) == ("completed", "Dressed; wound smaller")


def test_analytics_page_and_pdf(
    browse: Browse, personas: Personas, patient_at: Callable[..., Patient]
) -> None:
    for index in range(6):
        person = patient_at()
        log_angioplasty(personas, person, performed_on=ago(400 + 20 * index))
        if index % 2:
            do_record_event(
                acting_user=personas["vascular_specialist"],
                patient=person,
                kind="death",
                occurred_on=ago(100 + index),
            )

    def steps(page: Page) -> bytes:
        sign_in(page, "program_lead")
        page.get_by_role("link", name="Outcomes").click()
        expect(page.get_by_role("heading", name="Amputation-free survival")).to_be_visible()
        expect(page.locator(".figure svg")).to_have_count(5)
        expect(page.get_by_test_id("selection")).to_contain_text("6 treated limbs")
        screenshot(page, "outcomes-analytics", docs=True)
        with page.expect_download() as download:
            page.get_by_test_id("pdf-link").click()
        path = download.value.path()
        return path.read_bytes()

    pdf = browse(steps)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 6
    assert reader.metadata is not None
    assert reader.metadata.title == "LimbGuard program outcomes report"
    assert "LimbGuard program outcomes report" in reader.pages[0].extract_text()
