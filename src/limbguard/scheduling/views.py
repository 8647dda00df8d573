"""Calendar, free-slot search, booking, appointment pages, the waitlist; and the two
public pages reached by private link (an appointment, a waitlist offer).

Thin: parse → fetch with permission (a center the user works at) → service → render.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.clinics.models import Center, Provider
from limbguard.registry.access import access_patient, visible_patients
from limbguard.registry.models import Patient
from limbguard.scheduling import availability, calendar, services
from limbguard.scheduling.forms import (
    BookForm,
    CancelForm,
    RescheduleForm,
    SlotSearchForm,
    WaitlistForm,
)
from limbguard.scheduling.ics import appointment_ics
from limbguard.scheduling.links import LinkExpired, LinkInvalid, read_link_token
from limbguard.scheduling.models import (
    Appointment,
    AppointmentStatus,
    OfferStatus,
    Resource,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from limbguard.scheduling.timeutil import NonexistentLocalTime, localize, week_start
from limbguard.views import apply_service_error, signed_in_user

SLOT_LIMIT = 400  # a fortnight of 15-minute starts for two or three providers


def visible_centers(user: User) -> QuerySet[Center]:
    """The centers whose schedule the user may see: their own; every one for leads."""
    if user.sees_all_centers:
        return Center.objects.filter(is_active=True)
    return user.centers.filter(is_active=True)


def access_appointment(user: User, appointment_id: int) -> Appointment:
    """The appointment, or 404 when unknown or at a center the user does not work at."""
    try:
        return (
            Appointment.objects.select_related("center", "provider", "visit_type", "patient")
            .filter(center__in=visible_centers(user))
            .get(pk=appointment_id)
        )
    except Appointment.DoesNotExist:
        raise Http404("No such appointment") from None


def _pick_center(user: User, slug: str | None) -> Center:
    centers = visible_centers(user)
    center = centers.filter(slug=slug).first() if slug else centers.first()
    if center is None:
        raise Http404("No center")
    return center


def _parse_date(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


@login_required
@permission_required("scheduling.view_appointment", raise_exception=True)
def calendar_view(request: HttpRequest) -> HttpResponse:
    """Day or week at one center, optionally one provider's or one resource's."""
    user = signed_in_user(request)
    center = _pick_center(user, request.GET.get("center"))
    mode = "day" if request.GET.get("view") == "day" else "week"
    today = timezone.now().astimezone(center.zone).date()
    day = _parse_date(request.GET.get("date"), today)
    first = day if mode == "day" else week_start(day)
    span = 1 if mode == "day" else 7
    provider = Provider.objects.filter(pk=request.GET.get("provider") or 0, centers=center).first()
    resource = Resource.objects.filter(pk=request.GET.get("resource") or 0, center=center).first()
    cal = calendar.build(center, first, span, provider=provider, resource=resource)
    shown = sum(len(d.entries) for d in cal.days)
    audit.record(
        acting_user=user,
        action=AuditAction.SEARCH,
        summary=f"calendar {center.slug} {mode} of {first}: {shown} appointments shown",
        ip_address=audit.client_ip(request),
    )
    step = dt.timedelta(days=span)
    context = {
        "cal": cal,
        "center": center,
        "centers": visible_centers(user),
        "mode": mode,
        "first": first,
        "last": first + dt.timedelta(days=span - 1),
        "previous": first - step,
        "next": first + step,
        "today": today,
        "provider": provider,
        "resource": resource,
        "providers": center.providers.filter(is_active=True),
        "resources": center.resources.filter(is_active=True),
        "zone": center.time_zone,
    }
    return render(request, "scheduling/calendar.html", context)


def _slot_rows(slots: list[availability.Slot], center: Center) -> list[dict[str, Any]]:
    zone = center.zone
    rows = []
    for slot in slots:
        local = slot.starts_at.astimezone(zone)
        rows.append(
            {
                "slot": slot,
                "local": local,
                "local_end": slot.ends_at.astimezone(zone),
                "date": local.date().isoformat(),
                "time": local.strftime("%H:%M"),
                "fold": local.fold,
            }
        )
    return rows


def slot_context(
    user: User, params: Any, *, patient: Patient | None, action: str
) -> dict[str, Any]:
    """Free-slot search shared by the schedule and the triage page."""
    centers = visible_centers(user)
    form = SlotSearchForm(params or None, centers=centers)
    rows: list[dict[str, Any]] = []
    if form.is_valid():
        data = form.cleaned_data
        slots = availability.free_slots(
            center=data["center"],
            visit_type=data["visit_type"],
            provider=data["provider"],
            first=data["first"],
            days=data["days"],
            now=timezone.now(),
            limit=SLOT_LIMIT,
        )
        rows = _slot_rows(slots, data["center"])
    return {"search": form, "rows": rows, "patient": patient, "action": action}


@login_required
@permission_required("scheduling.add_appointment", raise_exception=True)
def slot_search(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    patient = None
    mrn = request.GET.get("mrn", "").strip()[:32]
    if request.GET.get("patient"):
        try:
            patient = access_patient(user, int(request.GET["patient"]))
        except ValueError:
            raise Http404("No such patient") from None
    elif mrn:
        patient = visible_patients(user).filter(mrn__iexact=mrn).first()
    context = slot_context(user, request.GET, patient=patient, action="scheduling:book")
    context.update(mrn=mrn, mrn_unknown=bool(mrn) and patient is None)
    if getattr(request, "htmx", False):
        return render(request, "scheduling/_slots.html", context)
    return render(request, "scheduling/slots.html", context)


@login_required
@permission_required("scheduling.add_appointment", raise_exception=True)
@require_POST
def book(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    try:
        patient = access_patient(user, int(request.POST.get("patient", "0")))
    except ValueError:
        raise Http404("No such patient") from None
    form = BookForm(request.POST, centers=visible_centers(user))
    if form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.do_book_appointment(
                acting_user=user,
                patient=patient,
                center=data["center"],
                provider=data["provider"],
                visit_type=data["visit_type"],
                starts_at=form.starts_at(),
                contact_email=data["contact_email"],
                note=data["note"],
                ip_address=audit.client_ip(request),
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, "Booked.")
            return redirect("scheduling:appointment", appointment_id=appointment.pk)
    return render(
        request, "scheduling/book_failed.html", {"form": form, "patient": patient}, status=400
    )


@login_required
@permission_required("scheduling.view_appointment", raise_exception=True)
def appointment_detail(request: HttpRequest, appointment_id: int) -> HttpResponse:
    user = signed_in_user(request)
    appointment = access_appointment(user, appointment_id)
    services.audit_view(acting_user=user, obj=appointment, ip_address=audit.client_ip(request))
    zone = appointment.center.zone
    context = {
        "a": appointment,
        "local_start": appointment.starts_at.astimezone(zone),
        "local_end": appointment.ends_at.astimezone(zone),
        "resources": [b.resource for b in appointment.resource_bookings.filter(active=True)],
        "cancel_form": CancelForm(),
        "reschedule_form": RescheduleForm(),
        "can_change": user.has_perm("scheduling.change_appointment"),
        "started": appointment.starts_at <= timezone.now(),
    }
    return render(request, "scheduling/appointment.html", context)


@login_required
@permission_required("scheduling.change_appointment", raise_exception=True)
@require_POST
def appointment_cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    user = signed_in_user(request)
    appointment = access_appointment(user, appointment_id)
    form = CancelForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Say why the visit is cancelled.")
        services.do_cancel_appointment(
            acting_user=user,
            appointment=appointment,
            reason=form.cleaned_data["reason"],
            ip_address=audit.client_ip(request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Cancelled; the time was offered to the waitlist.")
    return redirect("scheduling:appointment", appointment_id=appointment.pk)


@login_required
@permission_required("scheduling.change_appointment", raise_exception=True)
@require_POST
def appointment_reschedule(request: HttpRequest, appointment_id: int) -> HttpResponse:
    user = signed_in_user(request)
    appointment = access_appointment(user, appointment_id)
    form = RescheduleForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            starts_at = localize(data["date"], data["time"], appointment.center.zone)
            new = services.do_reschedule_appointment(
                acting_user=user,
                appointment=appointment,
                starts_at=starts_at,
                provider=data["provider"],
                ip_address=audit.client_ip(request),
            )
        except NonexistentLocalTime as error:
            messages.error(request, str(error))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Moved.")
            return redirect("scheduling:appointment", appointment_id=new.pk)
    else:
        messages.error(request, "Give the new date and time.")
    return redirect("scheduling:appointment", appointment_id=appointment.pk)


@login_required
@permission_required("scheduling.change_appointment", raise_exception=True)
@require_POST
def appointment_attendance(request: HttpRequest, appointment_id: int) -> HttpResponse:
    user = signed_in_user(request)
    appointment = access_appointment(user, appointment_id)
    try:
        services.do_set_attendance(
            acting_user=user,
            appointment=appointment,
            status=request.POST.get("status", ""),
            ip_address=audit.client_ip(request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("scheduling:appointment", appointment_id=appointment.pk)


def _ics_response(appointment: Appointment) -> HttpResponse:
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar")
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
    return response


@login_required
@permission_required("scheduling.view_appointment", raise_exception=True)
def appointment_invite(request: HttpRequest, appointment_id: int) -> HttpResponse:
    user = signed_in_user(request)
    appointment = access_appointment(user, appointment_id)
    services.audit_view(
        acting_user=user,
        obj=appointment,
        ip_address=audit.client_ip(request),
        summary="invitation downloaded",
    )
    return _ics_response(appointment)


@login_required
@permission_required("scheduling.view_waitlistentry", raise_exception=True)
@require_http_methods(["GET", "POST"])
def waitlist(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    centers = visible_centers(user)
    patient = None
    if request.GET.get("patient") or request.POST.get("patient"):
        patient = access_patient(user, int(request.GET.get("patient") or request.POST["patient"]))
    form = WaitlistForm(request.POST or None, centers=centers)
    if request.method == "POST":
        if not user.has_perm("scheduling.add_waitlistentry"):
            raise Http404
        if patient is None:
            form.add_error(None, "Choose the patient first (from their chart).")
        elif form.is_valid():
            try:
                services.do_add_to_waitlist(
                    acting_user=user,
                    patient=patient,
                    ip_address=audit.client_ip(request),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                apply_service_error(form, error)
            else:
                messages.success(request, "Added to the waitlist.")
                return redirect("scheduling:waitlist")
    entries = (
        WaitlistEntry.objects.filter(
            center__in=centers, status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED]
        )
        .select_related("patient", "center", "visit_type", "provider")
        .order_by("created_at")
    )
    audit.record(
        acting_user=user,
        action=AuditAction.SEARCH,
        summary=f"waitlist: {len(entries)} shown",
        ip_address=audit.client_ip(request),
    )
    return render(
        request, "scheduling/waitlist.html", {"entries": entries, "form": form, "patient": patient}
    )


# --- public pages, reached by private link ----------------------------------------


def _link_error(request: HttpRequest, expired: bool) -> HttpResponse:
    return render(
        request,
        "scheduling/public_link_error.html",
        {"expired": expired},
        status=410 if expired else 404,
    )


def _public_appointment(token: str) -> Appointment:
    target = read_link_token(token, "appointment")
    appointment = (
        Appointment.objects.select_related("center", "provider", "visit_type")
        .filter(pk=target.pk, link_key=target.key)
        .first()
    )
    if appointment is None:
        raise LinkInvalid
    return appointment


def public_appointment(request: HttpRequest, token: str) -> HttpResponse:
    try:
        appointment = _public_appointment(token)
    except (LinkExpired, LinkInvalid) as error:
        return _link_error(request, isinstance(error, LinkExpired))
    audit.record(
        acting_user=None,
        action=AuditAction.VIEW,
        patient_id=appointment.patient_id,
        obj=appointment,
        summary="appointment opened through its private link",
        ip_address=audit.client_ip(request),
    )
    zone = appointment.center.zone
    context = {
        "a": appointment,
        "token": token,
        "local_start": appointment.starts_at.astimezone(zone),
        "local_end": appointment.ends_at.astimezone(zone),
        "cancelled": appointment.status == AppointmentStatus.CANCELLED,
    }
    return render(request, "scheduling/public_appointment.html", context)


def public_appointment_ics(request: HttpRequest, token: str) -> HttpResponse:
    try:
        appointment = _public_appointment(token)
    except (LinkExpired, LinkInvalid) as error:
        return _link_error(request, isinstance(error, LinkExpired))
    return _ics_response(appointment)


@require_http_methods(["GET", "POST"])
def public_offer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        target = read_link_token(token, "offer")
    except (LinkExpired, LinkInvalid) as bad_link:
        return _link_error(request, isinstance(bad_link, LinkExpired))
    offer = get_object_or_404(
        WaitlistOffer.objects.select_related("entry__center", "entry__visit_type", "provider"),
        pk=target.pk,
        link_key=target.key,
    )
    failure = ""
    if request.method == "POST" and offer.status == OfferStatus.OPEN:
        try:
            appointment = services.do_accept_offer(offer=offer, ip_address=audit.client_ip(request))
        except ValidationError as problem:
            failure = " ".join(problem.messages)
        else:
            from limbguard.scheduling.notify import appointment_link

            return redirect(appointment_link(appointment.pk, appointment.link_key))
        offer.refresh_from_db()
    zone = offer.entry.center.zone
    context = {
        "offer": offer,
        "open": offer.status == OfferStatus.OPEN and offer.expires_at > timezone.now(),
        "local_start": offer.starts_at.astimezone(zone),
        "error": failure,
    }
    return render(request, "scheduling/public_offer.html", context)
