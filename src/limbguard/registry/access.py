"""Which patients a user may see. Every patient view fetches through here."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from limbguard.accounts.models import User
from limbguard.registry.models import Patient


def visible_patients(user: User) -> QuerySet[Patient]:
    """Patients of the user's centers; every patient for program leads."""
    if not user.is_authenticated or not user.has_perm("registry.view_patient"):
        return Patient.objects.none()
    if user.sees_all_centers:
        return Patient.objects.all()
    return Patient.objects.filter(home_center__in=user.centers.all())


def access_patient(user: User, patient_id: int) -> Patient:
    """The patient, or 404 when unknown *or* outside the user's centers.

    The two cases answer alike so that a user cannot learn that a patient exists at
    another center.
    """
    try:
        return visible_patients(user).select_related("home_center").get(pk=patient_id)
    except Patient.DoesNotExist:
        raise Http404("No such patient") from None
