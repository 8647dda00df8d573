"""The gate pages: plan an amputation (checked by the gate), sign a limb salvage review."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction
from limbguard.assessments.queries import gate_for
from limbguard.registry.access import access_patient
from limbguard.registry.models import Limb, Patient, Side
from limbguard.treatment import services
from limbguard.treatment.forms import AmputationForm, ReviewForm
from limbguard.views import apply_service_error, signed_in_user


def _limb(patient: Patient, side: str) -> Limb:
    if side not in Side.values:
        raise Http404("No such limb")
    return get_object_or_404(patient.limbs, side=side)


@login_required
@permission_required("treatment.add_amputationorder", raise_exception=True)
@require_http_methods(["GET", "POST"])
def amputation(request: HttpRequest, patient_id: int, side: str) -> HttpResponse:
    """Plan an amputation: the gate decides; a refusal is shown with its reasons."""
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    limb = _limb(patient, side)
    form = AmputationForm(request.POST or None)
    attempt = None
    if request.method == "POST" and form.is_valid():
        try:
            attempt = services.do_request_amputation(
                acting_user=user,
                patient=patient,
                limb=limb,
                ip_address=audit.client_ip(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            for field, message in attempt.errors.items():
                form.add_error(None if field == "__all__" else field, message)
            if attempt.accepted:
                return redirect("assessments:limb", patient_id=patient.pk, side=side)
    else:
        audit.record(
            acting_user=user,
            action=AuditAction.VIEW,
            patient_id=patient.pk,
            obj=limb,
            summary=f"opened amputation planning for the {side} limb",
            ip_address=audit.client_ip(request),
        )
    decision = gate_for(limb, today=timezone.localdate())
    return render(
        request,
        "treatment/amputation.html",
        {
            "patient": patient,
            "limb": limb,
            "form": form,
            "gate": decision,
            "attempt": attempt,
            "can_override": user.has_perm(services.OVERRIDE_PERMISSION),
            "orders": list(limb.amputation_orders.select_related("requested_by")[:10]),
        },
        status=200 if attempt is None or attempt.accepted else 409,
    )


@login_required
@permission_required("treatment.sign_limbsalvagereview", raise_exception=True)
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, patient_id: int, side: str) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    limb = _limb(patient, side)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_sign_review(
                acting_user=user,
                patient=patient,
                limb=limb,
                ip_address=audit.client_ip(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            return redirect("assessments:limb", patient_id=patient.pk, side=side)
    return render(
        request,
        "treatment/review_form.html",
        {"patient": patient, "limb": limb, "form": form},
    )
