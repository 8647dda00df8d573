"""Surveillance plans after an intervention, and the follow-up visits that fill them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from django.core.exceptions import ValidationError
from django.db import transaction

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.registry.models import Limb, Patient
from limbguard.treatment.actions.common import check_date, check_limb, require
from limbguard.treatment.followup import SurveillancePlan, SurveillanceVisit
from limbguard.treatment.procedures import Intervention
from limbguard.treatment.vocab import VQI_LTFU, DuplexResult, InterventionKind, PlanStatus

PERMISSION = "treatment.record_followup"
SOURCE: Final = (
    f"LimbGuard program defaults (issue 6: duplex/ABI at 1, 6 and 12 months); {VQI_LTFU}"
)
# VQI long-term follow-up window: 9-21 months after the procedure (interop.md §C2).
LTFU_FROM_DAYS: Final = 274
LTFU_TO_DAYS: Final = 639


@dataclass(frozen=True)
class VisitSpec:
    """A planned visit: due `offset` days after the procedure, acceptable within
    [`window_from`, `window_to`] days, overdue `grace` days after it was due."""

    label: str
    offset: int
    window_from: int
    window_to: int
    grace: int
    long_term: bool = False


# Program rule: the 1- and 6-month windows run to the next visit's window; a visit is
# overdue a month (1 month) or two (6, 12 months) after its due date. The 12-month
# window is the VQI long-term window.
DEFAULT_SCHEDULE: Final = (
    VisitSpec("1 month", 30, 14, 119, 30),
    VisitSpec("6 months", 182, 120, 273, 60),
    VisitSpec("12 months", 365, LTFU_FROM_DAYS, LTFU_TO_DAYS, 60, long_term=True),
)


@transaction.atomic
def do_create_surveillance_plan(
    *,
    acting_user: User,
    intervention: Intervention | None,
    schedule: Sequence[VisitSpec] = DEFAULT_SCHEDULE,
    ip_address: str | None = None,
) -> SurveillancePlan:
    """The surveillance plan of a revascularization or venous intervention."""
    if intervention is None:
        raise ValidationError(
            {"intervention": "A follow-up plan needs an intervention: log the procedure first."}
        )
    if intervention.entered_in_error:
        raise ValidationError({"intervention": "That procedure was entered in error."})
    if intervention.kind == InterventionKind.AMPUTATION:
        raise ValidationError({"intervention": "Amputations have no duplex/ABI surveillance."})
    if SurveillancePlan.objects.filter(intervention=intervention).exists():
        raise ValidationError({"intervention": "This procedure already has a plan."})
    plan = SurveillancePlan.objects.create(
        intervention=intervention, patient=intervention.patient, limb=intervention.limb
    )
    start = intervention.performed_on
    days = dt.timedelta
    SurveillanceVisit.objects.bulk_create(
        SurveillanceVisit(
            plan=plan,
            label=spec.label,
            offset_days=spec.offset,
            due_on=start + days(spec.offset),
            window_start=start + days(spec.window_from),
            window_end=start + days(spec.window_to),
            overdue_after=start + days(spec.offset + spec.grace),
            long_term=spec.long_term,
        )
        for spec in schedule
    )
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=intervention.patient_id,
        obj=plan,
        summary=f"surveillance plan: {', '.join(s.label for s in schedule)}",
        changes={"intervention": intervention.pk, "visits": [s.label for s in schedule]},
        ip_address=ip_address,
    )
    return plan


def _plan_for(limb: Limb, done_on: dt.date) -> SurveillancePlan:
    plans = list(
        SurveillancePlan.objects.select_for_update()
        .filter(limb=limb, intervention__entered_in_error=False)
        .select_related("intervention")
        .order_by("-intervention__performed_on", "-id")
    )
    if not plans:
        raise ValidationError(
            {"limb": "No intervention on this limb: a follow-up needs a logged procedure."}
        )
    for plan in plans:
        if plan.intervention.performed_on <= done_on:
            return plan
    raise ValidationError(
        {"done_on": "The follow-up is before the first intervention on this limb."}
    )


@transaction.atomic
def do_record_followup(
    *,
    acting_user: User,
    patient: Patient,
    limb: Limb,
    done_on: dt.date,
    abi: Decimal | None = None,
    duplex: str = "",
    notes: str = "",
    ip_address: str | None = None,
) -> SurveillanceVisit:
    """A follow-up visit of `limb` on `done_on`: fills the open planned visit whose window
    holds the date (the nearest due date), or is kept as an unscheduled visit."""
    require(acting_user, PERMISSION, "record follow-up visits")
    check_limb(patient, limb)
    check_date(patient, done_on, "done_on")
    if duplex not in DuplexResult.values:
        raise ValidationError({"duplex": "Unknown duplex result."})
    if abi is not None and not Decimal(0) <= abi <= Decimal(3):
        raise ValidationError({"abi": "ABI must be between 0 and 3."})
    plan = _plan_for(limb, done_on)
    open_visits = [
        v
        for v in plan.visits.select_for_update().filter(done_on__isnull=True, unscheduled=False)
        if v.window_start <= done_on <= v.window_end
    ]
    visit = min(open_visits, key=lambda v: (abs((v.due_on - done_on).days), v.pk), default=None)
    if visit is None:
        offset = (done_on - plan.intervention.performed_on).days
        visit = SurveillanceVisit(
            plan=plan,
            label="unscheduled",
            offset_days=offset,
            due_on=done_on,
            window_start=done_on,
            window_end=done_on,
            overdue_after=done_on,
            long_term=LTFU_FROM_DAYS <= offset <= LTFU_TO_DAYS,
            unscheduled=True,
        )
    visit.done_on, visit.done_by = done_on, acting_user
    visit.abi, visit.duplex, visit.notes = abi, duplex, notes.strip()[:1000]
    visit.full_clean()
    visit.save()
    audit.record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient_id=patient.pk,
        obj=visit,
        summary=f"follow-up visit ({visit.label}) on {done_on}",
        changes=audit.snapshot(visit, ("label", "done_on", "abi", "duplex", "notes")),
        ip_address=ip_address,
    )
    return visit


@transaction.atomic
def do_close_plan(
    *, acting_user: User, plan: SurveillancePlan, reason: str, ip_address: str | None = None
) -> SurveillancePlan:
    require(acting_user, PERMISSION, "close surveillance plans")
    if not reason.strip():
        raise ValidationError({"reason": "Say why surveillance stops."})
    locked = SurveillancePlan.objects.select_for_update().get(pk=plan.pk)
    if locked.status == PlanStatus.CLOSED:
        return locked
    locked.status, locked.closed_reason = PlanStatus.CLOSED, reason.strip()[:200]
    locked.save(update_fields=["status", "closed_reason"])
    audit.record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient_id=locked.patient_id,
        obj=locked,
        summary=f"surveillance closed: {locked.closed_reason}",
        changes={"status": [PlanStatus.ACTIVE, PlanStatus.CLOSED]},
        ip_address=ip_address,
    )
    return locked
