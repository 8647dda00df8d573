"""The chart's limb-status section is part of the chart page, which the registry's chart
view has already audited ("opened chart"). The section is loaded by htmx right after;
a short-lived signed token proves that the request comes from that audited page view,
so one page view stays one audit row. Without a valid token (a direct request, a stale
or foreign token) the section is audited on its own like any other read.
"""

from __future__ import annotations

from typing import Final

from django.core import signing

SALT: Final = "limbguard.assessments.chart-section"
# Long enough for a slow page load, short enough that a copied link soon needs its own audit.
MAX_AGE_SECONDS: Final = 120


def sign_section_request(*, patient_id: int, user_id: int) -> str:
    return signing.dumps([patient_id, user_id], salt=SALT, compress=False)


def covered_by_chart_audit(token: str, *, patient_id: int, user_id: int) -> bool:
    """True when `token` was issued within MAX_AGE_SECONDS for this patient and user."""
    if not token:
        return False
    try:
        value = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return False
    return bool(value == [patient_id, user_id])
