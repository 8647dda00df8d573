"""Logging procedures: validation per kind, GLASS, CPT codes from the library's value
sets, the gate for amputations, and what a procedure implies (surveillance plan,
reintervention or amputation event, the registry limb's status)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.assessments.models import Assessment
from limbguard.assessments.queries import latest_outputs
from limbguard.registry.models import MINOR_LEVELS, Limb, Patient
from limbguard.treatment import cpt_suggest
from limbguard.treatment.actions.common import (
    check_amputation_level,
    check_date,
    check_limb,
    require,
)
from limbguard.treatment.actions.events import apply_amputation
from limbguard.treatment.actions.followup import do_create_surveillance_plan
from limbguard.treatment.events import OutcomeEvent
from limbguard.treatment.models import AmputationOrder, OrderStatus
from limbguard.treatment.procedures import Intervention, InterventionDevice, TreatedLesion
from limbguard.treatment.vocab import (
    CPT_CATEGORIES,
    GLASS_FP_SEGMENTS,
    GLASS_IP_SEGMENTS,
    REVASCULARIZATION_KINDS,
    SVS_OPG_2011,
    SVS_PVI_2016,
    TECHNIQUES_BY_KIND,
    VENOUS_SEGMENTS,
    Access,
    Calcification,
    Complication,
    Conduit,
    DeviceKind,
    EventKind,
    Indication,
    InterventionKind,
    LesionType,
    Segment,
    Technique,
)
from limbguard.vascular import codes, glass

PERMISSION = "treatment.add_intervention"
# SVS reporting standards for endovascular PAD treatment: technical success is a
# residual stenosis below 30 %.
TECHNICAL_SUCCESS_RESIDUAL_BELOW_PCT: Final = 30
# SVS OPG: a major reintervention is a new bypass, a jump or interposition graft
# revision, or thrombectomy/thrombolysis; endovascular reinterventions are minor.
MAJOR_REINTERVENTION_TECHNIQUES: Final = frozenset({Technique.THROMBECTOMY, Technique.THROMBOLYSIS})
ENDOVASCULAR_KINDS: Final = frozenset(
    {
        InterventionKind.ARTERIAL_ENDOVASCULAR,
        InterventionKind.VENOUS_ENDOVASCULAR,
        InterventionKind.VENOUS_ABLATION,
    }
)
FIELDS = (
    "kind",
    "performed_on",
    "indication",
    "wifi_stage",
    "glass_stage",
    "access",
    "conduit",
    "technical_success",
    "complications",
    "cpt_codes",
    "staged_from",
    "amputation_order",
    "amputation_level",
    "digit",
    "center",
)


@dataclass(frozen=True)
class LesionInput:
    segment: str
    lesion_type: str
    length_cm: Decimal
    calcification: str = Calcification.NONE
    techniques: tuple[str, ...] = ()
    glass_grade: int | None = None  # tibial segments: as assessed; FP: computed
    stenosis_before_pct: int | None = None
    residual_stenosis_pct: int | None = None


@dataclass(frozen=True)
class DeviceInput:
    kind: str
    manufacturer: str = ""
    model_name: str = ""
    diameter_mm: Decimal | None = None
    length_mm: int | None = None
    udi: str = ""


@dataclass
class _Errors:
    found: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.found.setdefault(name, message)


def _check_lesions(kind: str, lesions: Sequence[LesionInput], errors: _Errors) -> None:
    allowed: frozenset[str] = TECHNIQUES_BY_KIND[InterventionKind(kind)]
    venous = kind in (InterventionKind.VENOUS_ENDOVASCULAR, InterventionKind.VENOUS_ABLATION)
    if kind in ENDOVASCULAR_KINDS and not lesions:
        errors.add("lesions", "List the treated lesions (segment, type, length).")
    if kind == InterventionKind.AMPUTATION and lesions:
        errors.add("lesions", "An amputation has no treated lesions.")
    for number, lesion in enumerate(lesions, start=1):
        where = f"lesion {number}"
        if lesion.segment not in Segment.values:
            errors.add("lesions", f"{where}: unknown segment {lesion.segment!r}.")
        elif (lesion.segment in VENOUS_SEGMENTS) != venous:
            errors.add("lesions", f"{where}: {lesion.segment} is not a segment for this kind.")
        if lesion.lesion_type not in LesionType.values:
            errors.add("lesions", f"{where}: unknown lesion type.")
        if lesion.calcification not in Calcification.values:
            errors.add("lesions", f"{where}: unknown calcification grade.")
        if not Decimal("0.1") <= lesion.length_cm <= Decimal(60):
            errors.add("lesions", f"{where}: length must be 0.1-60 cm.")
        bad = [t for t in lesion.techniques if t not in allowed]
        if bad:
            errors.add("lesions", f"{where}: {', '.join(bad)} not used in this kind of procedure.")
        if lesion.glass_grade is not None and not 0 <= lesion.glass_grade <= 4:
            errors.add("lesions", f"{where}: a GLASS grade is 0-4.")
        for pct in (lesion.stenosis_before_pct, lesion.residual_stenosis_pct):
            if pct is not None and not 0 <= pct <= 100:
                errors.add("lesions", f"{where}: stenosis is 0-100 %.")


def _glass(lesions: Sequence[LesionInput]) -> tuple[int | None, int | None]:
    """(FP grade from the femoropopliteal lesions by the library, IP grade as assessed)."""
    fp_lesions = [x for x in lesions if x.segment in GLASS_FP_SEGMENTS]
    fp: int | None = None
    if fp_lesions:
        fp = glass.femoropopliteal_grade(
            [
                glass.FemoropoplitealLesion(
                    artery=glass.FemoropoplitealArtery.SFA
                    if x.segment == Segment.SFA
                    else glass.FemoropoplitealArtery.POPLITEAL,
                    length_cm=float(x.length_cm),
                    occluded=x.lesion_type == LesionType.OCCLUSION,
                )
                for x in fp_lesions
            ],
            severe_calcification=any(x.calcification == Calcification.SEVERE for x in fp_lesions),
        )
    ip_grades = [
        x.glass_grade
        for x in lesions
        if x.segment in GLASS_IP_SEGMENTS and x.glass_grade is not None
    ]
    return fp, max(ip_grades, default=None)


def _cpt(
    kind: str,
    level: str,
    given: Sequence[str] | None,
    lesions: Sequence[LesionInput],
    conduit: str,
) -> tuple[list[str], str | None]:
    """The checked CPT codes (or the suggestion), and an error message."""
    if given is None:
        return cpt_suggest.suggest(kind, level, lesions, conduit), None
    wanted = CPT_CATEGORIES[InterventionKind(kind)]
    if kind == InterventionKind.AMPUTATION and level:
        wanted = frozenset({"minor_amputation" if level in MINOR_LEVELS else "major_amputation"})
    checked: list[str] = []
    for code in given:
        canonical = codes.normalize("CPT", code)
        if canonical is None:
            return [], f"{code!r} is not a CPT code."
        if not codes.categorize("CPT", canonical) & wanted:
            return [], f"CPT {canonical} is not in the value set for this procedure."
        if canonical not in checked:
            checked.append(canonical)
    return checked, None


def _wifi_stage(limb: Limb, on: dt.date) -> int | None:
    row = (
        Assessment.objects.filter(limb=limb, entered_in_error=False, visit_date__lte=on)
        .annotate(latest_outputs=latest_outputs())
        .order_by("-visit_date", "-id")
        .values("latest_outputs")
        .first()
    )
    outputs: dict[str, Any] = (row["latest_outputs"] if row else None) or {}
    stage = outputs.get("values", {}).get("wifi_stage")
    return stage if isinstance(stage, int) else None


def _check_order(
    order: AmputationOrder | None, limb: Limb, performed_on: dt.date, errors: _Errors
) -> None:
    if order is None:
        errors.add(
            "amputation_order",
            "An amputation is logged against an order planned through the amputation gate.",
        )
        return
    if order.limb_id != limb.pk:
        errors.add("amputation_order", "That order is for another limb.")
    elif order.status not in (OrderStatus.PLANNED, OrderStatus.OVERRIDDEN):
        errors.add("amputation_order", "The gate refused that order; it cannot be performed.")
    elif Intervention.objects.filter(amputation_order=order).exists():
        errors.add("amputation_order", "That order has already been performed.")
    elif timezone.localdate(order.requested_at) > performed_on:
        errors.add("performed_on", "The amputation is dated before it was planned.")


@transaction.atomic
def do_log_procedure(
    *,
    acting_user: User,
    patient: Patient,
    limb: Limb,
    kind: str,
    performed_on: dt.date,
    indication: str,
    access: str = "",
    conduit: str = "",
    lesions: Sequence[LesionInput] = (),
    devices: Sequence[DeviceInput] = (),
    technical_success: bool | None = None,
    complications: Sequence[str] = (),
    complication_notes: str = "",
    cpt_codes: Sequence[str] | None = None,
    staged_from: Intervention | None = None,
    amputation_order: AmputationOrder | None = None,
    digit: int | None = None,
    wifi_stage: int | None = None,
    notes: str = "",
    ip_address: str | None = None,
) -> Intervention:
    """Log one procedure on `limb`. `cpt_codes=None` attaches the suggested codes."""
    require(acting_user, PERMISSION, "log procedures")
    check_limb(patient, limb)
    limb = Limb.objects.select_for_update().get(pk=limb.pk)
    check_date(patient, performed_on, "performed_on")
    errors = _Errors()
    if kind not in InterventionKind.values:
        raise ValidationError({"kind": "Choose the kind of procedure."})
    if indication not in Indication.values:
        errors.add("indication", "Choose the indication.")
    endo = kind in ENDOVASCULAR_KINDS
    if access not in Access.values:
        errors.add("access", "Unknown access.")
    elif endo and not access:
        errors.add("access", "Give the access of an endovascular procedure.")
    elif not endo and access:
        errors.add("access", "Only an endovascular procedure has an access.")
    if conduit not in Conduit.values:
        errors.add("conduit", "Unknown conduit.")
    elif (kind == InterventionKind.BYPASS) != bool(conduit):
        errors.add("conduit", "A bypass needs its conduit; other procedures have none.")
    _check_lesions(kind, lesions, errors)
    for device in devices:
        if device.kind not in DeviceKind.values:
            errors.add("devices", f"Unknown device {device.kind!r}.")
    bad = [c for c in complications if c not in Complication.values]
    if bad:
        errors.add("complications", f"Unknown complication(s): {', '.join(bad)}.")
    if wifi_stage is not None and not 1 <= wifi_stage <= 4:
        errors.add("wifi_stage", "A WIfI clinical stage is 1-4.")
    residuals = [x.residual_stenosis_pct for x in lesions]
    if technical_success and any(
        r is not None and r >= TECHNICAL_SUCCESS_RESIDUAL_BELOW_PCT for r in residuals
    ):
        errors.add(
            "technical_success",
            f"Technical success means residual stenosis < {TECHNICAL_SUCCESS_RESIDUAL_BELOW_PCT} % "
            f"({SVS_PVI_2016}).",
        )
    measured = bool(residuals) and all(r is not None for r in residuals)
    if technical_success is None and kind == InterventionKind.ARTERIAL_ENDOVASCULAR and measured:
        technical_success = all(
            r is not None and r < TECHNICAL_SUCCESS_RESIDUAL_BELOW_PCT for r in residuals
        )
    if staged_from is not None:
        if staged_from.limb_id != limb.pk or staged_from.entered_in_error:
            errors.add("staged_from", "A staged procedure continues one on the same limb.")
        elif staged_from.performed_on > performed_on:
            errors.add("staged_from", "The later stage is dated before the first.")
    level = ""
    if kind == InterventionKind.AMPUTATION:
        _check_order(amputation_order, limb, performed_on, errors)
        if amputation_order is not None:
            level = amputation_order.level
    elif amputation_order is not None or digit is not None:
        errors.add("amputation_order", "Only an amputation names an amputation order.")
    if errors.found:
        raise ValidationError(errors.found)
    if kind == InterventionKind.AMPUTATION:
        check_amputation_level(limb, level, digit)
    checked_codes, cpt_error = _cpt(kind, level, cpt_codes, lesions, conduit)
    if cpt_error:
        raise ValidationError({"cpt_codes": cpt_error})
    fp, ip = _glass(lesions)
    glass_stage = glass.stage(fp, ip) if fp is not None and ip is not None else None
    intervention = Intervention(
        patient=patient,
        limb=limb,
        center=patient.home_center,
        kind=kind,
        performed_on=performed_on,
        indication=indication,
        wifi_stage=wifi_stage if wifi_stage is not None else _wifi_stage(limb, performed_on),
        glass_stage=glass_stage or "",
        access=access,
        conduit=conduit,
        technical_success=technical_success,
        complications=sorted(set(complications)),
        complication_notes=complication_notes.strip()[:500],
        cpt_codes=checked_codes,
        staged_from=staged_from,
        amputation_order=amputation_order,
        amputation_level=level,
        digit=digit,
        operator=acting_user,
        operator_name=acting_user.get_full_name() or acting_user.get_username(),
        notes=notes.strip(),
    )
    intervention.full_clean()
    intervention.save()
    TreatedLesion.objects.bulk_create(
        TreatedLesion(
            intervention=intervention,
            segment=x.segment,
            lesion_type=x.lesion_type,
            length_cm=x.length_cm,
            calcification=x.calcification,
            techniques=list(x.techniques),
            glass_grade=fp if x.segment in GLASS_FP_SEGMENTS else x.glass_grade,
            stenosis_before_pct=x.stenosis_before_pct,
            residual_stenosis_pct=x.residual_stenosis_pct,
        )
        for x in lesions
    )
    InterventionDevice.objects.bulk_create(
        InterventionDevice(intervention=intervention, **vars(d)) for d in devices
    )
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=patient.pk,
        obj=intervention,
        summary=f"procedure logged: {intervention.get_kind_display()}, {limb.side} limb",
        changes={
            **audit.snapshot(intervention, FIELDS),
            "lesions": [f"{x.segment} {x.lesion_type} {x.length_cm} cm" for x in lesions],
            "devices": [d.kind for d in devices],
        },
        ip_address=ip_address,
    )
    _consequences(acting_user, intervention, lesions, ip_address)
    return intervention


def _consequences(
    acting_user: User,
    intervention: Intervention,
    lesions: Sequence[LesionInput],
    ip_address: str | None,
) -> None:
    kind, limb = intervention.kind, intervention.limb
    if kind == InterventionKind.AMPUTATION:
        level = intervention.amputation_level
        event = OutcomeEvent.objects.create(
            patient=intervention.patient,
            limb=limb,
            kind=EventKind.MINOR_AMPUTATION
            if level in MINOR_LEVELS
            else EventKind.MAJOR_AMPUTATION,
            occurred_on=intervention.performed_on,
            intervention=intervention,
            amputation_level=level,
            digit=intervention.digit,
            recorded_by=acting_user,
        )
        _audit_event(acting_user, event, ip_address)
        apply_amputation(
            acting_user=acting_user,
            limb=limb,
            level=level,
            on=intervention.performed_on,
            ip_address=ip_address,
        )
        return
    do_create_surveillance_plan(
        acting_user=acting_user, intervention=intervention, ip_address=ip_address
    )
    if kind not in REVASCULARIZATION_KINDS or intervention.staged_from_id is not None:
        return
    earlier = (
        Intervention.objects.filter(
            limb=limb,
            kind__in=list(REVASCULARIZATION_KINDS),
            entered_in_error=False,
            performed_on__lte=intervention.performed_on,
        )
        .exclude(pk=intervention.pk)
        .exists()
    )
    if not earlier:
        return
    techniques = {t for x in lesions for t in x.techniques}
    major = kind == InterventionKind.BYPASS or bool(techniques & MAJOR_REINTERVENTION_TECHNIQUES)
    event = OutcomeEvent.objects.create(
        patient=intervention.patient,
        limb=limb,
        kind=EventKind.REINTERVENTION,
        occurred_on=intervention.performed_on,
        intervention=intervention,
        major_reintervention=major,
        notes=f"major reintervention ({SVS_OPG_2011})" if major else "",
        recorded_by=acting_user,
    )
    _audit_event(acting_user, event, ip_address)


def _audit_event(acting_user: User, event: OutcomeEvent, ip_address: str | None) -> None:
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=event.patient_id,
        obj=event,
        summary=f"outcome event: {event.get_kind_display()} on {event.occurred_on}",
        changes={
            "kind": event.kind,
            "occurred_on": str(event.occurred_on),
            "intervention": event.intervention_id,
            "amputation_level": event.amputation_level,
            "major_reintervention": event.major_reintervention,
        },
        ip_address=ip_address,
    )


@transaction.atomic
def do_retire_procedure(
    *,
    acting_user: User,
    intervention: Intervention,
    reason: str,
    ip_address: str | None = None,
) -> Intervention:
    """Mark a procedure entered in error, with its reintervention event; its
    surveillance plan closes. An amputation changed the registry limb, which does not go
    back: it is corrected there, not here."""
    require(acting_user, "treatment.change_intervention", "correct procedures")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the entry is wrong."})
    locked = Intervention.objects.select_for_update().get(pk=intervention.pk)
    if locked.kind == InterventionKind.AMPUTATION:
        raise ValidationError(
            {"reason": "An amputation changed the registry limb status; correct it there."}
        )
    if locked.entered_in_error:
        return locked
    locked.entered_in_error, locked.retire_reason = True, reason.strip()[:300]
    locked.save(update_fields=["entered_in_error", "retire_reason"])
    OutcomeEvent.objects.filter(intervention=locked, entered_in_error=False).update(
        entered_in_error=True, retire_reason=f"procedure entered in error: {reason.strip()}"[:300]
    )
    plan = getattr(locked, "surveillance", None)
    if plan is not None:
        plan.status, plan.closed_reason = "closed", "procedure entered in error"
        plan.save(update_fields=["status", "closed_reason"])
    audit.record(
        acting_user=acting_user,
        action=AuditAction.RETIRE,
        patient_id=locked.patient_id,
        obj=locked,
        summary=f"procedure marked entered in error: {reason.strip()}",
        changes={"entered_in_error": [False, True]},
        ip_address=ip_address,
    )
    return locked
