"""Template tags of the assessments app."""

from __future__ import annotations

from django import template
from django.urls import reverse

from limbguard.assessments.chart import sign_section_request
from limbguard.assessments.pathway import CARE_NEED_LABELS, CareNeed
from limbguard.registry.models import Patient

register = template.Library()


@register.simple_tag(takes_context=True)
def chart_section_url(context: template.Context, patient: Patient) -> str:
    """The URL that loads the chart's limb-status section, carrying a short-lived token
    that ties it to the chart view already audited for this user and patient."""
    user = context["request"].user
    token = sign_section_request(patient_id=patient.pk, user_id=user.pk)
    return f"{reverse('assessments:chart_section', args=[patient.pk])}?chart={token}"


@register.filter
def care_need_label(code: str) -> str:
    """ "Wound care" for "wound_care": the care-team need's display name."""
    try:
        return CARE_NEED_LABELS[CareNeed(code)]
    except ValueError:
        return code
