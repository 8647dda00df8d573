"""What imported records imply for the registry's summary fields, applied after a write.

Risk profile (diabetes type, CKD stage, dialysis, smoking) from problems and the latest
smoking-status observation; limb status from amputation procedures. Only ever adds
information (see `derive.py` for the tables and rules); written through the registry's
services, so each change has its audit row.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import Any

from limbguard.accounts.models import User
from limbguard.fhir import derive
from limbguard.fhir import terminology as term
from limbguard.registry import bulk, services
from limbguard.registry.models import (
    MINOR_LEVELS,
    Limb,
    LimbStatus,
    Observation,
    Problem,
    Procedure,
    RiskProfile,
)
from limbguard.vascular import codes


@lru_cache(maxsize=4096)
def _problem_facts(system: str, code: str) -> tuple[str | None, str | None, bool, bool]:
    """(diabetes type, CKD stage, dialysis, current smoking) a problem code states."""
    stage, dialysis = derive.ckd(system, code)
    smoking = "smoking" in codes.categorize(system, code)
    return derive.diabetes_type(system, code), stage, dialysis, smoking


def apply(patient_ids: set[int], *, acting_user: User | None, ip_address: str | None) -> None:
    """Update the risk profiles and limbs of `patient_ids` from their stored records."""
    current = {
        patient_id: {"diabetes": diabetes, "ckd_stage": ckd, "smoking": smoking, "on_dialysis": dia}
        for patient_id, diabetes, ckd, smoking, dia in RiskProfile.objects.filter(
            patient_id__among=patient_ids
        ).values_list("patient_id", "diabetes", "ckd_stage", "smoking", "on_dialysis")
    }
    wanted: dict[int, dict[str, Any]] = defaultdict(dict)
    problems = Problem.objects.filter(
        patient_id__among=patient_ids, entered_in_error=False
    ).values_list("patient_id", "system", "code")
    for patient_id, system, code in problems:
        risk = current.get(patient_id)
        if risk is None:
            continue
        change = wanted[patient_id]
        kind, stage, dialysis, smoking = _problem_facts(system, code)
        if kind is not None and risk["diabetes"] == "none" and "diabetes" not in change:
            change["diabetes"] = kind
        if stage is not None:
            change["ckd_stage"] = derive.worse_ckd(
                change.get("ckd_stage", risk["ckd_stage"]), stage
            )
        if dialysis:
            change["on_dialysis"] = True
        if smoking and risk["smoking"] == "unknown":
            change.setdefault("smoking", "current")
    latest_smoking = (
        Observation.objects.filter(
            patient_id__among=patient_ids,
            system=term.LOINC,
            code=derive.SMOKING_STATUS_LOINC,
            entered_in_error=False,
        )
        .order_by("patient_id", "-effective_date", "-id")
        .values_list("patient_id", "value_code")
    )
    seen: set[int] = set()
    for patient_id, answer in latest_smoking:
        if patient_id in seen:
            continue
        seen.add(patient_id)
        status = derive.SMOKING_BY_SNOMED.get(answer)
        if status is not None:
            wanted[patient_id]["smoking"] = status
    # Only what differs from the profile goes to the service (which checks it again).
    changes = {
        patient_id: diff
        for patient_id, change in wanted.items()
        if (diff := {k: v for k, v in change.items() if current[patient_id][k] != v})
    }
    if changes:
        bulk.do_update_risk_profiles(
            acting_user=acting_user, changes=changes, ip_address=ip_address
        )
    _limbs(patient_ids, acting_user, ip_address)


def _limbs(patient_ids: set[int], acting_user: User | None, ip_address: str | None) -> None:
    order = [LimbStatus.INTACT, LimbStatus.MINOR_AMPUTATION, LimbStatus.MAJOR_AMPUTATION]
    worst: dict[tuple[int, str], tuple[int, str, Any]] = {}
    procedures = Procedure.objects.filter(
        patient_id__among=patient_ids,
        laterality__in=("left", "right"),
        entered_in_error=False,
        status="completed",
    ).values_list("patient_id", "laterality", "system", "code", "performed_date")
    for patient_id, side, system, code, performed in procedures:
        level = derive.amputation_level(system, code)
        if level is None:
            continue
        status = (
            LimbStatus.MINOR_AMPUTATION if level in MINOR_LEVELS else LimbStatus.MAJOR_AMPUTATION
        )
        rank = order.index(status)
        key = (patient_id, side)
        # The most severe amputation of the limb; its first record if several.
        if key not in worst or rank > worst[key][0]:
            worst[key] = (rank, level, performed)
    if not worst:
        return
    limbs = Limb.objects.filter(patient_id__among={p for p, _ in worst})
    for limb in limbs:
        found = worst.get((limb.patient_id, limb.side))
        if found is None or found[0] <= order.index(LimbStatus(limb.status)):
            continue
        services.do_update_limb(
            acting_user=acting_user,
            limb=limb,
            status=order[found[0]],
            amputation_level=found[1],
            amputation_date=found[2],
            ip_address=ip_address,
        )
