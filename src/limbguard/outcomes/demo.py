"""Demo program cohort for the analytics page: treated limbs with follow-up and events.

Several hundred synthetic patients (MRNs ``OC-0001``…) across the four demo centers,
each with an index procedure over the last four and a half years, surveillance visits,
wound healing, reinterventions, major amputations and deaths, drawn from a seeded
generator at rates near the published figures (codes_and_epidemiology §6.6): 1-year
major amputation after revascularization for CLTI about 30 % before the program start
and about 8 % after it (VaLS: 90.5 % freedom at 12 months), CLTI mortality about 18 % a
year, 30-day and 1-year mortality after major amputation near 13.5 % and 45 % (Jones
2013). Everything goes through the services (audited), in one transaction.

Amputations in this history are recorded as outcome events "not planned through the
gate" (the gate decides on the day an amputation is planned, so past ones cannot pass
through it); amputations planned today use the gate like any other.

Idempotent: nothing is generated once the first demo patient exists.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from django.db import transaction
from django.utils import timezone

from limbguard.accounts.models import User
from limbguard.clinics.models import Center
from limbguard.registry.models import Limb, Patient
from limbguard.registry.services import do_create_patient
from limbguard.synth.people import person
from limbguard.treatment.actions.care_team import do_complete_task, do_create_task
from limbguard.treatment.actions.events import do_record_event
from limbguard.treatment.actions.followup import do_close_plan, do_record_followup
from limbguard.treatment.actions.procedures import LesionInput, do_log_procedure
from limbguard.treatment.procedures import Intervention

SEED: Final = 6006
PATIENTS: Final = 320
MRN_PREFIX: Final = "OC-"
OPERATOR: Final = "vascular"
# The demo program started two years before the demo is loaded.
PROGRAM_YEARS: Final = 2
WINDOW_DAYS: Final = int(4.5 * 365)


def program_start(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=PROGRAM_YEARS * 365)


@dataclass(frozen=True)
class _Profile:
    indication: str
    kind: str
    wifi: int | None
    amputation_1y: float
    death_1y: float


def _profile(rng: random.Random, before: bool) -> _Profile:
    draw = rng.random()
    if draw < 0.55:
        indication = "tissue_loss" if rng.random() < 0.65 else "rest_pain"
        wifi = rng.choices([1, 2, 3, 4], [10, 25, 30, 35])[0]
        risk = (0.30 if before else 0.08) * {1: 0.4, 2: 0.7, 3: 1.0, 4: 1.6}[wifi]
        kind = "bypass" if rng.random() < 0.25 else "arterial_endovascular"
        return _Profile(indication, kind, wifi, risk, 0.18)
    if draw < 0.85:
        return _Profile("claudication", "arterial_endovascular", None, 0.01, 0.04)
    kind = "venous_ablation" if rng.random() < 0.7 else "venous_endovascular"
    return _Profile(
        "venous_ulcer" if rng.random() < 0.3 else "venous_insufficiency", kind, None, 0.0, 0.02
    )


def _after(rng: random.Random, one_year_risk: float) -> int | None:
    """Days to an event with a constant hazard giving `one_year_risk` at a year."""
    if one_year_risk <= 0:
        return None
    rate = -math.log(1 - one_year_risk) / 365
    return int(rng.expovariate(rate))


def _lesions(rng: random.Random, kind: str) -> tuple[LesionInput, ...]:
    if kind == "arterial_endovascular":
        segment = rng.choice(["sfa", "sfa", "popliteal", "anterior_tibial", "posterior_tibial"])
        tibial = segment in ("anterior_tibial", "posterior_tibial")
        techniques = rng.choice([("pta",), ("dcb",), ("dcb", "des"), ("ather_orbital", "dcb")])
        return (
            LesionInput(
                segment=segment,
                lesion_type=rng.choice(["stenosis", "occlusion"]),
                length_cm=Decimal(rng.randint(2, 18)),
                calcification=rng.choice(["none", "mild", "moderate", "severe"]),
                techniques=techniques,
                glass_grade=rng.randint(1, 4) if tibial else None,
                residual_stenosis_pct=rng.choice([0, 10, 20, 20, 40]),
            ),
        )
    if kind == "venous_ablation":
        return (
            LesionInput(
                "gsv",
                "reflux",
                Decimal(rng.randint(20, 45)),
                techniques=(rng.choice(["rfa", "evla", "glue"]),),
            ),
        )
    if kind == "venous_endovascular":
        return (
            LesionInput(
                "iliac_vein", "stenosis", Decimal(rng.randint(4, 10)), techniques=("venous_stent",)
            ),
        )
    return ()


@transaction.atomic
def ensure_outcomes_demo(centers: dict[str, Center], *, patients: int = PATIENTS) -> int:
    """Create the demo program cohort; returns the patients created (0 if present)."""
    if Patient.objects.filter(mrn__startswith=MRN_PREFIX).exists():
        return 0
    operator = User.objects.get(username=OPERATOR)
    today = timezone.localdate()
    start = program_start(today)
    rng = random.Random(SEED)  # noqa: S311 (seeded synthetic data, never secrets)
    slugs = sorted(centers)
    for index in range(patients):
        _one(rng, index, operator, centers[slugs[index % len(slugs)]], today, start)
    return patients


def _one(
    rng: random.Random,
    index: int,
    operator: User,
    center: Center,
    today: dt.date,
    start: dt.date,
) -> None:
    who = person(SEED, index, today=today)
    birth = min(who.birth_date, today - dt.timedelta(days=50 * 365))
    patient = do_create_patient(
        acting_user=None,
        home_center=center,
        mrn=f"{MRN_PREFIX}{index + 1:04d}",
        given_name=who.given_name,
        family_name=who.family_name,
        birth_date=birth,
        sex=who.sex,
    )
    index_date = today - dt.timedelta(days=rng.randint(30, WINDOW_DAYS))
    profile = _profile(rng, index_date < start)
    limb = patient.limbs.get(side=rng.choice(["left", "right"]))
    kind = profile.kind
    intervention = do_log_procedure(
        acting_user=operator,
        patient=patient,
        limb=limb,
        kind=kind,
        performed_on=index_date,
        indication=profile.indication,
        access=""
        if kind == "bypass"
        else (
            "venous_saphenous"
            if kind == "venous_ablation"
            else "venous_femoral"
            if kind == "venous_endovascular"
            else rng.choice(["femoral_antegrade", "femoral_retrograde", "pedal"])
        ),
        conduit="gsv_reversed" if kind == "bypass" else "",
        lesions=_lesions(rng, kind),
        wifi_stage=profile.wifi,
    )
    do_record_event(
        acting_user=operator,
        patient=patient,
        kind="status",
        occurred_on=index_date,
        ambulatory=rng.choices(["independent", "with_assistance", "wheelchair"], [70, 22, 8])[0],
        living=rng.choices(["home", "home_with_help", "nursing_home"], [75, 18, 7])[0],
    )
    horizon = (today - index_date).days
    amputation = _after(rng, profile.amputation_1y)
    death = _after(rng, profile.death_1y)
    if amputation is not None and (
        amputation > horizon or (death is not None and death < amputation)
    ):
        amputation = None
    if amputation is not None:
        # After a major amputation: 30-day mortality ~13 %, 1-year ~45 % (Jones 2013).
        draw = rng.random()
        later = rng.randint(1, 29) if draw < 0.12 else rng.randint(31, 365) if draw < 0.45 else None
        death = amputation + later if later is not None else None
    lost = rng.randint(60, 900) if rng.random() < 0.15 else None  # lost to follow-up
    end = min(d for d in (horizon, death, lost) if d is not None)
    _follow_up(rng, operator, patient, limb, intervention, end, amputation, index_date < start)
    if profile.indication == "tissue_loss":
        healed = rng.randint(40, 250)
        if healed < end and (amputation is None or healed < amputation) and rng.random() < 0.65:
            do_record_event(
                acting_user=operator,
                patient=patient,
                kind="wound_healed",
                limb=limb,
                occurred_on=index_date + dt.timedelta(days=healed),
            )
    if kind in ("arterial_endovascular", "bypass"):
        reintervention = _after(rng, 0.10)
        if (
            reintervention is not None
            and 20 < reintervention < end
            and (amputation is None or reintervention < amputation)
        ):
            do_record_event(
                acting_user=operator,
                patient=patient,
                kind="reintervention",
                limb=limb,
                occurred_on=index_date + dt.timedelta(days=reintervention),
                major_reintervention=rng.random() < 0.4,
                performed_elsewhere=True,
            )
    if amputation is not None:
        on = index_date + dt.timedelta(days=amputation)
        do_record_event(
            acting_user=operator,
            patient=patient,
            kind="major_amputation",
            limb=limb,
            occurred_on=on,
            amputation_level=rng.choice(["below_knee", "below_knee", "above_knee"]),
            performed_elsewhere=True,
            notes="recorded from the program's history",
        )
        plan = getattr(intervention, "surveillance", None)
        if plan is not None:
            do_close_plan(acting_user=operator, plan=plan, reason="major amputation of the limb")
        # Survivors are seen after the amputation: their status is recorded (contact).
        for later_day in (amputation + 90, amputation + 200, amputation + 400):
            if later_day < end and (death is None or later_day < death):
                do_record_event(
                    acting_user=operator,
                    patient=patient,
                    kind="status",
                    occurred_on=index_date + dt.timedelta(days=later_day),
                    ambulatory=rng.choice(["with_assistance", "wheelchair"]),
                )
        if on + dt.timedelta(days=3) <= today and (death is None or death > amputation + 3):
            task = do_create_task(
                acting_user=operator,
                patient=patient,
                discipline="rehabilitation",
                kind="referral",
                title="Rehabilitation and prosthetic assessment",
                refer_to="Regional amputee clinic",
                due_on=today + dt.timedelta(days=rng.randint(0, 21)),
                limb=limb,
            )
            if rng.random() < 0.5:
                do_complete_task(
                    acting_user=operator, task=task, note="Seen; prosthesis fitting booked."
                )
    if death is not None and death <= horizon:
        do_record_event(
            acting_user=operator,
            patient=patient,
            kind="death",
            occurred_on=index_date + dt.timedelta(days=death),
            cause_of_death=rng.choice(["cardiac", "sepsis", "unknown", "stroke"]),
        )
    elif (
        end == horizon and profile.indication in ("tissue_loss", "rest_pain") and rng.random() < 0.3
    ):
        do_create_task(
            acting_user=operator,
            patient=patient,
            limb=limb,
            discipline=rng.choice(["wound_care", "podiatry", "endocrinology", "smoking_cessation"]),
            title="Review after revascularization",
            due_on=today + dt.timedelta(days=rng.randint(0, 30)),
        )


def _follow_up(
    rng: random.Random,
    operator: User,
    patient: Patient,
    limb: Limb,
    intervention: Intervention,
    end: int,
    amputation: int | None,
    before: bool,
) -> None:
    plan = getattr(intervention, "surveillance", None)
    if plan is None:
        return
    attendance = 0.6 if before else 0.85
    for visit in list(plan.visits.all()):
        day = visit.offset_days + rng.randint(-10, 25)
        if day >= end or (amputation is not None and day >= amputation):
            break
        if rng.random() < attendance:
            do_record_followup(
                acting_user=operator,
                patient=patient,
                limb=intervention.limb,
                done_on=intervention.performed_on + dt.timedelta(days=day),
                abi=Decimal(rng.randint(55, 110)) / 100,
                duplex=rng.choices(["patent", "restenosis", "occluded"], [80, 15, 5])[0],
            )
