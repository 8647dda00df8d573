"""`limbguard pathway --patient MRN [--json]` and the pathway demo."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.assessments.demo import SCENARIOS, ensure_pathway_demo
from limbguard.registry.models import Patient
from limbguard.testing import Personas
from tests.assessments.conftest import Seeded

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("pathway", *args, stdout=out)
    return out.getvalue()


def test_json_report_names_urgency_rule_work_up_needs_and_gate(
    seeded: Callable[..., Seeded],
) -> None:
    s = seeded()
    report = json.loads(_run("--patient", s.patient.mrn.lower(), "--json"))
    assert report["patient"]["mrn"] == s.patient.mrn
    left = next(limb for limb in report["limbs"] if limb["side"] == "left")
    assert (left["staging"]["w"], left["staging"]["i"], left["staging"]["wifi_stage"]) == (1, 2, 2)
    assert left["urgency"] == "urgent"
    assert left["urgency_rule"]["code"] == "clti"
    assert left["gate"]["state"] == "closed"
    assert any("limb salvage review" in r for r in left["gate"]["reasons"])
    assert {n["code"] for n in left["care_needs"]} == {"wound_care"}
    right = next(limb for limb in report["limbs"] if limb["side"] == "right")
    assert [m["code"] for m in right["missing_workup"]] == ["no_vascular_assessment"]
    event = AuditEvent.objects.filter(action=AuditAction.VIEW).latest("id")
    assert (event.patient_id, event.actor_name) == (s.patient.pk, "system")


def test_text_report(seeded: Callable[..., Seeded]) -> None:
    s = seeded()
    text = _run("--patient", s.patient.mrn)
    assert "LEFT LEG (intact)" in text
    assert "urgency: urgent" in text
    assert "gate: closed" in text


def test_unknown_mrn_is_an_error() -> None:
    with pytest.raises(CommandError, match="no patient with MRN"):
        _run("--patient", "NOPE-1")


def test_the_demo_shows_each_urgency_missing_work_up_an_off_track_wound_and_both_gates(
    personas: Personas, media: Path
) -> None:
    from limbguard.config.demo import ensure_users

    ensure_users(personas.centers)
    assert ensure_pathway_demo(personas.centers) == len(SCENARIOS)
    assert ensure_pathway_demo(personas.centers) == 0  # idempotent
    limbs = []
    for scenario in SCENARIOS:
        limbs += json.loads(_run("--patient", scenario.mrn, "--json"))["limbs"]
    assert {limb["urgency"] for limb in limbs} == {"emergent", "urgent", "routine"}
    assessed = [limb for limb in limbs if limb["staging"] is not None]
    assert any(limb["missing_workup"] for limb in assessed)
    assert any(w["four_week"] == "off track" for limb in limbs for w in limb["wounds"])
    assert {limb["gate"]["state"] for limb in assessed} == {"open", "closed"}
    overridden = Patient.objects.get(mrn="PW-1007").amputation_orders.get()
    assert overridden.status == "overridden"
