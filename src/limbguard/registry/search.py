"""Patient search: by MRN, birth date, or name prefix ("smi", "smith jo", "Smith, Jo")."""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Q, QuerySet

from limbguard.registry.models import Patient, name_key

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
_MRN = re.compile(r"^[A-Za-z]*\d[A-Za-z0-9-]*$")


def _as_date(text: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date, no zone)
        except ValueError:
            continue
    return None


def search_patients(patients: QuerySet[Patient], query: str) -> QuerySet[Patient]:
    """Filter `patients` (already limited to what the user may see) by `query`.

    A birth date matches exactly; a term with digits is an MRN (exact, case-blind);
    otherwise words are name prefixes: one word matches family or given name, two
    words match "family given" or "given family", and "Family, Given" is explicit.
    """
    text = query.strip()
    if not text:
        return patients
    birth_date = _as_date(text)
    if birth_date is not None:
        return patients.filter(birth_date=birth_date)
    if _MRN.match(text):
        return patients.filter(mrn__iexact=text)
    if "," in text:
        family, _, given = text.partition(",")
        return patients.filter(
            family_key__startswith=name_key(family), given_key__startswith=name_key(given)
        )
    words = [name_key(w) for w in text.split()]
    if len(words) == 1:
        return patients.filter(
            Q(family_key__startswith=words[0]) | Q(given_key__startswith=words[0])
        )
    first, last = words[0], " ".join(words[1:])
    return patients.filter(
        Q(family_key__startswith=first, given_key__startswith=last)
        | Q(given_key__startswith=first, family_key__startswith=last)
    )
