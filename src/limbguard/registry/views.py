"""Patient list and chart. Thin: parse → fetch with permission → service → render."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from django_htmx.middleware import HtmxDetails

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction
from limbguard.registry import services
from limbguard.registry.access import access_patient, visible_patients
from limbguard.registry.forms import LabForm, LimbForm, PatientForm, ProblemForm, RiskProfileForm
from limbguard.registry.models import Patient
from limbguard.registry.search import search_patients
from limbguard.views import apply_service_error, signed_in_user

PAGE_SIZE = 25


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _save_and_return(
    request: HttpRequest,
    form: BaseForm,
    patient: Patient,
    title: str,
    save: Callable[[dict[str, Any]], object],
) -> HttpResponse:
    """On a valid POST, run `save(cleaned_data)` (a registry service) and return to the
    chart; otherwise, or when the service refuses, show the form with field errors."""
    if request.method == "POST" and form.is_valid():
        try:
            save(dict(form.cleaned_data))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            return redirect("registry:patient_chart", patient_id=patient.pk)
    return render(request, "registry/form.html", {"form": form, "title": title, "patient": patient})


@login_required
@permission_required("registry.view_patient", raise_exception=True)
def patient_list(request: HtmxHttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    query = request.GET.get("q", "")[:100]
    patients = search_patients(visible_patients(user), query).select_related("home_center")
    page = Paginator(
        patients.only(
            "id",
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "sex",
            "status",
            "home_center__name",
        ),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    audit.record(
        acting_user=user,
        action=AuditAction.SEARCH,
        summary=f"patient list q={query!r} page {page.number}: {len(page.object_list)} shown",
        ip_address=audit.client_ip(request),
    )
    context = {"page": page, "query": query}
    if request.htmx:
        return render(request, "registry/_patient_results.html", context)
    return render(request, "registry/patient_list.html", context)


@login_required
@permission_required("registry.view_patient", raise_exception=True)
def patient_chart(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    context: dict[str, Any] = {"patient": patient, "limbs": list(patient.limbs.all())}
    if user.has_perm("registry.view_problem"):
        context["problems"] = list(patient.problems.all())
        context["risk"] = getattr(patient, "risk", None)
        context["labs"] = list(patient.labs.all())
    audit.record(
        acting_user=user,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=patient,
        summary="opened chart",
        ip_address=audit.client_ip(request),
    )
    return render(request, "registry/patient_chart.html", context)


@login_required
@permission_required("registry.add_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = PatientForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        home_center = fields.pop("home_center")
        try:
            patient = services.do_create_patient(
                acting_user=user,
                ip_address=audit.client_ip(request),
                home_center=home_center,
                **fields,
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            return redirect("registry:patient_chart", patient_id=patient.pk)
    return render(request, "registry/form.html", {"form": form, "title": "New patient"})


@login_required
@permission_required("registry.change_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    # The form validates a copy; the service locks and changes the stored row.
    form = PatientForm(request.POST or None, instance=copy.copy(patient), user=user)
    return _save_and_return(
        request,
        form,
        patient,
        "Edit demographics",
        lambda data: services.do_update_patient(
            acting_user=user, patient=patient, ip_address=audit.client_ip(request), **data
        ),
    )


@login_required
@permission_required("registry.add_problem", raise_exception=True)
@require_http_methods(["GET", "POST"])
def problem_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    form = ProblemForm(request.POST or None)
    return _save_and_return(
        request,
        form,
        patient,
        "Add problem",
        lambda data: services.do_add_problem(
            acting_user=user, patient=patient, ip_address=audit.client_ip(request), **data
        ),
    )


@login_required
@permission_required("registry.change_problem", raise_exception=True)
@require_http_methods(["POST"])
def problem_retire(request: HttpRequest, patient_id: int, problem_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    problem = get_object_or_404(patient.problems, pk=problem_id)
    services.do_update_problem(
        acting_user=user,
        problem=problem,
        entered_in_error=True,
        ip_address=audit.client_ip(request),
    )
    return redirect("registry:patient_chart", patient_id=patient.pk)


@login_required
@permission_required("registry.change_riskprofile", raise_exception=True)
@require_http_methods(["GET", "POST"])
def risk_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    form = RiskProfileForm(request.POST or None, initial=_risk_initial(patient))
    return _save_and_return(
        request,
        form,
        patient,
        "Risk factors",
        lambda data: services.do_update_risk_profile(
            acting_user=user, patient=patient, ip_address=audit.client_ip(request), **data
        ),
    )


def _risk_initial(patient: Any) -> dict[str, Any]:
    risk = getattr(patient, "risk", None)
    return {} if risk is None else {f: getattr(risk, f) for f in services.RISK_FIELDS}


@login_required
@permission_required("registry.add_labresult", raise_exception=True)
@require_http_methods(["GET", "POST"])
def lab_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    form = LabForm(request.POST or None)
    return _save_and_return(
        request,
        form,
        patient,
        "Add lab result",
        lambda data: services.do_add_lab(
            acting_user=user, patient=patient, ip_address=audit.client_ip(request), **data
        ),
    )


@login_required
@permission_required("registry.change_limb", raise_exception=True)
@require_http_methods(["GET", "POST"])
def limb_edit(request: HttpRequest, patient_id: int, side: str) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    limb = get_object_or_404(patient.limbs, side=side)
    form = LimbForm(
        request.POST or None, initial={f: getattr(limb, f) for f in services.LIMB_FIELDS}
    )
    return _save_and_return(
        request,
        form,
        patient,
        f"{limb.get_side_display()} leg status",
        lambda data: services.do_update_limb(
            acting_user=user, limb=limb, ip_address=audit.client_ip(request), **data
        ),
    )
