"""E-mail about requests, sent by `limbguard worker`: the requester gets a fresh private
link to their conversation, staff get a link to the request in the inbox. No message
carries a name, a date of birth, a reason, a red flag or any other detail.
"""

from __future__ import annotations

from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse
from django_tasks import task

from limbguard.scheduling.links import absolute, make_link_token

REQUESTER_SUBJECTS = {
    "received": "We received your request",
    "reply": "New reply to your request",
    "triaged": "Your request was reviewed",
    "scheduled": "An appointment was booked",
    "seen": "The patient was seen",
    "report_sent": "The visit report was sent",
    "closed": "Your request was closed",
}


def conversation_link(request_id: int, link_key: str) -> str:
    token = make_link_token("request", request_id, link_key)
    return absolute(reverse("public:conversation", args=[token]))


@task()
def notify_requester(request_id: int, event: str) -> bool:
    from limbguard.intake.models import IntakeRequest

    request = IntakeRequest.objects.filter(pk=request_id).first()
    if request is None:
        return False
    subject = REQUESTER_SUBJECTS[event]
    link = conversation_link(request.pk, request.link_key)
    body = (
        f"{subject}.\n\nRead it and reply on your private page:\n{link}\n\n"
        "For privacy this e-mail holds no details. The link is yours alone and expires; "
        "each e-mail from us carries a fresh one.\n— LimbGuard limb salvage program\n"
    )
    send_mail(f"LimbGuard: {subject}", body, None, [request.requester_email])
    return True


@task()
def notify_staff(request_id: int, event: str) -> int:
    """E-mail the staff who may triage the request (its center's, or every center's when
    the requester chose none). Returns how many were written to."""
    from limbguard.accounts.models import User
    from limbguard.intake.models import IntakeRequest

    request = IntakeRequest.objects.filter(pk=request_id).first()
    if request is None:
        return 0
    staff = User.objects.filter(is_active=True).exclude(email="")
    staff = staff.filter(
        Q(groups__permissions__codename="triage_intakerequest")
        | Q(user_permissions__codename="triage_intakerequest")
    )
    if request.center_id is not None:
        staff = staff.filter(centers=request.center_id)
    addresses = sorted(set(staff.values_list("email", flat=True)))
    if not addresses:
        return 0
    what = "New reply on" if event == "reply" else f"New {request.get_kind_display().lower()}:"
    link = absolute(reverse("intake:detail", args=[request.pk]))
    body = f"{what} request #{request.pk} in the LimbGuard inbox.\n\n{link}\n"
    send_mail(f"LimbGuard: {what} request #{request.pk}", body, None, addresses)
    return len(addresses)


@task()
def notify_received(request_id: int) -> int:
    """A new request: the requester gets their private link, the staff who may triage
    it a link to it. One queued task, so a submission writes one queue row; each
    e-mail is tried even if the other fails. Returns how many staff were written to."""
    try:
        return notify_staff.call(request_id, "new")
    finally:
        notify_requester.call(request_id, "received")
