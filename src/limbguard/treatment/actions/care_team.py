"""Care-team tasks and referrals: create (by hand or from a pathway suggestion),
complete with a note (loop closure), cancel with a reason."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.registry.models import Limb, Patient
from limbguard.treatment.actions.common import check_limb, require
from limbguard.treatment.care_team import CareTask
from limbguard.treatment.vocab import Discipline, TaskKind, TaskStatus

FIELDS = (
    "discipline",
    "kind",
    "title",
    "details",
    "refer_to",
    "owner",
    "due_on",
    "limb",
    "source_rule",
    "source",
)


@transaction.atomic
def do_create_task(
    *,
    acting_user: User,
    patient: Patient,
    discipline: str,
    title: str,
    kind: str = TaskKind.TASK,
    limb: Limb | None = None,
    details: str = "",
    refer_to: str = "",
    owner: User | None = None,
    due_on: dt.date | None = None,
    source_rule: str = "",
    source: str = "",
    ip_address: str | None = None,
) -> CareTask:
    require(acting_user, "treatment.add_caretask", "create care-team tasks")
    errors: dict[str, str] = {}
    if discipline not in Discipline.values:
        errors["discipline"] = "Choose the discipline."
    if kind not in TaskKind.values:
        errors["kind"] = "Choose task or referral."
    if not title.strip():
        errors["title"] = "Say what is to be done."
    if kind == TaskKind.REFERRAL and not refer_to.strip():
        errors["refer_to"] = "A referral names who it goes to."
    if due_on is not None and due_on < timezone.localdate():
        errors["due_on"] = "The due date cannot be in the past."
    if patient.deceased_date is not None:
        errors["__all__"] = "The patient has died."
    if owner is not None and not owner.is_active:
        errors["owner"] = "That user is no longer active."
    if limb is not None:
        check_limb(patient, limb)
    if (
        source_rule
        and CareTask.objects.filter(
            patient=patient, discipline=discipline, source_rule=source_rule, status=TaskStatus.OPEN
        ).exists()
    ):
        errors["__all__"] = "That suggestion already has an open task."
    if errors:
        raise ValidationError(errors)
    task = CareTask(
        patient=patient,
        limb=limb,
        discipline=discipline,
        kind=kind,
        title=title.strip(),
        details=details.strip(),
        refer_to=refer_to.strip(),
        owner=owner,
        due_on=due_on,
        source_rule=source_rule,
        source=source[:300],
        created_by=acting_user,
    )
    task.full_clean()
    task.save()
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=patient.pk,
        obj=task,
        summary=f"care-team {task.kind}: {task.get_discipline_display()}: {task.title}",
        changes=audit.snapshot(task, FIELDS),
        ip_address=ip_address,
    )
    return task


def _close(
    acting_user: User,
    task: CareTask,
    status: TaskStatus,
    note: str,
    on: dt.date | None,
    ip_address: str | None,
) -> CareTask:
    require(acting_user, "treatment.close_caretask", "close care-team tasks")
    locked = CareTask.objects.select_for_update().get(pk=task.pk)
    if locked.status != TaskStatus.OPEN:
        raise ValidationError({"__all__": f"This task is already {locked.get_status_display()}."})
    if not note.strip():
        field = "closing_note"
        message = (
            "Close the loop: say what was done."
            if status == TaskStatus.COMPLETED
            else "Say why the task is cancelled."
        )
        raise ValidationError({field: message})
    today = timezone.localdate()
    on = on or today
    if on > today:
        raise ValidationError({"closed_on": "The date cannot be in the future."})
    if on < timezone.localdate(locked.created_at):
        raise ValidationError({"closed_on": "The task was created after that date."})
    locked.status, locked.closed_on, locked.closed_by = status, on, acting_user
    locked.closing_note = note.strip()
    locked.save(update_fields=["status", "closed_on", "closed_by", "closing_note"])
    audit.record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient_id=locked.patient_id,
        obj=locked,
        summary=f"care-team task {status}: {locked.title}",
        changes={
            "status": [TaskStatus.OPEN, status],
            "closing_note": locked.closing_note,
            "closed_on": str(on),
        },
        ip_address=ip_address,
    )
    return locked


@transaction.atomic
def do_complete_task(
    *,
    acting_user: User,
    task: CareTask,
    note: str,
    completed_on: dt.date | None = None,
    ip_address: str | None = None,
) -> CareTask:
    """Close the loop: the task (or referral) is done, and the note says what came of it."""
    return _close(acting_user, task, TaskStatus.COMPLETED, note, completed_on, ip_address)


@transaction.atomic
def do_cancel_task(
    *, acting_user: User, task: CareTask, reason: str, ip_address: str | None = None
) -> CareTask:
    return _close(acting_user, task, TaskStatus.CANCELLED, reason, None, ip_address)
