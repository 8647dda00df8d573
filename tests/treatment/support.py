"""Helpers of the procedure-log tests: an open gate, a planned order, a logged procedure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from limbguard.registry.models import Patient
from limbguard.testing import Personas
from limbguard.treatment import services
from limbguard.treatment.actions.procedures import LesionInput, do_log_procedure
from limbguard.treatment.models import AmputationOrder
from limbguard.treatment.procedures import Intervention
from tests.assessments.conftest import assess


def ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def planned_order(
    personas: Personas, patient: Patient, level: str, side: str = "left"
) -> AmputationOrder:
    """An amputation planned through an open gate (recent duplex, signed review)."""
    assess(patient, side=side, visit_date=ago(2), arterial_duplex_done=True)
    services.do_sign_review(
        acting_user=personas["vascular_specialist"],
        patient=patient,
        limb=patient.limbs.get(side=side),
        conclusion="amputation_indicated",
        summary="No target for revascularization.",
    )
    attempt = services.do_request_amputation(
        acting_user=personas["vascular_specialist"],
        patient=patient,
        limb=patient.limbs.get(side=side),
        level=level,
    )
    assert attempt.accepted, attempt.errors
    return attempt.order


SFA_STENT = LesionInput(
    segment="sfa",
    lesion_type="occlusion",
    length_cm=Decimal("12"),
    calcification="moderate",
    techniques=("dcb", "des"),
    residual_stenosis_pct=10,
)


def log_angioplasty(
    personas: Personas, patient: Patient, side: str = "left", **extra: Any
) -> Intervention:
    values: dict[str, Any] = {
        "kind": "arterial_endovascular",
        "performed_on": ago(10),
        "indication": "tissue_loss",
        "access": "femoral_antegrade",
        "lesions": (SFA_STENT,),
    }
    values.update(extra)
    return do_log_procedure(
        acting_user=personas["vascular_specialist"],
        patient=patient,
        limb=patient.limbs.get(side=side),
        **values,
    )
