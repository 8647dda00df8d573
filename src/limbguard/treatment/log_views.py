"""Pages of the procedure log, outcome events, follow-up and care team (issue 6).

Thin: parse → fetch with permission (`access_patient`: another center's patient is a
404) → service → render. Every page that shows patient data writes an audit row; the
services audit every change. The lists (worklist, follow-ups) are SEARCH rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.accounts.roles import Role
from limbguard.clinics.models import Center
from limbguard.registry.access import access_patient, visible_patients
from limbguard.registry.models import Limb, Patient, Side
from limbguard.treatment import lists
from limbguard.treatment.actions import care_team, events, followup, procedures
from limbguard.treatment.care_team import CareTask
from limbguard.treatment.followup import SurveillancePlan
from limbguard.treatment.log_forms import (
    CloseTaskForm,
    DeviceFormSet,
    EventForm,
    FollowupForm,
    LesionFormSet,
    ProcedureForm,
    SuggestionForm,
    TaskForm,
)
from limbguard.treatment.models import AmputationOrder, OrderStatus
from limbguard.treatment.vocab import Discipline
from limbguard.views import apply_service_error, signed_in_user

VIEW = "treatment.view_intervention"
ROLE_DISCIPLINE = {
    Role.WOUND_CARE: Discipline.WOUND_CARE,
    Role.PODIATRY: Discipline.PODIATRY,
    Role.INFECTIOUS_DISEASE: Discipline.INFECTIOUS_DISEASE,
    Role.ENDOCRINOLOGY: Discipline.ENDOCRINOLOGY,
}


def _limb(patient: Patient, side: str) -> Limb:
    if side not in Side.values:
        raise Http404("No such limb")
    return get_object_or_404(patient.limbs, side=side)


def _view_audit(request: HttpRequest, patient: Patient, summary: str) -> None:
    audit.record(
        acting_user=signed_in_user(request),
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=patient,
        summary=summary,
        ip_address=audit.client_ip(request),
    )


def _context(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    """Everything of the patient's treatment page (a fixed number of queries)."""
    today = timezone.localdate()
    user = signed_in_user(request)
    interventions = list(
        patient.interventions.select_related("limb", "staged_from", "amputation_order")
        .prefetch_related("lesions", "devices")
        .order_by("-performed_on", "-id")
    )
    plans = list(
        SurveillancePlan.objects.filter(patient=patient)
        .select_related("intervention", "limb")
        .prefetch_related("visits")
    )
    return {
        "patient": patient,
        "today": today,
        "interventions": interventions,
        "plans": plans,
        "events": list(
            patient.outcome_events.select_related("limb").order_by("-occurred_on", "-id")
        ),
        "tasks": list(
            patient.care_tasks.select_related("limb", "owner", "closed_by").order_by(
                "status", "due_on", "id"
            )
        ),
        "suggestions": lists.suggestions(patient, today=today)
        if user.has_perm("treatment.add_caretask")
        else [],
        "event_form": EventForm(initial={"occurred_on": today}),
        "followup_form": FollowupForm(initial={"done_on": today}),
        "task_form": TaskForm(),
        "sides": Side.choices,
    }


