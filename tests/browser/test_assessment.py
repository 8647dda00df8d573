"""Assessments in a real browser: the staging appears live as pressures are typed; an
amputation is refused by the gate, then allowed once the limb has been evaluated
(imaging and a signed limb salvage review)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.assessments.models import Assessment, StagingSnapshot, WoundObservation
from limbguard.registry.models import Patient
from limbguard.testing import Personas
from limbguard.treatment.models import AmputationOrder, LimbSalvageReview, OrderStatus
from tests.assessments.conftest import ARMS, assess
from tests.browser.support import Browse, screenshot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def patient(patient_at: Callable[..., Patient]) -> Patient:
    return patient_at(mrn="BR5001", family_name="Valdez", given_name="Tomas")


def test_enter_an_assessment_and_see_the_staging_appear_live(
    browse: Browse, personas: Personas, patient: Patient
) -> None:
    def steps(page: Page) -> None:
        sign_in(page, "vascular_specialist")
        page.goto(f"/assessments/patients/{patient.pk}/limbs/left/new/")
        page.evaluate("window.sameDocument = true")
        staging = page.locator("#staging")
        expect(staging).to_contain_text("the staging appears here")
        page.get_by_label("Brachial left").fill("140")
        page.get_by_label("Brachial right").fill("136")
        page.get_by_label("Ankle DP").fill("70")
        page.get_by_label("Ankle PT").fill("64")
        expect(staging.get_by_test_id("staging-abi-tbi")).to_contain_text("ABI 0.50 (abnormal)")
        expect(staging.get_by_test_id("staging-wifi")).to_contain_text("W0 I2 fI0")
        page.get_by_label("Toe pressure").fill("25")
        expect(staging.get_by_test_id("staging-wifi")).to_contain_text("W0 I3 fI0")
        page.get_by_label("Rest pain").check()
        expect(staging.get_by_test_id("staging-rutherford-fontaine")).to_contain_text(
            "Rutherford 4; Fontaine III"
        )
        page.get_by_label("Ankle PT").fill("400")
        expect(staging).to_contain_text("Ankle PT")
        page.get_by_label("Ankle PT").fill("64")
        expect(staging.get_by_test_id("staging-abi-tbi")).to_contain_text("ABI 0.50")
        assert page.evaluate("window.sameDocument") is True  # updated in place, not reloaded
        screenshot(page, "assessment-live-staging", docs=True)
        page.get_by_role("button", name="Save assessment").click()
        expect(page).to_have_url(re.compile(r"/assessments/patients/\d+/\d+/$"))
        expect(page.get_by_test_id("staging-wifi")).to_contain_text("W0 I3 fI0")
        page.goto(f"/patients/{patient.pk}/")
        card = page.get_by_test_id("limb-card-left")
        expect(card.get_by_test_id("urgency-left")).to_have_text("Urgent")
        expect(card).to_contain_text("chronic limb-threatening ischaemia")
        expect(card.get_by_test_id("gate-left")).to_have_text("closed")

    browse(steps)
    assessment = Assessment.objects.get(patient=patient)
    assert (assessment.ankle_pt, assessment.toe_pressure, assessment.rest_pain) == (64, 25, True)
    assert StagingSnapshot.objects.get(assessment=assessment).outputs["values"]["rutherford"] == 4
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="assessments.assessment"
    ).exists()


def test_plan_an_amputation_refused_then_allowed_after_the_evaluation(
    browse: Browse, personas: Personas, patient: Patient
) -> None:
    def steps(page: Page) -> None:
        sign_in(page, "vascular_specialist")
        page.goto(f"/patients/{patient.pk}/")
        page.get_by_role("link", name="Plan amputation of the left leg").click()
        expect(page.get_by_test_id("gate-state")).to_have_text("closed")
        page.get_by_label("Level").select_option("transmetatarsal")
        page.get_by_role("button", name="Plan amputation").click()
        refusal = page.get_by_test_id("refusal")
        expect(refusal).to_contain_text("Refused")
        expect(refusal).to_contain_text("no vascular imaging of the left limb")
        expect(refusal).to_contain_text("no signed limb salvage review")
        screenshot(page, "amputation-refused", docs=True)

        # The evaluation: an arterial duplex of the limb, then a signed review.
        page.goto(f"/assessments/patients/{patient.pk}/limbs/left/new/")
        page.get_by_label("Arterial duplex performed").check()
        page.get_by_role("button", name="Save assessment").click()
        expect(page).to_have_url(re.compile(r"/assessments/patients/\d+/\d+/$"))
        page.goto(f"/assessments/patients/{patient.pk}/limbs/left/")
        page.get_by_role("link", name="Sign limb salvage review").click()
        page.get_by_label("Conclusion").select_option("amputation_indicated")
        page.get_by_label("Summary").fill("Tibial occlusions, no pedal target; TMA advised.")
        page.get_by_role("button", name="Sign review").click()
        expect(page.get_by_test_id("gate-left")).to_have_text("open")

        page.get_by_role("link", name="Plan amputation").click()
        expect(page.get_by_test_id("gate-state")).to_have_text("open")
        page.get_by_label("Level").select_option("transmetatarsal")
        page.get_by_role("button", name="Plan amputation").click()
        expect(page).to_have_url(re.compile(r"/limbs/left/$"))
        expect(page.get_by_role("cell", name="Planned (gate open)")).to_be_visible()

    browse(steps)
    assert list(
        AmputationOrder.objects.filter(patient=patient)
        .order_by("id")
        .values_list("status", flat=True)
    ) == [OrderStatus.REFUSED, OrderStatus.PLANNED]
    assert LimbSalvageReview.objects.filter(patient=patient).count() == 1
    assert AuditEvent.objects.filter(object_type="treatment.amputationorder").count() == 2


def test_record_a_wound_on_the_diagram_with_a_photo_and_follow_its_chart(
    browse: Browse, personas: Personas, patient: Patient, tmp_path: Path, settings: Settings
) -> None:
    settings.MEDIA_ROOT = tmp_path / "private"
    photo = tmp_path / "heel.png"
    Image.new("RGB", (320, 240), (190, 90, 80)).save(photo)
    assessment = assess(patient, ankle_dp=96, ankle_pt=90, toe_pressure=48, **ARMS)

    def steps(page: Page) -> None:
        sign_in(page, "wound_care")
        page.goto(f"/assessments/patients/{patient.pk}/{assessment.pk}/")
        page.get_by_text("Record a wound").click()
        page.locator("[data-zone=heel]").click()
        expect(page.get_by_role("combobox", name="Location")).to_have_value("heel")
        form = page.locator("form", has=page.get_by_role("button", name="Record wound"))
        form.get_by_label("Label").fill("Left heel ulcer")
        form.get_by_label("Wound type").select_option("diabetic_foot")
        form.get_by_label("Length (cm):", exact=True).fill("2.5")
        form.get_by_label("Width (cm)").fill("2.0")
        form.get_by_label("Photos").set_input_files(str(photo))
        form.get_by_role("button", name="Record wound").click()
        expect(page.get_by_role("img", name="Photo of Left heel ulcer")).to_be_visible()
        expect(page.get_by_test_id("staging-wifi")).to_contain_text("W2 I1 fI0")  # heel: W2
        page.get_by_role("link", name="Left heel ulcer", exact=True).click()
        expect(page.get_by_test_id("four-week")).to_contain_text("pending")
        expect(page.locator("figure.chart svg")).to_be_visible()
        expect(page.get_by_role("cell", name="5.00 cm²")).to_be_visible()

    browse(steps)
    observation = WoundObservation.objects.get(wound__patient=patient)
    assert observation.area_cm2 == Decimal("5.00")
    stored = observation.photos.get()
    assert (settings.MEDIA_ROOT / stored.path).exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_type="assessments.woundphoto"
    ).exists()
