"""The public site, no sign-in: centers with hours and open/closed status, the three
forms, and a requester's private conversation page.

A form is checked in this order, and nothing is stored unless all pass: the fields and
attachments, the honeypot, the address's rate limit, then the arithmetic challenge
(spent on the first try, right or wrong). A refused form comes back with its values, a
clear message and a new question; the refused attempt still counts against the address.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.clinics.models import Center
from limbguard.intake import antiabuse, services, sql
from limbguard.intake.forms import PUBLIC_FORMS, PublicForm, ReplyForm
from limbguard.intake.models import AuthorKind, IntakeRequest, Message, RequestKind
from limbguard.intake.uploads import MAX_FILES, BadAttachment, check_uploads
from limbguard.scheduling.links import LinkExpired, LinkInvalid, make_link_token, read_link_token
from limbguard.scheduling.models import Appointment, AppointmentStatus

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


Centers = tuple[tuple[int, str], ...]

# A blank form's fields are the same for every visitor until a center changes, and
# rendering them is most of a GET's work (Django renders each widget and label from a
# template): each worker keeps the last rendering per page, with the centers it shows.
_blank_fields: dict[str, tuple[Centers, SafeString]] = {}


def _blank_fields_html(page: str, form: PublicForm, centers: Centers) -> SafeString:
    cached = _blank_fields.get(page)
    if cached is not None and cached[0] == centers:
        return cached[1]
    # The template escapes what it renders: its output is safe HTML.
    html = SafeString(render_to_string("intake/public/_fields.html", {"form": form}))
    _blank_fields[page] = (centers, html)
    return html


def _form_context(
    page: str, form: PublicForm, *, error: str = "", centers: Centers | None = None
) -> dict[str, Any]:
    title, kind = FORM_PAGES[page]
    blank = ""
    if not form.is_bound:
        blank = _blank_fields_html(
            page, form, sql.active_center_choices() if centers is None else centers
        )
    return {
        "title": title,
        "page": page,
        "form": form,
        "error": error,
        "max_files": MAX_FILES,
        "with_files": kind == RequestKind.REFERRAL,
        "blank_fields": blank,
    }


def _render_form(
    request: HttpRequest, page: str, form: PublicForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {**_form_context(page, form, error=error), **_challenge_context(form.form_name)}
    return render(request, "intake/public/form.html", context, status=status)


# The whole blank page is the same for every anonymous visitor but for the CSRF token
# (twice), the question and its signed token; the rest of its rendering (the base
# templates, their URL and static tags) was most of what remained of a GET. Each worker
# renders it once per page, and again when the centers it offers change, with a
# placeholder for each of those values, and fills them in per request: the same bytes a
# full rendering gives (tests/intake/test_public.py compares them). Not for signed-in
# staff (their header differs), a visitor with a pending message, or DEBUG (templates
# reload).
_SLOT = f"limbguardslot{secrets.token_hex(8)}"
_SLOTS = re.compile(f"({_SLOT}[a-z]+)")
_CSRF_SLOT, _QUESTION_SLOT, _TOKEN_SLOT = (f"{_SLOT}csrf", f"{_SLOT}question", f"{_SLOT}token")


@dataclass(frozen=True)
class _BlankPage:
    centers: Centers
    parts: list[str]  # text, slot, text, slot, ..., text


_blank_pages: dict[str, _BlankPage] = {}


# The empty reply box of a private page is the same on every page (Django renders its
# label and widget from templates, a fifth of the page's rendering): once per worker.
_blank_reply: list[SafeString] = []


def _blank_reply_html() -> SafeString:
    if not _blank_reply:
        body = ReplyForm()["body"]
        # What the page's template renders: "{{ form.body.label_tag }} {{ form.body }}".
        _blank_reply.append(SafeString(f"{body.label_tag()} {body}"))
    return _blank_reply[0]


@receiver(setting_changed)
def _forget_rendered_pages(**kwargs: Any) -> None:
    """A changed setting (in tests: STATIC_URL, DEBUG, ...) may change what the
    templates render: render the kept fields and pages afresh."""
    _blank_fields.clear()
    _blank_pages.clear()
    _blank_reply.clear()


def _blank_page_parts(request: HttpRequest, page: str, form_class: type[PublicForm]) -> list[str]:
    centers = sql.active_center_choices()
    cached = _blank_pages.get(page)
    if cached is not None and cached.centers == centers:
        return cached.parts
    context = {
        **_form_context(page, form_class(), centers=centers),
        "question": _QUESTION_SLOT,
        "challenge_token": _TOKEN_SLOT,
        # Shadows the CSRF context processor's value (the view's context comes on top).
        "csrf_token": _CSRF_SLOT,
    }
    html = render_to_string("intake/public/form.html", context, request)
    parts = _SLOTS.split(html)
    _blank_pages[page] = _BlankPage(centers=centers, parts=parts)
    return parts


def _fits_blank_page(request: HttpRequest) -> bool:
    # The checks a full rendering makes too (the header's user, the pending messages).
    if settings.DEBUG or request.user.is_authenticated:
        return False
    return not len(get_messages(request))


def _blank_form(request: HttpRequest, page: str, form_class: type[PublicForm]) -> HttpResponse:
    if not _fits_blank_page(request):
        return _render_form(request, page, form_class())
    parts = _blank_page_parts(request, page, form_class)
    challenge = antiabuse.new_challenge(form_class.form_name)
    # get_token marks the CSRF cookie to be sent, as the {% csrf_token %} tag does.
    values = {
        _CSRF_SLOT: escape(get_token(request)),
        _QUESTION_SLOT: escape(challenge.question),
        _TOKEN_SLOT: escape(challenge.token),
    }
    return HttpResponse("".join(values[part] if i % 2 else part for i, part in enumerate(parts)))


@never_cache
@require_http_methods(["GET", "POST"])
def public_form(request: HttpRequest, page: str) -> HttpResponse:
    form_class = PUBLIC_FORMS[page]
    if request.method == "GET":
        return _blank_form(request, page, form_class)
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


def _open(token: str, *, with_center: bool = True) -> IntakeRequest:
    """The link's request, with its center (unless `with_center` is False: the thread
    alone does not show it) and, if it has one, its appointment (and the appointment's
    center, provider and visit type). Every private page and each of its polls opens
    it: the query is kept small. One row at most (the key), so no ORDER BY; the
    appointment's four tables are joined only for a request that has one (compiling
    that join cost more than a second query)."""
    target = read_link_token(token, "request")
    requests = IntakeRequest.objects.all()
    if with_center:
        requests = requests.select_related("center")
    found = list(requests.filter(pk=target.pk, link_key=target.key).order_by()[:1])
    if not found:
        raise LinkInvalid
    req = found[0]
    if req.appointment_id is not None:
        req.appointment = Appointment.objects.select_related(
            "center", "provider", "visit_type"
        ).get(pk=req.appointment_id)
    return req


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
        # What the pages show: the thread and the status (not its history, nor the
        # red flags, which are for the staff).
        "thread": list(req.messages.all()),
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


def _mark_shown_replies_read(req: IntakeRequest, thread: list[Message]) -> None:
    """The staff's and the system's messages count as read once the requester's page
    shows them: one UPDATE when the thread it shows has an unread one, and no write at
    all otherwise (most page views and polls; each open page polls every 10 s)."""
    if any(m.read_at is None and m.author_kind != AuthorKind.PUBLIC for m in thread):
        services.mark_read_by_public(req)


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
    context = _conversation_context(req, token)
    _mark_shown_replies_read(req, context["thread"])
    context.update(
        form=form,
        blank_reply="" if form.is_bound else _blank_reply_html(),
        sent=request.GET.get("sent") == "1",
    )
    return render(request, "intake/public/conversation.html", context, status=status)


@never_cache
def conversation_thread(request: HttpRequest, token: str) -> HttpResponse:
    """The thread alone, polled by htmx every few seconds: replies appear without reload."""
    try:
        req = _open(token, with_center=False)
    except (LinkExpired, LinkInvalid):
        return HttpResponse(status=286)  # htmx: stop polling
    context = _conversation_context(req, token)
    _mark_shown_replies_read(req, context["thread"])
    return render(request, "intake/public/_thread.html", context)