@login_required
@permission_required(VIEW, raise_exception=True)
def patient_treatment(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's procedures, surveillance, outcome events and care-team tasks."""
    patient = access_patient(signed_in_user(request), patient_id)
    _view_audit(request, patient, "opened treatment and outcomes")
    return render(request, "treatment/patient.html", _context(request, patient))


def _lesions(formset: Any) -> list[procedures.LesionInput]:
    found = []
    for data in formset.cleaned_data:
        if not data or not data.get("segment"):
            continue
        found.append(
            procedures.LesionInput(
                segment=data["segment"],
                lesion_type=data.get("lesion_type") or "stenosis",
                length_cm=data.get("length_cm") or Decimal(0),
                calcification=data.get("calcification") or "none",
                techniques=tuple(data.get("techniques") or ()),
                glass_grade=data.get("glass_grade"),
                residual_stenosis_pct=data.get("residual_stenosis_pct"),
            )
        )
    return found


def _devices(formset: Any) -> list[procedures.DeviceInput]:
    return [
        procedures.DeviceInput(
            kind=data["kind"],
            manufacturer=data.get("manufacturer", ""),
            model_name=data.get("model_name", ""),
            diameter_mm=data.get("diameter_mm"),
            length_mm=data.get("length_mm"),
        )
        for data in formset.cleaned_data
        if data and data.get("kind")
    ]


@login_required
@permission_required("treatment.add_intervention", raise_exception=True)
@require_http_methods(["GET", "POST"])
def procedure_new(request: HttpRequest, patient_id: int, side: str) -> HttpResponse:
    """Log a procedure on one limb; an amputation names its planned gate order."""
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    limb = _limb(patient, side)
    earlier = [
        (i.pk, f"{i.get_kind_display()} on {i.performed_on}")
        for i in limb.interventions.filter(entered_in_error=False).order_by("-performed_on")
    ]
    orders = list(
        AmputationOrder.objects.filter(
            limb=limb,
            status__in=[OrderStatus.PLANNED, OrderStatus.OVERRIDDEN],
            intervention__isnull=True,
        )
    )
    data = request.POST if request.method == "POST" else None
    form = ProcedureForm(
        data, earlier=earlier, orders=orders, initial={"performed_on": timezone.localdate()}
    )
    lesion_forms = LesionFormSet(data, prefix="lesion")
    device_forms = DeviceFormSet(data, prefix="device")
    if request.method == "POST" and all(f.is_valid() for f in (form, lesion_forms, device_forms)):
        values = form.cleaned_data
        try:
            intervention = procedures.do_log_procedure(
                acting_user=user,
                patient=patient,
                limb=limb,
                kind=values["kind"],
                performed_on=values["performed_on"],
                indication=values["indication"],
                access=values["access"] or "",
                conduit=values["conduit"] or "",
                lesions=_lesions(lesion_forms),
                devices=_devices(device_forms),
                technical_success=values["technical_success"],
                complications=values["complications"],
                complication_notes=values["complication_notes"],
                cpt_codes=form.codes(),
                staged_from=limb.interventions.filter(pk=values["staged_from"]).first()
                if values["staged_from"]
                else None,
                amputation_order=next(
                    (o for o in orders if o.pk == values["amputation_order"]), None
                ),
                digit=values["digit"],
                wifi_stage=values["wifi_stage"],
                notes=values["notes"],
                ip_address=audit.client_ip(request),
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                f"Logged: {intervention.get_kind_display()} on {intervention.performed_on}"
                + (f" (CPT {' '.join(intervention.cpt_codes)})" if intervention.cpt_codes else ""),
            )
            return redirect("treatment:patient", patient_id=patient.pk)
    elif request.method == "GET":
        _view_audit(request, patient, f"opened procedure log entry for the {side} limb")
    return render(
        request,
        "treatment/procedure_form.html",
        {
            "patient": patient,
            "limb": limb,
            "form": form,
            "lesion_forms": lesion_forms,
            "device_forms": device_forms,
        },
        status=400 if request.method == "POST" else 200,
    )


def _rerender(
    request: HttpRequest, patient: Patient, form_key: str, form: BaseForm
) -> HttpResponse:
    context = _context(request, patient)
    context[form_key] = form
    return render(request, "treatment/patient.html", context, status=400)


def _record(
    request: HttpRequest,
    patient: Patient,
    form: BaseForm,
    form_key: str,
    save: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """On a valid form, run `save(cleaned_data)` (a treatment service; it returns the
    message to show) and return to the patient's page; otherwise, or when the service
    refuses, show the page again with the form's errors."""
    if form.is_valid():
        try:
            done = save(dict(form.cleaned_data))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, done)
            return redirect("treatment:patient", patient_id=patient.pk)
    return _rerender(request, patient, form_key, form)


@login_required
@permission_required("treatment.add_outcomeevent", raise_exception=True)
@require_POST
def event_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)

    def save(values: dict[str, Any]) -> str:
        side = values.pop("side")
        events.do_record_event(
            acting_user=user,
            patient=patient,
            limb=_limb(patient, side) if side else None,
            ip_address=audit.client_ip(request),
            **values,
        )
        return "Outcome event recorded."

    return _record(request, patient, EventForm(request.POST), "event_form", save)


@login_required
@permission_required("treatment.record_followup", raise_exception=True)
@require_POST
def followup_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)

    def save(values: dict[str, Any]) -> str:
        visit = followup.do_record_followup(
            acting_user=user,
            patient=patient,
            limb=_limb(patient, values.pop("side")),
            ip_address=audit.client_ip(request),
            **values,
        )
        return f"Follow-up recorded ({visit.label})."

    return _record(request, patient, FollowupForm(request.POST), "followup_form", save)


@login_required
@permission_required("treatment.add_caretask", raise_exception=True)
@require_POST
def task_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)

    def save(values: dict[str, Any]) -> str:
        care_team.do_create_task(
            acting_user=user, patient=patient, ip_address=audit.client_ip(request), **values
        )
        return "Care-team task created."

    return _record(request, patient, TaskForm(request.POST), "task_form", save)


