"""Assessment pages. Thin: parse → fetch with permission → service → render.

Every page that shows patient data writes an audit row (VIEW, or SEARCH for the
worklist); every change is audited by its service. Patients are fetched through
`registry.access.access_patient`, so another center's patient answers 404.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction
from limbguard.assessments import chart, queries, restaging, services
from limbguard.assessments import photos as photo_store
from limbguard.assessments.forms import (
    MAX_PHOTOS_PER_UPLOAD,
    ArterialFindingForm,
    AssessmentForm,
    HealedForm,
    RetireForm,
    VenousFindingForm,
    WoundRecordForm,
)
from limbguard.assessments.models import (
    ArterialFinding,
    Assessment,
    StagingSnapshot,
    VenousFinding,
    Wound,
    WoundObservation,
    WoundPhoto,
)
from limbguard.assessments.pathway import ProblemType
from limbguard.clinics.models import Center
from limbguard.registry.access import access_patient, visible_patients
from limbguard.registry.models import Limb, Patient, Side
from limbguard.views import apply_service_error, signed_in_user

WORKLIST_PAGE_SIZE = 50
# The photos of one upload plus room for the form fields and multipart framing.
MAX_UPLOAD_BYTES = MAX_PHOTOS_PER_UPLOAD * photo_store.MAX_PHOTO_BYTES + 256 * 1024
VIEW = "assessments.view_assessment"
ADD = "assessments.add_assessment"
CHANGE = "assessments.change_assessment"


def _limb(patient: Patient, side: str) -> Limb:
    if side not in Side.values:
        raise Http404("No such limb")
    return get_object_or_404(patient.limbs, side=side)


def _assessment(patient: Patient, assessment_id: int) -> Assessment:
    return get_object_or_404(
        Assessment.objects.select_related("limb", "patient", "assessed_by"),
        pk=assessment_id,
        patient=patient,
    )


def _view_audit(request: HttpRequest, patient: Patient, obj: Any, summary: str) -> None:
    audit.record(
        acting_user=signed_in_user(request),
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=obj,
        summary=summary,
        ip_address=audit.client_ip(request),
    )


# --- worklist -------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
def worklist(request: HttpRequest) -> HttpResponse:
    """Limbs at risk across the user's centers: most urgent, then longest unseen, first."""
    user = signed_in_user(request)
    patients = visible_patients(user)
    centers = Center.objects.all() if user.sees_all_centers else user.centers.all()
    center = request.GET.get("center", "")
    if center:
        patients = patients.filter(home_center__slug=center)
    kind = request.GET.get("problem", "")
    missing = request.GET.get("missing", "") == "1"
    rows = queries.limb_rows(patients, today=timezone.localdate(), include_amputated=False)
    if kind in ProblemType.__members__.values():
        rows = [r for r in rows if r.pathway.problem_type == kind]
    if missing:
        rows = [r for r in rows if r.pathway.missing_workup]
    page = Paginator(queries.sorted_rows(rows), WORKLIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    audit.record(
        acting_user=user,
        action=AuditAction.SEARCH,
        summary=f"limbs at risk center={center!r} problem={kind!r} missing={missing} "
        f"page {page.number}: {len(page.object_list)} shown",
        ip_address=audit.client_ip(request),
    )
    context = {
        "page": page,
        "centers": list(centers),
        "center": center,
        "problem": kind,
        "missing": missing,
        "problem_types": list(ProblemType),
    }
    template = "assessments/_worklist_rows.html" if request.headers.get("HX-Request") else None
    return render(request, template or "assessments/worklist.html", context)


# --- the limb page: pathway, staging, wounds, gate ---------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
def chart_section(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The chart's limb-status section (loaded by htmx): both limbs' pathway and gate.

    Audited unless it comes with the token of the chart page view (see `chart.py`).
    """
    patient = access_patient(signed_in_user(request), patient_id)
    rows = queries.limb_rows(Patient.objects.filter(pk=patient.pk), today=timezone.localdate())
    token = request.GET.get("chart", "")
    if not chart.covered_by_chart_audit(
        token, patient_id=patient.pk, user_id=signed_in_user(request).pk
    ):
        _view_audit(request, patient, patient, "opened limb status (chart)")
    return render(request, "assessments/_limb_status.html", {"patient": patient, "rows": rows})


@login_required
@permission_required(VIEW, raise_exception=True)
def limb_detail(request: HttpRequest, patient_id: int, side: str) -> HttpResponse:
    patient = access_patient(signed_in_user(request), patient_id)
    limb = _limb(patient, side)
    today = timezone.localdate()
    (row,) = [
        r
        for r in queries.limb_rows(Patient.objects.filter(pk=patient.pk), today=today)
        if r.limb.pk == limb.pk
    ]
    assessments = list(
        limb.assessments.select_related("assessed_by")
        .annotate(latest_outputs=queries.latest_outputs())
        .order_by("-visit_date", "-id")
    )
    latest = (
        StagingSnapshot.objects.filter(assessment_id=row.latest_assessment_id).first()
        if row.latest_assessment_id
        else None
    )
    orders = list(limb.amputation_orders.select_related("requested_by")[:10])
    reviews = list(limb.salvage_reviews.all()[:5])
    _view_audit(request, patient, limb, f"opened {side} limb pathway")
    return render(
        request,
        "assessments/limb.html",
        {
            "patient": patient,
            "limb": limb,
            "row": row,
            "assessments": assessments,
            "snapshot": latest,
            "orders": orders,
            "reviews": reviews,
        },
    )


# --- assessment entry ------------------------------------------------------------------


def _preview(form: AssessmentForm, existing: Assessment | None) -> tuple[Any, list[str]]:
    """Staging of the unsaved form for the live panel: (result or None, errors).

    When editing, the assessment's current findings and wounds are staged with the form.
    """
    if not form.is_valid():
        return None, [
            f"{form.fields[f].label or f}: {' '.join(str(m) for m in e)}"
            for f, e in form.errors.items()
            if f in form.fields
        ]
    try:
        findings = restaging.current_findings(existing) if existing else ([], [], [])
        _, result = restaging.run_staging(form.instance, *findings)
    except ValidationError as error:
        return None, [" ".join(m for m in error.messages)]
    return result, []


@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
def assessment_new(request: HttpRequest, patient_id: int, side: str) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    limb = _limb(patient, side)
    instance = Assessment(patient=patient, limb=limb)
    form = AssessmentForm(
        request.POST or None, instance=instance, initial={"visit_date": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            assessment = services.do_create_assessment(
                acting_user=user,
                patient=patient,
                limb=limb,
                ip_address=audit.client_ip(request),
                **fields,
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            return redirect(
                "assessments:detail", patient_id=patient.pk, assessment_id=assessment.pk
            )
    return render(
        request,
        "assessments/assessment_form.html",
        {"form": form, "patient": patient, "limb": limb, "title": f"New {side} limb assessment"},
    )


@login_required
@permission_required(ADD, raise_exception=True)
@require_POST
def assessment_preview(request: HttpRequest, patient_id: int, side: str) -> HttpResponse:
    """Live staging of the form as typed (htmx); computes only, stores nothing."""
    patient = access_patient(signed_in_user(request), patient_id)
    limb = _limb(patient, side)
    existing = None
    if request.GET.get("assessment", "").isdigit():
        existing = _assessment(patient, int(request.GET["assessment"]))
        if existing.limb_id != limb.pk:
            raise Http404("Assessment of another limb")
    form = AssessmentForm(request.POST, instance=Assessment(patient=patient, limb=limb))
    result, errors = _preview(form, existing)
    outputs = result.outputs() if result is not None else None
    return render(request, "assessments/_staging.html", {"outputs": outputs, "errors": errors})


@login_required
@permission_required(VIEW, raise_exception=True)
def assessment_detail(request: HttpRequest, patient_id: int, assessment_id: int) -> HttpResponse:
    patient = access_patient(signed_in_user(request), patient_id)
    assessment = _assessment(patient, assessment_id)
    _view_audit(request, patient, assessment, f"opened assessment {assessment.visit_date}")
    return render(
        request, "assessments/assessment_detail.html", _detail_context(request, patient, assessment)
    )


def _detail_context(
    request: HttpRequest, patient: Patient, assessment: Assessment, **extra: Any
) -> dict[str, Any]:
    snapshot = assessment.snapshots.first()
    wounds = Wound.objects.filter(limb=assessment.limb, entered_in_error=False, healed_on=None)
    context = {
        "patient": patient,
        "assessment": assessment,
        "snapshot": snapshot,
        "arterial": list(assessment.arterial_findings.all()),
        "venous": list(assessment.venous_findings.all()),
        "observations": list(
            assessment.wound_observations.select_related("wound").prefetch_related("photos")
        ),
        "arterial_form": ArterialFindingForm(),
        "venous_form": VenousFindingForm(),
        "wound_form": WoundRecordForm(wounds=wounds),
        "retire_form": RetireForm(),
        "can_correct": signed_in_user(request).has_perm(CHANGE) and not assessment.entered_in_error,
    }
    context.update(extra)
    return context


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def assessment_edit(request: HttpRequest, patient_id: int, assessment_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    assessment = _assessment(patient, assessment_id)
    if assessment.entered_in_error:
        raise Http404("Assessment entered in error")
    form = AssessmentForm(
        request.POST or None,
        instance=copy.copy(assessment),
        initial={"version": assessment.version},
    )
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        expected = form.cleaned_data.get("version")
        try:
            services.do_update_assessment(
                acting_user=user,
                assessment=assessment,
                expected_version=expected if expected is not None else -1,
                ip_address=audit.client_ip(request),
                **fields,
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            return redirect(
                "assessments:detail", patient_id=patient.pk, assessment_id=assessment.pk
            )
    return render(
        request,
        "assessments/assessment_form.html",
        {
            "form": form,
            "patient": patient,
            "limb": assessment.limb,
            "assessment": assessment,
            "snapshot": assessment.snapshots.first(),
            "title": f"Edit {assessment.limb.side} limb assessment of {assessment.visit_date}",
        },
    )


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def assessment_retire(request: HttpRequest, patient_id: int, assessment_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    assessment = _assessment(patient, assessment_id)
    form = RetireForm(request.POST)
    if form.is_valid():
        services.do_retire_assessment(
            acting_user=user,
            assessment=assessment,
            reason=form.cleaned_data["reason"],
            ip_address=audit.client_ip(request),
        )
        return redirect("assessments:detail", patient_id=patient.pk, assessment_id=assessment.pk)
    assessment.refresh_from_db()
    return render(
        request,
        "assessments/assessment_detail.html",
        _detail_context(request, patient, assessment, retire_form=form),
        status=400,
    )


# --- findings and wounds (sub-forms of the assessment page) ------------------------------


@login_required
@permission_required(ADD, raise_exception=True)
@require_POST
def finding_add(
    request: HttpRequest, patient_id: int, assessment_id: int, kind: str
) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    assessment = _assessment(patient, assessment_id)
    form: ArterialFindingForm | VenousFindingForm
    if kind == "arterial":
        form = ArterialFindingForm(request.POST)
        service: Any = services.do_add_arterial_finding
    elif kind == "venous":
        form = VenousFindingForm(request.POST)
        service = services.do_add_venous_finding
    else:
        raise Http404("No such finding kind")
    if form.is_valid():
        try:
            service(
                acting_user=user,
                assessment=assessment,
                ip_address=audit.client_ip(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            return redirect(
                "assessments:detail", patient_id=patient.pk, assessment_id=assessment.pk
            )
    return render(
        request,
        "assessments/assessment_detail.html",
        _detail_context(request, patient, assessment, **{f"{kind}_form": form}),
        status=400,
    )


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def finding_retire(
    request: HttpRequest, patient_id: int, assessment_id: int, kind: str, finding_id: int
) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    assessment = _assessment(patient, assessment_id)
    finding: ArterialFinding | VenousFinding
    if kind == "arterial":
        finding = get_object_or_404(ArterialFinding, pk=finding_id, assessment=assessment)
    elif kind == "venous":
        finding = get_object_or_404(VenousFinding, pk=finding_id, assessment=assessment)
    else:
        raise Http404("No such finding kind")
    try:
        services.do_retire_finding(
            acting_user=user, finding=finding, ip_address=audit.client_ip(request)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("assessments:detail", patient_id=patient.pk, assessment_id=assessment.pk)


@login_required
@permission_required(ADD, raise_exception=True)
@require_POST
def wound_record(request: HttpRequest, patient_id: int, assessment_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    assessment = _assessment(patient, assessment_id)
    # Refuse an oversized body before Django spools it to disk: photos are checked one by
    # one later, but nothing bigger than the allowed photos (plus form fields) is read.
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > MAX_UPLOAD_BYTES:
        return HttpResponse(
            f"Upload too large: at most {MAX_PHOTOS_PER_UPLOAD} photos of "
            f"{photo_store.MAX_PHOTO_BYTES // (1024 * 1024)} MB each.",
            status=413,
            content_type="text/plain",
        )
    wounds = Wound.objects.filter(limb=assessment.limb, entered_in_error=False, healed_on=None)
    form = WoundRecordForm(request.POST, request.FILES, wounds=wounds)
    if form.is_valid():
        data = dict(form.cleaned_data)
        uploads = data.pop("photos") or []
        existing = data.pop("wound")
        new = {k: data.pop(k) for k in ("label", "location", "wound_type")}
        try:
            checked = [photo_store.check_photo(u) for u in uploads]
            services.do_record_wound(
                acting_user=user,
                assessment=assessment,
                wound=existing,
                new_wound=None if existing else new,
                photos=checked,
                ip_address=audit.client_ip(request),
                **data,
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            return redirect(
                "assessments:detail", patient_id=patient.pk, assessment_id=assessment.pk
            )
    return render(
        request,
        "assessments/assessment_detail.html",
        _detail_context(request, patient, assessment, wound_form=form),
        status=400,
    )


def _retire_and_return(
    request: HttpRequest,
    patient: Patient,
    assessment_id: int,
    *,
    missing_reason: str,
    retire: Callable[[str], object],
) -> HttpResponse:
    """Mark something entered in error with the posted reason (a service refusal or a
    missing reason becomes a message), then go back to its assessment."""
    form = RetireForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(missing_reason)
        retire(form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("assessments:detail", patient_id=patient.pk, assessment_id=assessment_id)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def observation_retire(request: HttpRequest, patient_id: int, observation_id: int) -> HttpResponse:
    """Mark a wound measurement (and its photos) entered in error."""
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    observation = get_object_or_404(
        WoundObservation.objects.select_related("assessment"),
        pk=observation_id,
        wound__patient=patient,
    )
    return _retire_and_return(
        request,
        patient,
        observation.assessment_id,
        missing_reason="Say why the measurement is wrong.",
        retire=lambda reason: services.do_retire_observation(
            acting_user=user,
            observation=observation,
            reason=reason,
            ip_address=audit.client_ip(request),
        ),
    )


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def photo_retire(request: HttpRequest, patient_id: int, photo_id: int) -> HttpResponse:
    """Mark a photo entered in error; it is kept but no longer shown or served."""
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    item = get_object_or_404(
        WoundPhoto.objects.select_related("observation"),
        pk=photo_id,
        observation__wound__patient=patient,
    )
    return _retire_and_return(
        request,
        patient,
        item.observation.assessment_id,
        missing_reason="Say why the photo is wrong.",
        retire=lambda reason: services.do_retire_photo(
            acting_user=user, photo=item, reason=reason, ip_address=audit.client_ip(request)
        ),
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def wound_detail(request: HttpRequest, patient_id: int, wound_id: int) -> HttpResponse:
    patient = access_patient(signed_in_user(request), patient_id)
    wound = get_object_or_404(Wound.objects.select_related("limb"), pk=wound_id, patient=patient)
    found = [
        w
        for r in queries.limb_rows(
            Patient.objects.filter(pk=patient.pk), today=timezone.localdate()
        )
        for w in r.wounds
        if w.wound.pk == wound.pk
    ]
    if not found:
        raise Http404("Wound entered in error")
    row = found[0]
    observations = list(
        WoundObservation.objects.filter(wound=wound)
        .select_related("assessment")
        .prefetch_related("photos")
        .order_by("assessment__visit_date", "id")
    )
    # matplotlib takes a second to import: only the wound page pays for it.
    from limbguard.assessments import charts

    svg = charts.wound_area_svg(row.trajectory, title="Wound area", ulcer_type=wound.wound_type)
    _view_audit(request, patient, wound, f"opened wound {wound.label}")
    return render(
        request,
        "assessments/wound_detail.html",
        {
            "patient": patient,
            "wound": wound,
            "row": row,
            "observations": observations,
            # matplotlib's own SVG of numbers and fixed labels; no user text inside.
            "chart": mark_safe(svg),  # noqa: S308
            "healed_form": HealedForm(initial={"healed_on": timezone.localdate()}),
        },
    )


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def wound_healed(request: HttpRequest, patient_id: int, wound_id: int) -> HttpResponse:
    user = signed_in_user(request)
    patient = access_patient(user, patient_id)
    wound = get_object_or_404(Wound, pk=wound_id, patient=patient)
    form = HealedForm(request.POST)
    if form.is_valid():
        try:
            services.do_mark_wound_healed(
                acting_user=user,
                wound=wound,
                healed_on=form.cleaned_data["healed_on"],
                ip_address=audit.client_ip(request),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, "Give the date the wound healed.")
    return redirect("assessments:wound_detail", patient_id=patient.pk, wound_id=wound.pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def photo(request: HttpRequest, patient_id: int, photo_id: int, variant: str) -> FileResponse:
    """One wound photo (or its thumbnail), to authorised users only, audited."""
    patient = access_patient(signed_in_user(request), patient_id)
    item = get_object_or_404(
        WoundPhoto, pk=photo_id, observation__wound__patient=patient, entered_in_error=False
    )
    if variant not in ("full", "thumb"):
        raise Http404("No such variant")
    relative = item.path if variant == "full" else item.thumbnail_path
    try:
        handle = photo_store.resolve(relative).open("rb")
    except (OSError, ValueError):
        raise Http404("Photo file missing") from None
    _view_audit(request, patient, item, f"viewed wound photo {item.pk} ({variant})")
    response = FileResponse(
        handle, content_type=item.content_type if variant == "full" else "image/jpeg"
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = "inline"
    return response
