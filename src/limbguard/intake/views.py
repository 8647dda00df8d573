"""Staff pages: the inbox (unread counts, assignment), the triage queue (by urgency,
with the rule shown), a request's page (thread, triage, convert, book, status), and
attachments. Thin: parse → fetch with permission → service → render.

Who sees a request: staff with `intake.view_intakerequest` at its center, every
center's staff while it has none, and program leads everywhere. Others get 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.clinics.models import Center
from limbguard.intake import services
from limbguard.intake.forms import BookRequestForm, ReplyForm, StatusForm, TriageForm
from limbguard.intake.models import (
    OPEN_STATUSES,
    AuthorKind,
    IntakeRequest,
    RequestKind,
    RequestStatus,
)
from limbguard.intake.rules import RED_FLAG_LABELS
from limbguard.registry.access import visible_patients
from limbguard.scheduling.forms import SlotSearchForm
from limbguard.scheduling.timeutil import NonexistentLocalTime, localize
from limbguard.scheduling.views import slot_context
from limbguard.views import signed_in_user

PAGE_SIZE = 30


def _centers(user: User) -> QuerySet[Center]:
    if user.sees_all_centers:
        return Center.objects.filter(is_active=True)
    return user.centers.filter(is_active=True)


def visible_requests(user: User) -> QuerySet[IntakeRequest]:
    if not user.is_authenticated or not user.has_perm("intake.view_intakerequest"):
        return IntakeRequest.objects.none()
    if user.sees_all_centers:
        return IntakeRequest.objects.all()
    return IntakeRequest.objects.filter(Q(center__in=user.centers.all()) | Q(center__isnull=True))


def access_request(user: User, request_id: int) -> IntakeRequest:
    try:
        return (
            visible_requests(user)
            .select_related("center", "provider", "assignee", "patient", "appointment")
            .get(pk=request_id)
        )
    except IntakeRequest.DoesNotExist:
        raise Http404("No such request") from None


def _with_unread(qs: QuerySet[IntakeRequest]) -> QuerySet[IntakeRequest]:
    return qs.annotate(
        unread=Count(
            "messages",
            filter=Q(messages__author_kind=AuthorKind.PUBLIC, messages__read_at__isnull=True),
        )
    ).select_related("center", "assignee")


def unread_total(user: User) -> int:
    return (
        visible_requests(user)
        .filter(messages__author_kind=AuthorKind.PUBLIC, messages__read_at__isnull=True)
        .count()
    )


@login_required
@permission_required("intake.view_intakerequest", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    """Every request, newest activity first; filters by kind, status and owner."""
    user = signed_in_user(request)
    qs = _with_unread(visible_requests(user))
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "open")
    owner = request.GET.get("owner", "")
    if kind in RequestKind.values:
        qs = qs.filter(kind=kind)
    if status == "open":
        qs = qs.exclude(status__in=[RequestStatus.REPORT_SENT, RequestStatus.CLOSED])
    elif status in RequestStatus.values:
        qs = qs.filter(status=status)
    if owner == "me":
        qs = qs.filter(assignee=user)
    elif owner == "none":
        qs = qs.filter(assignee__isnull=True)
    if request.GET.get("unread") == "1":
        qs = qs.filter(**{"unread__gt": 0})  # the annotation above
    page = Paginator(qs.order_by("-updated_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record(
        acting_user=user,
        action=AuditAction.SEARCH,
        summary=f"intake inbox kind={kind!r} status={status!r} owner={owner!r}: "
        f"{len(page.object_list)} shown",
        ip_address=audit.client_ip(request),
    )
    context = {
        "page": page,
        "kind": kind,
        "status": status,
        "owner": owner,
        "kinds": RequestKind.choices,
        "statuses": RequestStatus.choices,
        "unread_total": unread_total(user),
    }
    if getattr(request, "htmx", False):
        return render(request, "intake/_inbox_rows.html", context)
    return render(request, "intake/inbox.html", context)


@login_required
@permission_required("intake.view_intakerequest", raise_exception=True)
def triage_queue(request: HttpRequest) -> HttpResponse:
    """Open visit requests and referrals, most urgent first, then oldest first."""
    user = signed_in_user(request)
    qs = (
        _with_unread(visible_requests(user))
        .filter(status__in=OPEN_STATUSES)
        .exclude(kind=RequestKind.CONTACT)
        .order_by("urgency_rank", "created_at", "id")
    )
    rows = list(qs[:200])
    audit.record(
        acting_user=user,
        action=AuditAction.SEARCH,
        summary=f"triage queue: {len(rows)} shown",
        ip_address=audit.client_ip(request),
    )
    return render(request, "intake/triage.html", {"rows": rows})


@login_required
@permission_required("intake.view_intakerequest", raise_exception=True)
def unread_badge(request: HttpRequest) -> HttpResponse:
    """The unread count for the navigation bar, polled by htmx."""
    count = unread_total(signed_in_user(request))
    return render(request, "intake/_unread_badge.html", {"count": count})


def _detail_context(user: User, req: IntakeRequest, request: HttpRequest) -> dict[str, Any]:
    centers = _centers(user)
    params = request.GET.copy()
    if "center" not in params and req.center_id:
        params["center"] = str(req.center_id)
    slots: dict[str, Any] = {}
    if params.get("visit_type"):
        slots = slot_context(user, params, patient=None, action="intake:book")
        search = slots["search"]
    else:
        search = SlotSearchForm(
            initial={"center": req.center_id, "first": timezone.localdate(), "days": 7},
            centers=centers,
        )
    match = services.matching_patient(req) if req.patient is None else None
    return {
        "req": req,
        "thread": list(req.messages.select_related("author")),
        "changes": list(req.status_changes.select_related("by")),
        "attachments": list(req.attachments.all()),
        "flags": [RED_FLAG_LABELS.get(f, f) for f in req.red_flags],
        "reply_form": ReplyForm(),
        "triage_form": TriageForm(
            initial={"center": req.center, "provider": req.provider, "assignee": req.assignee},
            centers=centers,
        ),
        "status_form": StatusForm(),
        # "Scheduled" comes from booking below, not from this menu.
        "moves": [
            (m, RequestStatus(m).label)
            for m in services.allowed_moves(req)
            if m != RequestStatus.SCHEDULED
        ],
        "match": match,
        "match_visible": match is not None and visible_patients(user).filter(pk=match.pk).exists(),
        "can_triage": user.has_perm("intake.triage_intakerequest"),
        "can_book": req.status in OPEN_STATUSES and req.kind != RequestKind.CONTACT,
        "slot_params": params,
        **{f"slots_{k}": v for k, v in slots.items()},
        "slot_search": search,
    }


@login_required
@permission_required("intake.view_intakerequest", raise_exception=True)
def detail(request: HttpRequest, request_id: int) -> HttpResponse:
    user = signed_in_user(request)
    req = access_request(user, request_id)
    services.audit_view(acting_user=user, request=req, ip_address=audit.client_ip(request))
    services.mark_read_by_staff(req)
    return render(request, "intake/detail.html", _detail_context(user, req, request))


@login_required
@permission_required("intake.view_intakerequest", raise_exception=True)
def thread(request: HttpRequest, request_id: int) -> HttpResponse:
    """The thread alone, polled by htmx on the request page."""
    user = signed_in_user(request)
    req = access_request(user, request_id)
    services.mark_read_by_staff(req)
    return render(
        request, "intake/_staff_thread.html", {"req": req, "thread": list(req.messages.all())}
    )


def _fail(request: HttpRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@login_required
@permission_required("intake.change_intakerequest", raise_exception=True)
@require_POST
def reply(request: HttpRequest, request_id: int) -> HttpResponse:
    user = signed_in_user(request)
    req = access_request(user, request_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.do_staff_reply(
                acting_user=user,
                request=req,
                body=form.cleaned_data["body"],
                ip_address=audit.client_ip(request),
            )
        except ValidationError as error:
            _fail(request, error)
        else:
            messages.success(request, "Reply sent; the requester was e-mailed a link.")
    else:
        messages.error(request, "Write a message first.")
    return redirect("intake:detail", request_id=req.pk)


@login_required
@permission_required("intake.triage_intakerequest", raise_exception=True)
@require_POST
def triage(request: HttpRequest, request_id: int) -> HttpResponse:
    user = signed_in_user(request)
    req = access_request(user, request_id)
    form = TriageForm(request.POST, centers=_centers(user))
    if form.is_valid():
        try:
            services.do_triage(
                acting_user=user,
                request=req,
                ip_address=audit.client_ip(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            _fail(request, error)
        else:
            messages.success(request, "Assignment saved.")
    else:
        messages.error(request, "Choose a center you work at.")
    return redirect("intake:detail", request_id=req.pk)


@login_required
@permission_required("intake.triage_intakerequest", raise_exception=True)
@require_POST
def set_status(request: HttpRequest, request_id: int) -> HttpResponse:
    user = signed_in_user(request)
    req = access_request(user, request_id)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.do_set_status(
                acting_user=user,
                request=req,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                ip_address=audit.client_ip(request),
            )
        except ValidationError as error:
            _fail(request, error)
        else:
            messages.success(request, "Status changed; the requester was e-mailed a link.")
    return redirect("intake:detail", request_id=req.pk)


@login_required
@permission_required("intake.triage_intakerequest", raise_exception=True)
@permission_required("registry.add_patient", raise_exception=True)
@require_POST
def convert(request: HttpRequest, request_id: int) -> HttpResponse:
    user = signed_in_user(request)
    req = access_request(user, request_id)
    try:
        patient, created = services.do_convert_to_patient(
            acting_user=user, request=req, ip_address=audit.client_ip(request)
        )
    except ValidationError as error:
        _fail(request, error)
    else:
        messages.success(
            request,
            f"Registered as new patient {patient.mrn}."
            if created
            else "Linked to the existing patient record (same name and birth date).",
        )
    return redirect("intake:detail", request_id=req.pk)


@login_required
@permission_required("intake.triage_intakerequest", raise_exception=True)
@permission_required("scheduling.add_appointment", raise_exception=True)
@require_POST
def book(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    try:
        req = access_request(user, int(request.POST.get("request", "0")))
    except ValueError:
        raise Http404("No such request") from None
    form = BookRequestForm(request.POST)
    if not form.is_valid() or req.center is None:
        messages.error(request, "Choose a slot from the list (and a center first).")
        return redirect("intake:detail", request_id=req.pk)
    data = form.cleaned_data
    try:
        starts_at = localize(data["date"], data["time"], req.center.zone, fold=data["fold"] or 0)
        appointment = services.do_schedule_request(
            acting_user=user,
            request=req,
            provider=data["provider"],
            visit_type=data["visit_type"],
            starts_at=starts_at,
            ip_address=audit.client_ip(request),
        )
    except NonexistentLocalTime as error:
        messages.error(request, str(error))
    except ValidationError as error:
        _fail(request, error)
    else:
        messages.success(request, "Booked; the requester was e-mailed a link to the details.")
        return redirect("scheduling:appointment", appointment_id=appointment.pk)
    return redirect("intake:detail", request_id=req.pk)


@login_required
@permission_required("intake.view_intakerequest", raise_exception=True)
def attachment(request: HttpRequest, request_id: int, attachment_id: int) -> FileResponse:
    """Served only here, after the permission check, as a download with its checked type."""
    user = signed_in_user(request)
    req = access_request(user, request_id)
    item = get_object_or_404(req.attachments, pk=attachment_id)
    audit.record(
        acting_user=user,
        action=AuditAction.VIEW,
        patient_id=req.patient_id,
        obj=item,
        summary=f"attachment {item.pk} of request {req.pk} downloaded",
        ip_address=audit.client_ip(request),
    )
    response = FileResponse(item.file.open("rb"), as_attachment=True, filename=item.original_name)
    response["Content-Type"] = item.content_type
    return response