@login_required
@permission_required("treatment.add_caretask", raise_exception=True)
@require_POST
def task_suggested(request: HttpRequest, patient_id: int) -> HttpResponse:
    """One click: the pathway's suggestion becomes a task. The suggestion is recomputed
    here; the client only names which one."""
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    form = SuggestionForm(request.POST)
    today = timezone.localdate()
    found = None
    if form.is_valid():
        found = next(
            (
                s
                for s in lists.suggestions(patient, today=today)
                if s.discipline == form.cleaned_data["discipline"]
                and s.rule == form.cleaned_data["rule"]
            ),
            None,
        )
    if found is None:
        messages.error(request, "That suggestion no longer applies.")
        return redirect("treatment:patient", patient_id=patient.pk)
    try:
        care_team.do_create_task(
            acting_user=user,
            patient=patient,
            discipline=found.discipline,
            title=f"{found.label}: {found.text}",
            limb=_limb(patient, found.side),
            due_on=today + dt.timedelta(days=lists.SUGGESTED_DUE_DAYS),
            source_rule=found.rule,
            source=found.source,
            ip_address=audit.client_ip(request),
        )
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        messages.success(request, f"{found.label} task created from the pathway.")
    return redirect("treatment:patient", patient_id=patient.pk)


@login_required
@permission_required("treatment.close_caretask", raise_exception=True)
@require_POST
def task_close(request: HttpRequest, patient_id: int, task_id: int) -> HttpResponse:
    """Complete (with the loop-closing note) or cancel a task; htmx gets the row back."""
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    task = get_object_or_404(CareTask, pk=task_id, patient=patient)
    form = CloseTaskForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            if form.cleaned_data["action"] == "complete":
                task = care_team.do_complete_task(
                    acting_user=user,
                    task=task,
                    note=form.cleaned_data["note"],
                    ip_address=audit.client_ip(request),
                )
            else:
                task = care_team.do_cancel_task(
                    acting_user=user,
                    task=task,
                    reason=form.cleaned_data["note"],
                    ip_address=audit.client_ip(request),
                )
        except ValidationError as failure:
            error = "; ".join(failure.messages)
    else:
        error = "Choose complete or cancel."
    if request.headers.get("HX-Request"):
        return render(
            request,
            "treatment/_task_row.html",
            {"patient": patient, "task": task, "error": error, "today": timezone.localdate()},
            status=200 if not error else 422,
        )
    if error:
        messages.error(request, error)
    return redirect("treatment:patient", patient_id=patient.pk)


def _centers(user: User) -> list[Center]:
    return list(Center.objects.all() if user.sees_all_centers else user.centers.all())


@login_required
@permission_required("treatment.view_caretask", raise_exception=True)
def worklist(request: HttpRequest) -> HttpResponse:
    """Open care-team tasks of one discipline at the user's centers, overdue first."""
    user = signed_in_user(request)
    default = next((ROLE_DISCIPLINE[r] for r in user.roles() if r in ROLE_DISCIPLINE), None)
    discipline = request.GET.get("discipline") or default or Discipline.WOUND_CARE
    if discipline not in Discipline.values:
        raise Http404("No such discipline")
    today = timezone.localdate()
    rows = lists.worklist(visible_patients(user), discipline=discipline, today=today)
    audit.record(
        acting_user=user,
        action=AuditAction.SEARCH,
        summary=f"care-team worklist {discipline}: {len(rows)} open tasks",
        ip_address=audit.client_ip(request),
    )
    return render(
        request,
        "treatment/worklist.html",
        {
            "rows": rows,
            "discipline": discipline,
            "disciplines": Discipline.choices,
            "today": today,
            "overdue": sum(1 for r in rows if r.overdue),
        },
    )


@login_required
@permission_required("treatment.view_surveillanceplan", raise_exception=True)
def followups(request: HttpRequest) -> HttpResponse:
    """Due and overdue surveillance visits, and each center's long-term follow-up rate."""
    user = signed_in_user(request)
    today = timezone.localdate()
    patients = visible_patients(user)
    rows = lists.followups(patients, today=today)
    rates = lists.followup_rates(_centers(user), today=today, patients=patients)
    audit.record(
        acting_user=user,
        action=AuditAction.SEARCH,
        summary=f"follow-up list: {len(rows)} due or overdue",
        ip_address=audit.client_ip(request),
    )
    return render(
        request,
        "treatment/followups.html",
        {"rows": rows, "rates": rates, "today": today},
    )
