"""`limbguard pathway --patient MRN [--json]`: each limb's staging, urgency (with the rule
that fired), missing work-up, care-team needs, revascularization candidacy and the
amputation gate. The read is audited like any other (actor "system")."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction
from limbguard.assessments.pathway import Finding
from limbguard.assessments.queries import LimbRow, limb_rows
from limbguard.registry.models import Patient


def _finding(f: Finding) -> dict[str, str]:
    return {"code": f.code, "text": f.text, "source": f.source}


def limb_report(row: LimbRow) -> dict[str, Any]:
    """One limb as plain JSON-ready data."""
    p = row.pathway
    latest = p.latest
    return {
        "side": row.limb.side,
        "limb_status": row.limb.status,
        "last_evaluated_on": p.last_evaluated_on.isoformat() if p.last_evaluated_on else None,
        "staging": None if latest is None else latest.to_dict(),
        "problem_type": p.problem_type.value,
        "urgency": p.urgency.value,
        "urgency_rule": None if p.rule is None else _finding(p.rule),
        "urgency_rules": [_finding(f) for f in p.urgency_rules],
        "missing_workup": [_finding(f) for f in p.missing_workup],
        "care_needs": [_finding(f) for f in p.care_needs],
        "alerts": [_finding(f) for f in p.alerts],
        "revascularization": {
            "candidacy": p.revascularization.candidacy.value,
            "reasons": list(p.revascularization.reasons),
            "source": p.revascularization.source,
        },
        "gate": {"state": row.gate.state, "reasons": list(row.gate.reasons)},
        "wounds": [
            {
                "label": w.wound.label,
                "open": w.wound.is_open,
                "four_week": w.trajectory.status.value,
                "latest_area_cm2": None if w.latest_area is None else str(w.latest_area),
            }
            for w in row.wounds
        ],
    }


class Command(BaseCommand):
    help = "Print each limb's staging, urgency, missing work-up, care needs and gate state."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--patient", required=True, metavar="MRN", help="patient MRN")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **options: Any) -> None:
        mrn = options["patient"].strip()
        patient = Patient.objects.filter(mrn__iexact=mrn).first()
        if patient is None:
            raise CommandError(f"no patient with MRN {mrn!r}")
        rows = limb_rows(Patient.objects.filter(pk=patient.pk), today=timezone.localdate())
        audit.record(
            acting_user=None,
            action=AuditAction.VIEW,
            patient_id=patient.pk,
            obj=patient,
            summary="pathway printed by `limbguard pathway`",
        )
        report: dict[str, Any] = {
            "patient": {"mrn": patient.mrn, "name": f"{patient.family_name}, {patient.given_name}"},
            "as_of": timezone.localdate().isoformat(),
            "limbs": [limb_report(row) for row in rows],
        }
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(f"{report['patient']['name']} ({patient.mrn}) — as of {report['as_of']}")
        for limb in report["limbs"]:
            self._print_limb(limb)

    def _print_limb(self, limb: dict[str, Any]) -> None:
        out = self.stdout.write
        out("")
        out(f"{limb['side'].upper()} LEG ({limb['limb_status']}) — {limb['problem_type']} problem")
        staging = limb["staging"]
        if staging is None:
            out("  staging: no assessment on record")
        else:
            wifi = (
                f"WIfI W{staging['w']} I{staging['i']} fI{staging['fi']} "
                f"stage {staging['wifi_stage']}, benefit {staging['wifi_benefit']}"
                if staging["wifi_stage"]
                else "WIfI not staged"
            )
            abi = staging["abi"] if staging["abi"] is not None else "—"
            tbi = staging["tbi"] if staging["tbi"] is not None else "—"
            out(
                f"  staging ({limb['last_evaluated_on']}): {wifi}; ABI {abi} TBI {tbi}; "
                f"Rutherford {staging['rutherford']}; GLASS {staging['glass_label'] or '—'}; "
                f"IWGDF {staging['iwgdf']}; CEAP {staging['ceap'] or '—'}"
            )
        rule = limb["urgency_rule"]
        out(
            f"  urgency: {limb['urgency']}"
            + (f" — {rule['text']} [{rule['code']}]" if rule else "")
        )
        for title, key in (("missing work-up", "missing_workup"), ("care team", "care_needs")):
            items = limb[key]
            out(f"  {title}: " + ("; ".join(f["text"] for f in items) if items else "none"))
        out(f"  revascularization: {limb['revascularization']['candidacy']}")
        out(f"  gate: {limb['gate']['state']} — " + "; ".join(limb["gate"]["reasons"]))
