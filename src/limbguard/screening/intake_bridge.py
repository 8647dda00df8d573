"""``limbguard screen --to-intake``: the highest-tier unevaluated patients of a screen
become referrals in the intake triage queue, through the intake services.

Each referral is a normal intake request (``intake.services.do_submit_request``), so it
is validated, triaged from its red flags, audited and announced like any other. The
requester is the screening team's mailbox; the patient's center is the one the export
names (else any center). Idempotent: a patient gets no second referral while one from
a screen is still open, nor from a rerun of a screen with the same reference date (the
first line of the reason carries the patient key and the date).

Red flags come only from what the codes say (intake.rules): gangrene; infection for
foot osteomyelitis; a wound not healing for a coded chronic ulcer (diabetic foot ulcer,
venous ulcer, ischaemic ulceration I70.x3-x5 / SNOMED CT ischaemic ulcer); rest pain for
ischaemic rest pain (I70.x2 / SNOMED CT 792844003); prior amputation. Other CLTI codes
(I70.26 gangrene is already flagged) carry no symptom and raise no flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q

from limbguard.clinics.models import Center
from limbguard.intake import services
from limbguard.intake.models import IntakeRequest, RequestKind
from limbguard.intake.rules import RedFlag
from limbguard.screening.screen import ScreenResult

REFERRER: Final = "LimbGuard population screen"
CATEGORY_FLAGS: Final = {
    "gangrene": RedFlag.GANGRENE,
    "osteomyelitis": RedFlag.INFECTION,
    "diabetic_foot_ulcer": RedFlag.NONHEALING_WOUND,
    "venous_ulcer": RedFlag.NONHEALING_WOUND,
    "ischaemic_ulcer": RedFlag.NONHEALING_WOUND,
    "rest_pain": RedFlag.REST_PAIN,
    "major_amputation": RedFlag.PRIOR_AMPUTATION,
    "minor_amputation": RedFlag.PRIOR_AMPUTATION,
}


@dataclass(frozen=True)
class IntakeReport:
    created: int
    skipped: int
    eligible: int


def default_requester_email() -> str:
    match = re.search(r"<([^>]+)>", settings.DEFAULT_FROM_EMAIL)
    return match.group(1) if match else settings.DEFAULT_FROM_EMAIL


def _first_line(row: dict[str, Any], as_of: str) -> str:
    return f"{REFERRER}, patient {row['patient']}, as of {as_of}"


def _reason(row: dict[str, Any], result: ScreenResult) -> str:
    as_of = result.as_of.isoformat()
    categories = (row.get("categories") or "").replace(";", ", ")
    abi = (
        f"latest ABI {row['latest_abi']} on {row['latest_abi_date']}"
        if row.get("latest_abi") is not None
        else "no ABI on record"
    )
    last = (
        f"last vascular evaluation {row['last_evaluation']} ({row['last_evaluation_code']})"
        if row.get("last_evaluation")
        else "no vascular evaluation on record"
    )
    return (
        f"{_first_line(row, as_of)}\n"
        f"Tier {row['tier']} by rule {row['tier_rule']}. Findings: {categories or 'none'}; "
        f"{abi}; {last} (none in the {result.window_days} days before {as_of}).\n"
        f"MRN {row.get('mrn') or 'unknown'}."
    )


def do_send_to_intake(
    *,
    result: ScreenResult,
    max_tier: int = 1,
    requester_email: str | None = None,
) -> IntakeReport:
    """Refer every worklist patient of tier ``max_tier`` or higher (1 is highest)."""
    email = requester_email or default_requester_email()
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValueError(f"requester_email: not an e-mail address: {email!r}") from error
    as_of = result.as_of.isoformat()
    centers = {c.slug: c for c in Center.objects.all()}
    eligible = [
        row for row in result.worklist if row["tier"] is not None and row["tier"] <= max_tier
    ]
    created = skipped = 0
    for row in eligible:
        prefix = f"{REFERRER}, patient {row['patient']}, as of "
        existing = IntakeRequest.objects.filter(
            kind=RequestKind.REFERRAL, referrer_organization=REFERRER, reason__startswith=prefix
        ).filter(
            Q(reason__startswith=f"{_first_line(row, as_of)}\n") | ~Q(status__in=services.FINAL)
        )
        if existing.exists():
            skipped += 1
            continue
        coded = f"{row.get('categories') or ''};{row.get('symptoms') or ''}".split(";")
        flags = sorted({CATEGORY_FLAGS[c] for c in coded if c in CATEGORY_FLAGS})
        birth = row.get("birth_date") or ""
        fields = {
            "center": centers.get(row.get("center") or ""),
            "requester_name": "Population screening team",
            "requester_email": email,
            "referrer_organization": REFERRER,
            "patient_given_name": (row.get("given") or "")[:100],
            "patient_family_name": (row.get("family") or "")[:100],
            "patient_birth_date": birth if len(birth) == 10 else None,
            "patient_phone": (row.get("phone") or "")[:30],
            "subject": f"Screening: {row['tier_rule']}, no vascular evaluation"[:150],
            "reason": _reason(row, result)[:4000],
        }
        services.do_submit_request(
            kind=RequestKind.REFERRAL,
            fields=fields,
            red_flags=[str(flag) for flag in flags],
            files=[],
            ip_address=None,
        )
        created += 1
    return IntakeReport(created=created, skipped=skipped, eligible=len(eligible))
