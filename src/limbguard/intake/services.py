"""Every change to a request: one transaction, an explicit actor (None for the public),
one audit row, e-mail enqueued in the same transaction (see config/tasks.py).

Status: received → triaged → scheduled → seen → report sent (referrals; a visit
request ends at seen), and any open request may be closed. The referrer or requester
is e-mailed a link at each step.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from limbguard import sqlrows
from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.clinics.models import Center, Provider
from limbguard.intake import notify, rules
from limbguard.intake.models import (
    Attachment,
    AuthorKind,
    IntakeRequest,
    Message,
    RequestKind,
    RequestStatus,
    StatusChange,
)
from limbguard.intake.uploads import EXTENSIONS, CheckedFile
from limbguard.registry.models import Patient, name_key
from limbguard.registry.services import do_create_patient
from limbguard.scheduling import services as scheduling
from limbguard.scheduling.models import Appointment, AppointmentStatus, VisitType

REQUEST_FIELDS = (
    "center",
    "requester_name",
    "requester_email",
    "requester_phone",
    "referrer_organization",
    "referrer_npi",
    "patient_given_name",
    "patient_family_name",
    "patient_birth_date",
    "patient_phone",
    "patient_email",
    "subject",
    "preferred_times",
    "reason",
)

# Allowed moves, by kind; "closed" is reachable from every open state.
_NEXT: dict[str, dict[str, tuple[str, ...]]] = {
    RequestKind.REFERRAL: {
        RequestStatus.RECEIVED: (RequestStatus.TRIAGED, RequestStatus.SCHEDULED),
        RequestStatus.TRIAGED: (RequestStatus.SCHEDULED,),
        RequestStatus.SCHEDULED: (RequestStatus.SEEN,),
        RequestStatus.SEEN: (RequestStatus.REPORT_SENT,),
    },
    RequestKind.VISIT: {
        RequestStatus.RECEIVED: (RequestStatus.TRIAGED, RequestStatus.SCHEDULED),
        RequestStatus.TRIAGED: (RequestStatus.SCHEDULED,),
        RequestStatus.SCHEDULED: (RequestStatus.SEEN,),
    },
    RequestKind.CONTACT: {},
}
FINAL = (RequestStatus.REPORT_SENT, RequestStatus.CLOSED)


def allowed_moves(request: IntakeRequest) -> list[str]:
    moves = list(_NEXT[request.kind].get(request.status, ()))
    if request.status not in FINAL and not (
        request.kind == RequestKind.VISIT and request.status == RequestStatus.SEEN
    ):
        moves.append(RequestStatus.CLOSED)
    return moves


def _patient_id(request: IntakeRequest) -> int | None:
    return request.patient_id


def new_request(
    *, kind: str, fields: Mapping[str, Any], red_flags: list[str], ip_address: str | None
) -> IntakeRequest:
    """A public submission checked and triaged, not saved: all of `do_submit_request`'s
    reading and validation, so that its transaction only writes. Raises
    ValidationError."""
    unknown = set(fields) - set(REQUEST_FIELDS)
    if unknown:
        raise TypeError(f"unknown request fields: {', '.join(sorted(unknown))}")
    found = rules.triage(red_flags) if kind != RequestKind.CONTACT else None
    request = IntakeRequest(kind=kind, submitted_ip=ip_address, **fields)
    if found is not None:
        request.red_flags = sorted(set(red_flags))
        request.urgency = found.urgency.name.lower()
        request.urgency_rule = found.rule
        request.urgency_rank = found.rank
    else:
        request.urgency_rule = "Message: not triaged."
    request.full_clean()
    return request


def store_attachments(files: list[CheckedFile]) -> list[Attachment]:
    """Write checked uploads to private storage before the request's transaction (SQLite
    lets one writer in at a time: a 10 MB file write must not hold it); their rows are
    saved by `do_store_request`. Call `discard_attachments` if that transaction fails."""
    attachments: list[Attachment] = []
    try:
        for checked in files:
            attachment = Attachment(
                original_name=checked.name,
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
            )
            attachment.file.save(EXTENSIONS[checked.content_type], checked.upload, save=False)
            attachments.append(attachment)
    except BaseException:
        discard_attachments(attachments)
        raise
    return attachments


def discard_attachments(attachments: list[Attachment]) -> None:
    for attachment in attachments:
        Attachment.file.field.storage.delete(attachment.file.name or "")


# No savepoint: inside the public form's transaction (with the anti-abuse writes) a
# failure must fail the whole submission anyway.
@transaction.atomic(savepoint=False)
def do_store_request(
    *, request: IntakeRequest, attachments: list[Attachment], ip_address: str | None
) -> IntakeRequest:
    """Store a request from `new_request` with its first message, status and the rows
    of its attachments (from `store_attachments`), audit it, and queue the e-mail to
    the requester (their private link) and the center's staff (a link to the request)."""
    # Plain INSERTs of the rows save() would write (see sqlrows): this runs while
    # SQLite's write lock is held, and the ORM's per-row work was most of it.
    sqlrows.insert(request)
    sqlrows.insert(Message(request=request, author_kind=AuthorKind.PUBLIC, body=request.reason))
    sqlrows.insert(StatusChange(request=request, to_status=RequestStatus.RECEIVED))
    for attachment in attachments:
        attachment.request = request
        sqlrows.insert(attachment)
    audit.record(
        acting_user=None,
        action=AuditAction.CREATE,
        obj=request,
        summary=f"public {request.get_kind_display().lower()} received"
        + (f" with {len(attachments)} attachment(s)" if attachments else ""),
        changes={"urgency": request.urgency, "red_flags": request.red_flags},
        ip_address=ip_address,
    )
    notify.notify_received.enqueue(request.pk)
    return request


