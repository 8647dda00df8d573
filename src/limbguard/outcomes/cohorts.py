"""From the treatment records to analysable subjects (four queries, any cohort size).

Definitions (each figure's page text repeats them):

* A **treated limb** enters on its *index date*: the date of its first logged procedure
  of any kind (revascularization, venous, or a primary amputation). Its indication and
  WIfI stage are those of that procedure; its center is the procedure's center.
* **Major amputation** of the limb: the first major-amputation event of that limb on or
  after the index date (a primary major amputation is an event on day 0).
* **Death**: the registry's date of death.
* **MALE**: major amputation or major reintervention of the limb after the index
  procedure (SVS OPG); **POD**: death within 30 days of the index date.
* **Last contact** (censoring): the latest dated record of the patient: procedure,
  outcome event or follow-up visit, never after the analysis date.
* A **patient** (overall survival) enters on the first index date of their limbs.
* **After major amputation**: each patient's first major amputation.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Final

from django.db.models import Max

from limbguard.registry.models import MINOR_LEVELS, Patient
from limbguard.treatment.events import OutcomeEvent
from limbguard.treatment.followup import SurveillanceVisit
from limbguard.treatment.procedures import Intervention
from limbguard.treatment.vocab import INDICATION_GROUP, EventKind, Indication, InterventionKind

POD_DAYS: Final = 30


@dataclass(frozen=True)
class LimbSubject:
    patient_id: int
    limb_id: int
    center: str  # slug
    center_name: str
    index_date: dt.date
    index_kind: str
    indication: str  # CohortIndication value
    wifi_stage: int | None
    major_amputation_on: dt.date | None
    male_on: dt.date | None
    death_on: dt.date | None
    last_contact: dt.date

    @property
    def end(self) -> dt.date:
        """The last day the limb is observed: amputation, death or last contact."""
        dates = [d for d in (self.major_amputation_on, self.death_on) if d is not None]
        return min(dates) if dates else self.last_contact


@dataclass(frozen=True)
class AmputationSubject:
    patient_id: int
    center: str
    amputated_on: dt.date
    death_on: dt.date | None
    last_contact: dt.date


@dataclass(frozen=True)
class Subjects:
    limbs: tuple[LimbSubject, ...]
    amputations: tuple[AmputationSubject, ...]


def load(*, as_of: dt.date) -> Subjects:
    """Every treated limb and every major amputation on record (no filtering here)."""
    interventions = list(
        Intervention.objects.filter(entered_in_error=False, performed_on__lte=as_of)
        .order_by("limb_id", "performed_on", "id")
        .values_list(
            "id",
            "patient_id",
            "limb_id",
            "center__slug",
            "center__name",
            "kind",
            "performed_on",
            "indication",
            "wifi_stage",
        )
    )
    events = list(
        OutcomeEvent.objects.filter(entered_in_error=False, occurred_on__lte=as_of)
        .order_by("occurred_on", "id")
        .values_list(
            "patient_id",
            "limb_id",
            "kind",
            "occurred_on",
            "amputation_level",
            "major_reintervention",
            "intervention_id",
        )
    )
    patient_ids = {row[1] for row in interventions} | {row[0] for row in events}
    patients = {
        pk: (died, slug)
        for pk, died, slug in Patient.objects.filter(pk__in=patient_ids).values_list(
            "id", "deceased_date", "home_center__slug"
        )
    }
    visits = dict(
        SurveillanceVisit.objects.filter(
            plan__patient_id__in=patient_ids, done_on__isnull=False, done_on__lte=as_of
        )
        .values_list("plan__patient_id")
        .annotate(last=Max("done_on"))
        .values_list("plan__patient_id", "last")
    )
    last_contact: dict[int, dt.date] = {}

    def seen(patient_id: int, on: dt.date) -> None:
        if on > last_contact.get(patient_id, dt.date.min):
            last_contact[patient_id] = on

    for row in interventions:
        seen(row[1], row[6])
    for event in events:
        seen(event[0], event[3])
    for patient_id, on in visits.items():
        seen(patient_id, on)

    major_amputations: dict[int, list[dt.date]] = defaultdict(list)
    male: dict[int, list[tuple[dt.date, int | None]]] = defaultdict(list)
    first_major_of_patient: dict[int, dt.date] = {}
    for patient_id, limb_id, kind, on, level, major, intervention_id in events:
        is_major = kind == EventKind.MAJOR_AMPUTATION or (
            kind == EventKind.MINOR_AMPUTATION and level and level not in MINOR_LEVELS
        )
        if is_major and limb_id is not None:
            major_amputations[limb_id].append(on)
            male[limb_id].append((on, None))
            first_major_of_patient.setdefault(patient_id, on)
        if kind == EventKind.REINTERVENTION and major and limb_id is not None:
            male[limb_id].append((on, intervention_id))

    limbs: list[LimbSubject] = []
    done: set[int] = set()
    for pk, patient_id, limb_id, slug, name, kind, on, indication, wifi in interventions:
        if limb_id in done:
            continue
        done.add(limb_id)
        died = patients[patient_id][0]
        amputation = min((d for d in major_amputations[limb_id] if d >= on), default=None)
        male_on = min((d for d, source in male[limb_id] if d >= on and source != pk), default=None)
        limbs.append(
            LimbSubject(
                patient_id=patient_id,
                limb_id=limb_id,
                center=slug,
                center_name=name,
                index_date=on,
                index_kind=kind,
                indication=INDICATION_GROUP[Indication(indication)],
                wifi_stage=wifi,
                major_amputation_on=amputation,
                male_on=male_on,
                death_on=died if died is not None and died <= as_of else None,
                last_contact=min(last_contact.get(patient_id, on), as_of),
            )
        )
    amputations = tuple(
        AmputationSubject(
            patient_id=patient_id,
            center=patients[patient_id][1],
            amputated_on=on,
            death_on=patients[patient_id][0],
            last_contact=min(last_contact.get(patient_id, on), as_of),
        )
        for patient_id, on in first_major_of_patient.items()
    )
    return Subjects(tuple(limbs), amputations)


def is_revascularization(subject: LimbSubject) -> bool:
    return subject.index_kind in (
        InterventionKind.ARTERIAL_ENDOVASCULAR,
        InterventionKind.BYPASS,
        InterventionKind.ENDARTERECTOMY,
    )
