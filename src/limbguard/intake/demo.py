"""Intake demo: requests from the public site in every state, through the same
services the site and the staff use. Idempotent: skipped when the demo's requests
exist. Needs the centers, users, patients and schedule set-up of the demo."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from limbguard.accounts.models import User
from limbguard.clinics.models import Center, Provider
from limbguard.intake import services
from limbguard.intake.models import IntakeRequest, RequestKind, RequestStatus
from limbguard.scheduling.demo import ensure_setup
from limbguard.scheduling.models import VisitType
from limbguard.scheduling.timeutil import localize

DEMO_DOMAIN = "demo.invalid"

REFERRALS: tuple[dict[str, Any], ...] = (
    {
        "requester_name": "Dr. Maya Chen",
        "referrer_organization": "Bayview Family Practice",
        "patient_given_name": "Walter",
        "patient_family_name": "Gangi",
        "patient_birth_date": dt.date(1948, 9, 30),
        "reason": "Dry gangrene right hallux, absent pedal pulses, ABI not obtainable.",
        "red_flags": ["gangrene", "rest_pain"],
    },
    {
        "requester_name": "Dr. Luis Ortega",
        "referrer_organization": "Mission Diabetes Clinic",
        "patient_given_name": "Teresa",
        "patient_family_name": "Moreno",
        "patient_birth_date": dt.date(1961, 2, 11),
        "reason": "Plantar ulcer 6 weeks, cellulitis to mid-foot, type 2 diabetes.",
        "red_flags": ["nonhealing_wound", "infection"],
    },
    {
        "requester_name": "Dr. Aisha Bello",
        "referrer_organization": "Harbor Internal Medicine",
        "patient_given_name": "George",
        "patient_family_name": "Lindqvist",
        "patient_birth_date": dt.date(1953, 7, 4),
        "reason": "Night pain in the left foot relieved by dangling; claudication for years.",
        "red_flags": ["rest_pain", "prior_amputation"],
    },
    {
        "requester_name": "Dr. Maya Chen",
        "referrer_organization": "Bayview Family Practice",
        "patient_given_name": "Irene",
        "patient_family_name": "Adeyemi",
        "patient_birth_date": dt.date(1958, 12, 1),
        "reason": "Calf claudication at 200 m, ABI 0.72; please assess.",
        "red_flags": [],
    },
    {
        "requester_name": "Dr. Luis Ortega",
        "referrer_organization": "Mission Diabetes Clinic",
        "patient_given_name": "Samuel",
        "patient_family_name": "Price",
        "patient_birth_date": dt.date(1950, 5, 19),
        "reason": "Heel wound after a fall, 3 weeks, slow to heal.",
        "red_flags": ["nonhealing_wound"],
    },
    {
        "requester_name": "Dr. Aisha Bello",
        "referrer_organization": "Harbor Internal Medicine",
        "patient_given_name": "Rosa",
        "patient_family_name": "Delgado",
        "patient_birth_date": dt.date(1945, 3, 23),
        "reason": "Post-revascularisation follow-up requested by the family.",
        "red_flags": ["prior_amputation"],
    },
)


def _referral(center: Center, spec: dict[str, Any], index: int) -> IntakeRequest:
    fields = {k: v for k, v in spec.items() if k != "red_flags"}
    slug = spec["requester_name"].split()[-1].lower()
    fields.update(
        center=center,
        requester_email=f"{slug}{index}@referrer.{DEMO_DOMAIN}",
        requester_phone="(619) 555-0100",
        patient_phone="(619) 555-0101",
    )
    return services.do_submit_request(
        kind=RequestKind.REFERRAL,
        fields=fields,
        red_flags=spec["red_flags"],
        files=[],
        ip_address="127.0.0.1",
    )


def _past_day(center: Center, provider: Provider, back: int) -> dt.date:
    """A recent past weekday when the provider worked at the center."""
    day = timezone.localdate() - dt.timedelta(days=back)
    weekdays = set(provider.availability.filter(center=center).values_list("weekday", flat=True))
    while day.weekday() not in weekdays:
        day -= dt.timedelta(days=1)
    return day


def _book(
    desk: User,
    request: IntakeRequest,
    provider: Provider,
    visit: VisitType,
    day: dt.date,
    hour: int,
    *,
    past: bool,
) -> None:
    assert request.center is not None
    start = localize(day, dt.time(hour), request.center.zone)
    for attempt in range(8):
        try:
            services.do_schedule_request(
                acting_user=desk,
                request=request,
                provider=provider,
                visit_type=visit,
                starts_at=start + dt.timedelta(minutes=30 * attempt),
                now=start - dt.timedelta(days=3) if past else None,
            )
            return
        except ValidationError:
            continue


@transaction.atomic
def ensure_intake_demo(centers: dict[str, Center]) -> int:
    """Referrals received, triaged, scheduled, seen, report sent and closed; visit
    requests and contact messages, one with a staff reply. Returns how many were made."""
    if IntakeRequest.objects.filter(requester_email__endswith=DEMO_DOMAIN).exists():
        return 0
    types = ensure_setup(centers)
    harbor = centers["harbor"]
    desk = User.objects.get(username="frontdesk")
    ruiz = Provider.objects.get(name="Dr. Elena Ruiz")
    made = [_referral(harbor, spec, i) for i, spec in enumerate(REFERRALS)]
    _received, triaged, scheduled, seen, reported, closed = made
    for request in (triaged, scheduled, seen, reported, closed):
        services.do_triage(
            acting_user=desk, request=request, center=harbor, provider=ruiz, assignee=desk
        )
    soon = timezone.localdate() + dt.timedelta(days=2)
    while soon.weekday() not in (0, 2, 4):
        soon += dt.timedelta(days=1)
    _book(desk, scheduled, ruiz, types["new-consult"], soon, 14, past=False)
    for request, back in ((seen, 3), (reported, 8)):
        _book(
            desk, request, ruiz, types["new-consult"], _past_day(harbor, ruiz, back), 15, past=True
        )
        request.refresh_from_db()
        if request.status == RequestStatus.SCHEDULED:
            services.do_set_status(acting_user=desk, request=request, status="seen")
    reported.refresh_from_db()
    if reported.status == RequestStatus.SEEN:
        services.do_set_status(
            acting_user=desk,
            request=reported,
            status="report_sent",
            note="Consult letter faxed to the referring office.",
        )
    services.do_set_status(
        acting_user=desk,
        request=closed,
        status="closed",
        note="Already under our care; appointment kept.",
    )
    visit = services.do_submit_request(
        kind=RequestKind.VISIT,
        fields={
            "center": centers["inland"],
            "requester_name": "Hana Sato",
            "requester_email": f"hana@patient.{DEMO_DOMAIN}",
            "requester_phone": "(951) 555-0142",
            "patient_given_name": "Hana",
            "patient_family_name": "Sato",
            "patient_birth_date": dt.date(1962, 8, 14),
            "patient_phone": "(951) 555-0142",
            "patient_email": f"hana@patient.{DEMO_DOMAIN}",
            "preferred_times": "Tuesday or Thursday mornings",
            "reason": "My toes turn white in the cold and my calf hurts when I walk uphill.",
        },
        red_flags=[],
        files=[],
        ip_address="127.0.0.1",
    )
    contact = services.do_submit_request(
        kind=RequestKind.CONTACT,
        fields={
            "center": None,
            "requester_name": "Paul Visitor",
            "requester_email": f"paul@public.{DEMO_DOMAIN}",
            "subject": "Parking and wheelchair access",
            "reason": "Is there step-free access and parking for a wheelchair van?",
        },
        red_flags=[],
        files=[],
        ip_address="127.0.0.1",
    )
    services.do_staff_reply(
        acting_user=desk,
        request=contact,
        body="Yes: level entrance on Harbor Dr and two van spaces by the door.",
    )
    return len(made) + len([visit, contact])