def do_submit_request(
    *,
    kind: str,
    fields: Mapping[str, Any],
    red_flags: list[str],
    files: list[CheckedFile],
    ip_address: str | None,
) -> IntakeRequest:
    """Store a public submission with its first message and attachments; e-mail the
    requester (their private link) and the center's staff. Anti-abuse checks come
    first, in the view: this only runs for a submission that passed them. Nothing is
    stored (no row, no file) when it fails."""
    request = new_request(kind=kind, fields=fields, red_flags=red_flags, ip_address=ip_address)
    attachments = store_attachments(files)
    try:
        with transaction.atomic():
            return do_store_request(request=request, attachments=attachments, ip_address=ip_address)
    except BaseException:
        discard_attachments(attachments)
        raise


@transaction.atomic
def do_public_reply(*, request: IntakeRequest, body: str, ip_address: str | None) -> Message:
    if not body.strip():
        raise ValidationError({"body": "Write a message."})
    if request.status in FINAL:
        raise ValidationError("This conversation is closed. Please send a new request.")
    message = Message(request=request, author_kind=AuthorKind.PUBLIC, body=body.strip())
    message.full_clean()
    message.save()
    audit.record(
        acting_user=None,
        action=AuditAction.CREATE,
        patient_id=_patient_id(request),
        obj=message,
        summary=f"public reply on request {request.pk}",
        ip_address=ip_address,
    )
    notify.notify_staff.enqueue(request.pk, "reply")
    return message


@transaction.atomic
def do_staff_reply(
    *, acting_user: User, request: IntakeRequest, body: str, ip_address: str | None = None
) -> Message:
    if not body.strip():
        raise ValidationError({"body": "Write a message."})
    message = Message(
        request=request, author_kind=AuthorKind.STAFF, author=acting_user, body=body.strip()
    )
    message.full_clean()
    message.save()
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=_patient_id(request),
        obj=message,
        summary=f"replied on request {request.pk}",
        ip_address=ip_address,
    )
    notify.notify_requester.enqueue(request.pk, "reply")
    return message


def mark_read_by_staff(request: IntakeRequest, now: dt.datetime | None = None) -> int:
    """Public messages count as read once a staff member has the request open."""
    return request.messages.filter(author_kind=AuthorKind.PUBLIC, read_at=None).update(
        read_at=now or timezone.now()
    )


def mark_read_by_public(request: IntakeRequest, now: dt.datetime | None = None) -> int:
    return (
        request.messages.exclude(author_kind=AuthorKind.PUBLIC)
        .filter(read_at=None)
        .update(read_at=now or timezone.now())
    )


