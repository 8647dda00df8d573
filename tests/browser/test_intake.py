"""Public intake and scheduling in a real browser: each public form sent with its
arithmetic question answered; a referral triaged and booked by the front desk, after
which the referrer's private link shows the confirmation; the week calendar."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import FilePayload, Page, expect
from pytest_django.fixtures import Settings

from limbguard.clinics.models import Provider
from limbguard.intake import services as intake
from limbguard.intake.models import Attachment, IntakeRequest, RequestStatus
from limbguard.scheduling import services as scheduling
from limbguard.scheduling.demo import ensure_setup
from limbguard.scheduling.links import make_link_token
from limbguard.scheduling.models import Appointment, VisitType
from limbguard.scheduling.timeutil import localize
from limbguard.testing import Personas, make_patient
from tests.browser.support import Browse, screenshot, sign_in

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LETTER: FilePayload = {"name": "letter.pdf", "mimeType": "application/pdf", "buffer": PDF}


@pytest.fixture
def site(personas: Personas, settings: Settings, tmp_path: Path) -> Personas:
    settings.MEDIA_ROOT = tmp_path / "private"
    ensure_setup(personas.centers)
    return personas


def _answer(page: Page) -> None:
    """Read "a + b =" off the page, as a person would, and type the sum."""
    question = page.locator(".challenge").inner_text()
    match = re.fullmatch(r"(\d+) \+ (\d+) =", question.strip())
    assert match is not None, question
    page.get_by_label(re.compile("Security question")).fill(
        str(int(match.group(1)) + int(match.group(2)))
    )


def _next_monday(weeks: int = 1) -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=7 * weeks - today.weekday())


def test_each_public_form_is_sent_with_the_challenge(browse: Browse, site: Personas) -> None:
    def steps(page: Page) -> None:
        page.goto("/")
        expect(page.get_by_role("heading", name="Harbor Vascular Center")).to_be_visible()
        expect(page.get_by_text(re.compile("(Open|Closed) now")).first).to_be_visible()

        page.get_by_role("link", name="Schedule your visit").first.click()
        page.get_by_label("First name").fill("Ana")
        page.get_by_label("Last name").fill("Núñez")
        page.get_by_label("Date of birth").fill("1956-04-02")
        page.get_by_label("E-mail").fill("ana@example.invalid")
        page.get_by_label("Phone").fill("(619) 555-0199")
        page.get_by_label("What is the visit for?").fill("A sore on my foot.")
        page.get_by_label("Wound not healing after 2 weeks").check()
        _answer(page)
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_text("we received your visit request")).to_be_visible()

        page.goto("/refer/")
        page.get_by_label("Your name (referring clinician)").fill("Dr. Rita Referrer")
        page.get_by_label("Practice or hospital").fill("Bayview Family Practice")
        page.get_by_label("Your e-mail (for status updates)").fill("rita@example.invalid")
        page.get_by_label("Your phone").fill("(619) 555-0177")
        page.get_by_label("Patient's first name").fill("Walter")
        page.get_by_label("Patient's last name").fill("Gangi")
        page.get_by_label("Patient's date of birth").fill("1948-09-30")
        page.get_by_label("Patient's phone").fill("(619) 555-0166")
        page.get_by_label("Preferred center").select_option(label="Harbor Vascular Center")
        page.get_by_label("Reason for referral").fill("Dry gangrene of the right hallux.")
        page.get_by_label("Gangrene (black or dead tissue)").check()
        page.get_by_label(re.compile("Attachments")).set_input_files([LETTER])
        # A wrong answer first: refused, nothing sent, a new question, values kept.
        page.get_by_label(re.compile("Security question")).fill("99")
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("alert")).to_contain_text("Nothing was sent")
        expect(page.get_by_label("Patient's last name")).to_have_value("Gangi")
        page.get_by_label(re.compile("Attachments")).set_input_files([LETTER])
        _answer(page)
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_text("we received your referral")).to_be_visible()
        screenshot(page, "intake-referral-sent", docs=True)

        page.goto("/contact/")
        page.get_by_label("Your name").fill("Carl Contact")
        page.get_by_label("E-mail").fill("carl@example.invalid")
        page.get_by_label("Subject").fill("Parking")
        page.get_by_label("Message").fill("<b>Where</b> do visitors park?")
        _answer(page)
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_text("we received your message")).to_be_visible()
        expect(page.locator(".thread")).to_contain_text("<b>Where</b> do visitors park?")

    browse(steps)
    kinds = sorted(IntakeRequest.objects.values_list("kind", flat=True))
    assert kinds == ["contact", "referral", "visit"]
    referral = IntakeRequest.objects.get(kind="referral")
    assert referral.urgency == "emergent"
    assert Attachment.objects.get().request == referral


def test_triage_book_and_the_referrer_sees_the_confirmation(browse: Browse, site: Personas) -> None:
    referral = intake.do_submit_request(
        kind="referral",
        fields={
            "requester_name": "Dr. Rita Referrer",
            "requester_email": "rita@example.invalid",
            "referrer_organization": "Bayview Family Practice",
            "patient_given_name": "Walter",
            "patient_family_name": "Gangi",
            "patient_birth_date": dt.date(1948, 9, 30),
            "reason": "Rest pain, right foot.",
        },
        red_flags=["rest_pain"],
        files=[],
        ip_address="127.0.0.1",
    )
    link = "/r/" + make_link_token("request", referral.pk, referral.link_key) + "/"
    monday = _next_monday(2)
    ruiz = Provider.objects.get(name="Dr. Elena Ruiz")

    def staff(page: Page) -> None:
        sign_in(page, "front_desk")
        page.goto("/intake/triage/")
        expect(page.get_by_text("Urgent: ischaemic rest pain")).to_be_visible()
        page.get_by_role("link", name=f"Referral #{referral.pk}").click()
        page.get_by_label("Center").first.select_option(label="Harbor Vascular Center")
        page.get_by_label("Provider").first.select_option(label=str(ruiz))
        page.get_by_role("button", name="Save assignment").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Triaged")
        search = page.locator("form.toolbar")
        search.get_by_label("Visit type").select_option(label="New consultation (60 min)")
        search.get_by_label("Provider").select_option(label=str(ruiz))
        search.get_by_label("From").fill(monday.isoformat())
        search.get_by_role("button", name="Find free slots").click()
        screenshot(page, "intake-request-booking")
        page.get_by_role(
            "button", name=re.compile(r"Book .* 09:00 with Dr. Elena Ruiz")
        ).first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("New consultation")
        expect(page.get_by_text("Booked; the requester was e-mailed")).to_be_visible()

    browse(staff)
    referral.refresh_from_db()
    assert referral.status == RequestStatus.SCHEDULED
    assert referral.appointment is not None
    assert referral.appointment.starts_at == localize(
        monday, dt.time(9), site.centers["harbor"].zone
    )

    def referrer(page: Page) -> None:
        page.goto(link)
        expect(page.get_by_role("heading", name="Appointment confirmed")).to_be_visible()
        expect(page.locator("#thread")).to_contain_text("9:00 AM")
        expect(page.locator("#thread")).to_contain_text("Harbor Vascular Center")
        expect(page.get_by_text("Status: Scheduled").first).to_be_visible()
        screenshot(page, "intake-referrer-confirmation")

    browse(referrer)


def test_the_week_calendar_renders(browse: Browse, site: Personas) -> None:
    harbor = site.centers["harbor"]
    monday = _next_monday(1)
    ruiz = Provider.objects.get(name="Dr. Elena Ruiz")
    consult = VisitType.objects.get(code="new-consult")
    for day, hour, name in ((0, 9, "Calloway"), (2, 11, "Brandt"), (4, 14, "Ashdown")):
        scheduling.do_book_appointment(
            acting_user=None,
            patient=make_patient(harbor, family_name=name),
            center=harbor,
            provider=ruiz,
            visit_type=consult,
            starts_at=localize(monday + dt.timedelta(days=day), dt.time(hour), harbor.zone),
        )
    assert Appointment.objects.count() == 3

    def steps(page: Page) -> None:
        sign_in(page, "front_desk")
        page.goto(f"/schedule/?center=harbor&date={monday.isoformat()}")
        grid = page.get_by_role("grid", name="Appointments")
        expect(grid).to_be_visible()
        expect(grid.get_by_role("columnheader")).to_have_count(7)
        cells = grid.get_by_role("gridcell")
        expect(cells).to_have_count(3)
        expect(cells.filter(has_text="Calloway")).to_contain_text("09:00")
        expect(cells.filter(has_text="Ashdown")).to_contain_text("14:00")
        screenshot(page, "schedule-week", docs=True)
        cells.filter(has_text="Brandt").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("11:00")

    browse(steps)
