"""The public site, no sign-in: centers with hours and open/closed status, the three
forms, and a requester's private conversation page.

A form is checked in this order, and nothing is stored unless all pass: the fields and
attachments, the honeypot, the address's rate limit, then the arithmetic challenge
(spent on the first try, right or wrong). A refused form comes back with its values, a
clear message and a new question; the refused attempt still counts against the address.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.clinics.models import Center
from limbguard.intake import antiabuse, services
from limbguard.intake.forms import PUBLIC_FORMS, PublicForm, ReplyForm
from limbguard.intake.models import IntakeRequest, RequestKind
from limbguard.intake.rules import RED_FLAG_LABELS
from limbguard.intake.uploads import MAX_FILES, BadAttachment, check_uploads
from limbguard.scheduling.links import LinkExpired, LinkInvalid, make_link_token, read_link_token
from limbguard.scheduling.models import AppointmentStatus

FORM_PAGES = {
    "visit": ("Schedule your visit", RequestKind.VISIT),
    "referral": ("Refer a patient", RequestKind.REFERRAL),
    "contact": ("Contact us", RequestKind.CONTACT),
}


def _staff_landing(user: User) -> str:
    for perm, name in (
        ("registry.view_patient", "registry:patient_list"),
        ("intake.view_intakerequest", "intake:inbox"),
        ("scheduling.view_appointment", "scheduling:calendar"),
    ):
        if user.has_perm(perm):
            return reverse(name)
    return reverse("clinics:center_list")


def center_rows() -> list[dict[str, Any]]:
    now = timezone.now()
    centers = Center.objects.filter(is_active=True).prefetch_related("hours")
    return [
        {"center": c, "open_now": c.is_open_at(now), "local_now": now.astimezone(c.zone)}
        for c in centers
    ]


def home(request: HttpRequest) -> HttpResponse:
    """Signed-in staff go to their work; everyone else gets the public home page."""
    user = request.user
    if user.is_authenticated:
        assert isinstance(user, User)
        return redirect(_staff_landing(user))
    return render(request, "intake/public/home.html", {"rows": center_rows()})


def _challenge_context(form_name: str) -> dict[str, str]:
    challenge = antiabuse.new_challenge(form_name)
    return {"question": challenge.question, "challenge_token": challenge.token}


# A blank form's fields are the same for every visitor until a center changes, and
# rendering them is most of a GET's work (Django renders each widget and label from a
# template): each worker keeps the last rendering per page, with the centers it shows.
_blank_fields: dict[str, tuple[tuple[tuple[int, str], ...], SafeString]] = {}


def _blank_fields_html(page: str, form: PublicForm) -> SafeString:
    center = form.fields["center"]
    assert isinstance(center, forms.ModelChoiceField)
    assert center.queryset is not None
    centers = tuple((c.pk, center.label_from_instance(c)) for c in center.queryset)
    cached = _blank_fields.get(page)
    if cached is not None and cached[0] == centers:
        return cached[1]
    # The template escapes what it renders: its output is safe HTML.
    html = SafeString(render_to_string("intake/public/_fields.html", {"form": form}))
    _blank_fields[page] = (centers, html)
    return html


def _render_form(
    request: HttpRequest, page: str, form: PublicForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    title, kind = FORM_PAGES[page]
    context = {
        "title": title,
        "page": page,
        "form": form,
        "error": error,
        "max_files": MAX_FILES,
        "with_files": kind == RequestKind.REFERRAL,
        "blank_fields": "" if form.is_bound else _blank_fields_html(page, form),
        **_challenge_context(form.form_name),
    }
    return render(request, "intake/public/form.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def public_form(request: HttpRequest, page: str) -> HttpResponse:
    form_class = PUBLIC_FORMS[page]
    if request.method == "GET":
        return _render_form(request, page, form_class())
    form = form_class(request.POST)
    ip = audit.client_ip(request)
    scope = "public_form"
    if not form.is_valid():
        antiabuse.record_refusal(scope=scope, address=ip)
        return _render_form(
            request, page, form, error="Please correct the fields marked below.", status=400
        )
    files = request.FILES.getlist("attachments") if page == "referral" else []
    try:
        checked = check_uploads(files)
        antiabuse.check_honeypot(form.cleaned_data.get(antiabuse.HONEYPOT_FIELD, ""))
        pending = services.new_request(
            kind=FORM_PAGES[page][1],
            fields=form.request_fields(),
            red_flags=form.flags(),
            ip_address=ip,
        )
    except (BadAttachment, antiabuse.Refused) as bad:
        antiabuse.record_refusal(scope=scope, address=ip)
        return _render_form(request, page, form, error=str(bad), status=400)
    except ValidationError as error:
        antiabuse.record_refusal(scope=scope, address=ip)
        return _render_form(request, page, form, error=" ".join(error.messages), status=400)
    answer = antiabuse.read_answer(
        form=form.form_name,
        token=form.cleaned_data["challenge"],
        answer=form.cleaned_data["answer"],
    )
    # Everything is read and checked by now: one short write transaction for an
    # accepted submission (the address's hit, the spent challenge, the request), as
    # SQLite lets one writer in at a time and makes the others sleep and retry. The
    # files go to storage first, and only with a right answer (a wrong one is always
    # refused in the transaction).
    attachments = services.store_attachments(checked) if answer.right else []
    try:
        with transaction.atomic():
            antiabuse.check_rate(scope=scope, address=ip)
            antiabuse.spend_challenge(answer)
            submitted = services.do_store_request(
                request=pending, attachments=attachments, ip_address=ip
            )
    except BaseException as failed:
        services.discard_attachments(attachments)
        if not isinstance(failed, antiabuse.Refused):
            raise
        limited = str(failed).startswith("Too many")
        if not limited:
            antiabuse.record_refusal(scope=scope, address=ip, nonce=failed.nonce)
        return _render_form(request, page, form, error=str(failed), status=429 if limited else 400)
    token = make_link_token("request", submitted.pk, submitted.link_key)
    return redirect(f"{reverse('public:conversation', args=[token])}?sent=1")


def _open(token: str) -> IntakeRequest:
    target = read_link_token(token, "request")
    found = (
        IntakeRequest.objects.select_related(
            "center", "appointment__center", "appointment__provider", "appointment__visit_type"
        )
        .filter(pk=target.pk, link_key=target.key)
        .first()
    )
    if found is None:
        raise LinkInvalid
    return found


def _link_error(request: HttpRequest, expired: bool) -> HttpResponse:
    return render(
        request,
        "scheduling/public_link_error.html",
        {"expired": expired},
        status=410 if expired else 404,
    )


def _conversation_context(req: IntakeRequest, token: str) -> dict[str, Any]:
    appointment = req.appointment
    context: dict[str, Any] = {
        "req": req,
        "token": token,
        "thread": list(req.messages.all()),
        "changes": list(req.status_changes.all()),
        "flags": [RED_FLAG_LABELS.get(f, f) for f in req.red_flags],
        "poll_seconds": 10,
    }
    if appointment is not None:
        zone = appointment.center.zone
        context.update(
            appointment=appointment,
            appointment_start=appointment.starts_at.astimezone(zone),
            appointment_end=appointment.ends_at.astimezone(zone),
            appointment_cancelled=appointment.status == AppointmentStatus.CANCELLED,
            appointment_token=make_link_token("appointment", appointment.pk, appointment.link_key),
        )
    return context


@never_cache
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, token: str) -> HttpResponse:
    """The requester's page: status, appointment, the thread, and a reply box."""
    try:
        req = _open(token)
    except (LinkExpired, LinkInvalid) as bad_link:
        return _link_error(request, isinstance(bad_link, LinkExpired))
    ip = audit.client_ip(request)
    form = ReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        try:
            antiabuse.check_rate(scope="public_reply", address=ip)
            if form.is_valid():
                services.do_public_reply(request=req, body=form.cleaned_data["body"], ip_address=ip)
                return redirect(reverse("public:conversation", args=[token]) + "#thread")
            status = 400
        except antiabuse.Refused as refused:
            form.add_error(None, str(refused))
            status = 429
        except ValidationError as error:
            form.add_error(None, " ".join(error.messages))
            status = 400
    audit.record(
        acting_user=None,
        action=AuditAction.VIEW,
        patient_id=req.patient_id,
        obj=req,
        summary=f"request {req.pk} opened through its private link",
        ip_address=ip,
    )
    services.mark_read_by_public(req)
    context = _conversation_context(req, token)
    context.update(form=form, sent=request.GET.get("sent") == "1")
    return render(request, "intake/public/conversation.html", context, status=status)


@never_cache
def conversation_thread(request: HttpRequest, token: str) -> HttpResponse:
    """The thread alone, polled by htmx every few seconds: replies appear without reload."""
    try:
        req = _open(token)
    except (LinkExpired, LinkInvalid):
        return HttpResponse(status=286)  # htmx: stop polling
    services.mark_read_by_public(req)
    return render(request, "intake/public/_thread.html", _conversation_context(req, token))