def _move(
    request: IntakeRequest, to: str, acting_user: User | None, note: str, ip: str | None
) -> None:
    if to not in allowed_moves(request):
        raise ValidationError(
            f"A {request.get_kind_display().lower()} cannot go from "
            f"{request.get_status_display().lower()} to {RequestStatus(to).label.lower()}."
        )
    before = request.status
    request.status = to
    request.save(update_fields=["status", "updated_at"])
    StatusChange.objects.create(
        request=request,
        from_status=before,
        to_status=to,
        by=acting_user if acting_user is not None and acting_user.pk else None,
        note=note[:300],
    )
    label = RequestStatus(to).label
    Message.objects.create(
        request=request,
        author_kind=AuthorKind.SYSTEM,
        body=f"Status: {label}." + (f" {note}" if note else ""),
    )
    audit.record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient_id=_patient_id(request),
        obj=request,
        summary=f"request {request.pk}: {before} → {to}",
        changes={"status": [before, to]},
        ip_address=ip,
    )
    notify.notify_requester.enqueue(request.pk, to)


@transaction.atomic
def do_triage(
    *,
    acting_user: User,
    request: IntakeRequest,
    center: Center | None,
    provider: Provider | None = None,
    assignee: User | None = None,
    ip_address: str | None = None,
) -> IntakeRequest:
    """Assign a center, a provider and a staff owner; a new request becomes triaged."""
    locked = IntakeRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status in FINAL:
        raise ValidationError("This request is closed.")
    if (
        provider is not None
        and center is not None
        and not provider.centers.filter(pk=center.pk).exists()
    ):
        raise ValidationError({"provider": f"{provider} does not work at {center}."})
    if (
        assignee is not None
        and center is not None
        and not (assignee.sees_all_centers or assignee.centers.filter(pk=center.pk).exists())
    ):
        raise ValidationError({"assignee": f"{assignee} does not work at {center}."})
    before = audit.snapshot(locked, ("center", "provider", "assignee"))
    locked.center, locked.provider, locked.assignee = center, provider, assignee
    locked.save(update_fields=["center", "provider", "assignee", "updated_at"])
    changes = audit.diff(before, audit.snapshot(locked, ("center", "provider", "assignee")))
    if changes:
        audit.record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            patient_id=_patient_id(locked),
            obj=locked,
            summary=f"request {locked.pk} assigned",
            changes=changes,
            ip_address=ip_address,
        )
    if locked.status == RequestStatus.RECEIVED and locked.kind != RequestKind.CONTACT:
        note = f"Assigned to {center.name}." if center is not None else ""
        _move(locked, RequestStatus.TRIAGED, acting_user, note, ip_address)
    return locked


@transaction.atomic
def do_set_status(
    *,
    acting_user: User,
    request: IntakeRequest,
    status: str,
    note: str = "",
    ip_address: str | None = None,
    now: dt.datetime | None = None,
) -> IntakeRequest:
    """Move a request along; "seen" needs its appointment to have started (and marks
    the appointment seen), "closed" needs a note."""
    locked = IntakeRequest.objects.select_for_update().get(pk=request.pk)
    now = now or timezone.now()
    if status == RequestStatus.CLOSED and not note.strip():
        raise ValidationError({"note": "Say why the request is closed."})
    if status == RequestStatus.SCHEDULED:
        raise ValidationError("Book an appointment to schedule the request.")
    if status == RequestStatus.SEEN:
        appointment = locked.appointment
        if appointment is None or appointment.starts_at > now:
            raise ValidationError("The patient can be marked seen once the visit has started.")
        if appointment.status == AppointmentStatus.BOOKED:
            scheduling.do_set_attendance(
                acting_user=acting_user,
                appointment=appointment,
                status=AppointmentStatus.COMPLETED,
                ip_address=ip_address,
                now=now,
            )
    _move(locked, status, acting_user, note.strip(), ip_address)
    return locked


