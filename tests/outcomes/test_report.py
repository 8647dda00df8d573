"""The outcomes service over real treatment records, the analytics page (permission,
audit, CSV, PDF) and `limbguard report`: definitions of AFS, competing death and
limb salvage checked on a cohort small enough to work by hand; empty cohorts are
labelled, never drawn."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from limbguard.accounts.models import AuditEvent
from limbguard.outcomes.service import Selection, program_report
from limbguard.registry.models import Patient
from limbguard.testing import Personas
from limbguard.treatment.actions.events import do_record_event
from tests.treatment.support import ago, log_angioplasty

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort(personas: Personas, patient_at: Callable[..., Patient]) -> list[Patient]:
    """Four treated limbs, indexed 500 days ago:
    A amputated on day 100; B died on day 200 (no amputation); C alive, last seen day 400
    (status); D amputated on day 300 and died the same day."""
    people = [patient_at() for _ in range(4)]
    for person in people:
        log_angioplasty(personas, person, performed_on=ago(500))
    a, b, c, d = people
    vascular = personas["vascular_specialist"]
    left = "left"

    def amputate(who: Patient, day: int) -> None:
        do_record_event(
            acting_user=vascular,
            patient=who,
            kind="major_amputation",
            limb=who.limbs.get(side=left),
            occurred_on=ago(500 - day),
            amputation_level="below_knee",
            performed_elsewhere=True,
        )

    amputate(a, 100)
    do_record_event(
        acting_user=vascular, patient=a, kind="status", occurred_on=ago(20), ambulatory="wheelchair"
    )
    do_record_event(acting_user=vascular, patient=b, kind="death", occurred_on=ago(300))
    do_record_event(
        acting_user=vascular,
        patient=c,
        kind="status",
        occurred_on=ago(100),
        ambulatory="independent",
    )
    amputate(d, 300)
    do_record_event(acting_user=vascular, patient=d, kind="death", occurred_on=ago(200))
    return people


def test_report_definitions_on_a_hand_sized_cohort(cohort: list[Patient]) -> None:
    report = program_report(Selection(as_of=timezone.localdate()))
    assert (report.limbs, report.patients) == (4, 4)
    afs = report.figure("afs").curves[0]
    # Events on days 100 (A), 200 (B), 300 (D); C censored on day 400.
    assert afs.at(365).value == pytest.approx(0.25)  # type: ignore[union-attr]
    incidence = report.figure("major_amputation").curves[0]
    # Amputations A (100) and D (300, same day as death: counts as amputation); B's
    # death competes: CIF(365) = 1/4 + (2/4)(1/2) = 1/2 exactly.
    assert (incidence.events, incidence.competing) == (2, 1)
    assert incidence.at(365).value == pytest.approx(0.5)  # type: ignore[union-attr]
    salvage = report.figure("major_amputation").points[1]
    assert salvage.estimate.value == pytest.approx(0.5)  # type: ignore[union-attr]
    assert salvage.benchmark is not None
    assert "VaLS" in salvage.benchmark.source
    after = report.figure("mortality_after_amputation").curves[0]
    assert (after.subjects, after.events) == (2, 1)  # D died on the day of amputation


def test_empty_cohort_is_labelled(cohort: list[Patient]) -> None:
    report = program_report(Selection(as_of=timezone.localdate(), center="valley"))
    assert report.limbs == 0
    assert report.empty_reason
    assert all(f.empty for f in report.figures)
    assert report.figure("afs").points[0].estimate is None


def test_analytics_page_is_for_program_leads_and_audited(
    personas: Personas, cohort: list[Patient]
) -> None:
    url = reverse("outcomes:analytics")
    for persona in ("vascular_specialist", "wound_care", "front_desk", "outsider"):
        client = Client()
        client.force_login(personas[persona])
        assert client.get(url).status_code == 403
    lead = Client()
    lead.force_login(personas["program_lead"])
    response = lead.get(url, {"program_start": ago(300).isoformat()})
    assert response.status_code == 200
    assert response.content.count(b"<svg") == 6
    assert b"Amputation-free survival" in response.content
    assert b"Jones WS et al." in response.content
    assert b"Amputation gate overrides" in response.content
    assert AuditEvent.objects.filter(
        action="search", summary__startswith="program analytics"
    ).exists()
    empty = lead.get(url, {"center": "valley"})
    assert b"Empty cohort" in empty.content
    bad = lead.get(url, {"date_from": "2026-01-02", "date_to": "2025-01-01"})
    assert b"The end is before the start" in bad.content
    csv = lead.get(reverse("outcomes:csv"))
    assert csv["Content-Type"].startswith("text/csv")
    assert b"afs,amputation-free survival,0,1.000000" in csv.content
    pdf = lead.get(reverse("outcomes:pdf"))
    reader = PdfReader(io.BytesIO(pdf.content))
    texts = [page.extract_text() for page in reader.pages]
    # The summary (one or two pages), then one page per figure.
    assert len(texts) in (6, 7)
    assert sum("days from index" in text for text in texts) == 5
    assert reader.metadata is not None
    assert reader.metadata.title == "LimbGuard program outcomes report"
    assert "LimbGuard program outcomes report" in texts[0]


def test_report_command_prints_json_and_pdf(cohort: list[Patient], tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("report", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["limbs"] == 4
    assert data["figures"][0]["key"] == "afs"
    assert data["overrides"]["cds"]["cards_issued"] == 0
    text = io.StringIO()
    call_command("report", "--center", "harbor", "--from", ago(600).isoformat(), stdout=text)
    assert "Amputation-free survival (n=4, events=3)" in text.getvalue()
    target = tmp_path / "report.pdf"
    call_command(
        "report",
        "--pdf",
        str(target),
        "--program-start",
        ago(450).isoformat(),
        stdout=io.StringIO(),
    )
    pages = [page.extract_text() for page in PdfReader(target).pages]
    assert sum("days from index" in text for text in pages) == 6  # five + before/after
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="unknown center"):
        call_command("report", "--center", "nowhere")


def test_gate_outcomes_are_counted(personas: Personas, patient_at: Callable[..., Patient]) -> None:
    from tests.treatment.support import planned_order

    planned_order(personas, patient_at(), "below_knee")
    report = program_report(Selection(as_of=timezone.localdate()))
    assert (report.overrides.gate_planned, report.overrides.gate_overridden) == (1, 0)
    assert report.overrides.gate_rate == 0.0
    assert report.overrides.cds.rate is None  # no card has an outcome yet
    elsewhere = program_report(Selection(as_of=timezone.localdate(), center="valley"))
    assert elsewhere.overrides.gate_planned == 0