def _advisory_lock(key: str) -> None:
    """On PostgreSQL, serialise conversions of the same person across requests (SQLite
    already runs one writer at a time)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(key.encode())])


def matching_patient(request: IntakeRequest) -> Patient | None:
    """The registry patient with the same name (accents and case ignored) and birth
    date, searched at every center so that no one is registered twice."""
    if not (
        request.patient_given_name and request.patient_family_name and request.patient_birth_date
    ):
        return None
    return (
        Patient.objects.filter(
            given_key=name_key(request.patient_given_name),
            family_key=name_key(request.patient_family_name),
            birth_date=request.patient_birth_date,
        )
        .order_by("id")
        .first()
    )


@transaction.atomic
def do_convert_to_patient(
    *, acting_user: User, request: IntakeRequest, ip_address: str | None = None
) -> tuple[Patient, bool]:
    """Link the request to its patient: an existing one with the same name and birth
    date, or a new one registered through the registry's own service. Returns the
    patient and whether it was created. Idempotent."""
    locked = IntakeRequest.objects.select_for_update().get(pk=request.pk)
    if locked.patient is not None:
        return locked.patient, False
    if locked.kind == RequestKind.CONTACT:
        raise ValidationError("A message cannot become a patient; ask for a visit request.")
    missing = [
        label
        for label, value in (
            ("given name", locked.patient_given_name),
            ("family name", locked.patient_family_name),
            ("birth date", locked.patient_birth_date),
        )
        if not value
    ]
    if missing:
        raise ValidationError(f"The request lacks the patient's {', '.join(missing)}.")
    if locked.center is None:
        raise ValidationError({"center": "Assign a center first: the patient's home center."})
    _advisory_lock(
        f"{name_key(locked.patient_family_name)}|{name_key(locked.patient_given_name)}|"
        f"{locked.patient_birth_date}"
    )
    patient = matching_patient(locked)
    created = patient is None
    if patient is None:
        patient = do_create_patient(
            acting_user=acting_user,
            ip_address=ip_address,
            home_center=locked.center,
            mrn=f"IN{locked.pk:06d}",
            given_name=locked.patient_given_name,
            family_name=locked.patient_family_name,
            birth_date=locked.patient_birth_date,
            sex="unknown",
            phone=locked.patient_phone,
            email=locked.patient_email,
        )
    locked.patient = patient
    locked.save(update_fields=["patient", "updated_at"])
    audit.record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient_id=patient.pk,
        obj=locked,
        summary=f"request {locked.pk} "
        + ("registered as a new patient" if created else "linked to the existing patient"),
        ip_address=ip_address,
    )
    return patient, created


def do_schedule_request(
    *,
    acting_user: User,
    request: IntakeRequest,
    provider: Provider,
    visit_type: VisitType,
    starts_at: dt.datetime,
    ip_address: str | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Convert (if needed), book, and move the request to scheduled, in one transaction:
    a refused booking leaves no patient, no appointment and no status change."""
    with transaction.atomic():
        locked = IntakeRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status not in (RequestStatus.RECEIVED, RequestStatus.TRIAGED):
            raise ValidationError(
                f"Only a new or triaged request can be booked (this one is "
                f"{locked.get_status_display().lower()})."
            )
        if locked.center is None:
            raise ValidationError({"center": "Assign a center first."})
        patient, _ = do_convert_to_patient(
            acting_user=acting_user, request=locked, ip_address=ip_address
        )
        contact = locked.patient_email or (
            locked.requester_email if locked.kind == RequestKind.VISIT else ""
        )
        appointment = scheduling.do_book_appointment(
            acting_user=acting_user,
            patient=patient,
            center=locked.center,
            provider=provider,
            visit_type=visit_type,
            starts_at=starts_at,
            contact_email=contact,
            note=f"from {locked.get_kind_display().lower()} #{locked.pk}",
            ip_address=ip_address,
            now=now,
            # The requester hears of it below; one e-mail, not two, when that is the patient.
            send_notice=contact.casefold() != locked.requester_email.casefold(),
        )
        locked.refresh_from_db()
        locked.appointment = appointment
        locked.provider = provider
        locked.save(update_fields=["appointment", "provider", "updated_at"])
        local = appointment.starts_at.astimezone(locked.center.zone)
        _move(
            locked,
            RequestStatus.SCHEDULED,
            acting_user,
            f"{visit_type.name} on {local:%A %d %B %Y at %H:%M} ({locked.center.name}).",
            ip_address,
        )
    return appointment


def audit_view(*, acting_user: User, request: IntakeRequest, ip_address: str | None) -> None:
    audit.record(
        acting_user=acting_user,
        action=AuditAction.VIEW,
        patient_id=_patient_id(request),
        obj=request,
        summary=f"opened request {request.pk}",
        ip_address=ip_address,
    )
