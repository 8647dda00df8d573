"""One synthetic person's FHIR R4 resources and known truth, from (seed, index).

Pure and deterministic: `simulate(seed, index, as_of=..., centers=...)` depends on its
arguments only, so people can be generated one at a time (memory stays flat) in any
order. The disease model and its rates are in `epidemiology.py`; the codes in
`codes.py`; the truth fields in `truth.py`.

The story of a person, over the three years before ``as_of``:
  risk factors (diabetes, smoking, CKD) → PAD (age-band prevalence with odds ratios)
  → claudication or CLTI (diagnosed or not) → revascularization or not → major
  amputation and death at the published one-year rates; diabetic foot ulcers (ischemic
  or not) with wound measurements and minor amputations; chronic venous disease,
  venous ulcers, ablation; DVT; vascular studies (ABI/TBI/toe pressure/TcPO2, duplex)
  for some; HbA1c, eGFR and smoking status; one Encounter per visit day.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from limbguard.fhir import terminology as term
from limbguard.synth import codes as sc
from limbguard.synth import epidemiology as ep
from limbguard.synth import truth
from limbguard.synth.people import person
from limbguard.vascular import codes

WINDOW_DAYS: Final = 3 * 365
SIDES: Final = ("right", "left")
SIDE_CODING: Final = {
    side: {"coding": [term.coding(term.SNOMED, term.LATERALITY_SNOMED[side], side.title())]}
    for side in ("right", "left", "bilateral")
}
CATEGORY = {
    name: [{"coding": [term.coding(term.OBSERVATION_CATEGORY, name)]}]
    for name in ("laboratory", "exam", "imaging", "social-history")
}
CLINICAL_ACTIVE: Final = {"coding": [term.coding(term.CONDITION_CLINICAL, "active")]}
VERIFIED: Final = {"coding": [term.coding(term.CONDITION_VERIFICATION, "confirmed")]}
SMOKING_ANSWERS: Final = {
    "current": sc.snomed("smoking", "449868002"),
    "former": ("8517006", codes.label("SNOMED", "8517006") or "Former smoker"),
    "never": ("266919005", codes.label("SNOMED", "266919005") or "Never smoker"),
}
HBA1C: Final = sc.loinc("hba1c", "4548-4")
EGFR: Final = sc.loinc("egfr", "98979-8")
SMOKING_STATUS: Final = sc.loinc("smoking_status", "72166-2")
WOUND_PANEL: Final = sc.loinc("wound_measurement", "72287-6")
WOUND_LENGTH: Final = sc.loinc("wound_measurement", "39126-8")
WOUND_WIDTH: Final = sc.loinc("wound_measurement", "39125-0")
WOUND_AREA: Final = sc.loinc("wound_measurement", "89260-4")
ABI_SNOMED: Final = sc.snomed("vascular_study", "446841001")


MAX_DAYS_BACK: Final = 12_000  # onsets reach back at most ~25 years


@lru_cache(maxsize=4)
def _iso_dates(as_of: dt.date) -> tuple[str, ...]:
    """ISO dates of the days before `as_of` (index = days back), made once per export."""
    return tuple((as_of - dt.timedelta(days=day)).isoformat() for day in range(MAX_DAYS_BACK))


@lru_cache(maxsize=1024)
def _categories(system: str, code: str) -> frozenset[str]:
    return frozenset(str(category) for category in codes.categorize(system, code))


@dataclass
class Person:
    """Everything written for one person: resources by type, and the truth record."""

    resources: list[tuple[str, dict[str, Any]]]
    truth: dict[str, Any]


@dataclass
class _Builder:
    pid: str
    as_of: dt.date
    rng: random.Random
    resources: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    visits: dict[int, tuple[str, bool]] = field(default_factory=dict)
    categories: set[str] = field(default_factory=set)
    evaluations: list[int] = field(default_factory=list)
    abis: list[tuple[int, float, str]] = field(default_factory=list)
    amputations: list[tuple[int, str, str]] = field(default_factory=list)
    serial: int = 0
    death_day: int | None = None

    # Days are counted back from as_of: day 0 is as_of, day 30 a month before.
    def date(self, day: int) -> str:
        return _iso_dates(self.as_of)[day]

    def stamp(self, day: int, minute: int = 0) -> str:
        """A clinic-hours instant in UTC, `minute` after the day's first visit
        (16:00-21:00Z is morning to early afternoon in Los Angeles)."""
        start = (16 + (day * 7) % 5) * 60 + minute
        return f"{_iso_dates(self.as_of)[day]}T{start // 60:02d}:{start % 60:02d}:00Z"

    def next_id(self, kind: str) -> str:
        self.serial += 1
        return f"{self.pid}-{kind}{self.serial}"

    def alive(self, day: int) -> bool:
        return self.death_day is None or day >= self.death_day

    def die(self, day: int) -> None:
        """Death on `day`, unless an earlier death (a larger day) is already set."""
        self.death_day = day if self.death_day is None else max(self.death_day, day)

    def encounter(self, day: int, *, inpatient: bool = False) -> dict[str, str]:
        known = self.visits.get(day)
        if known is None or (inpatient and not known[1]):
            encounter_id = known[0] if known else self.next_id("e")
            self.visits[day] = (encounter_id, inpatient)
        return {"reference": f"Encounter/{self.visits[day][0]}"}

    def add(self, resource_type: str, resource: dict[str, Any]) -> None:
        self.resources.append((resource_type, resource))

    # --- resources --------------------------------------------------------------

    def condition(
        self,
        coding: tuple[str, str],
        *,
        system: str,
        onset_day: int,
        side: str | None = None,
    ) -> None:
        code, display = coding
        if self.death_day is not None:
            onset_day = max(onset_day, self.death_day)
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "id": self.next_id("c"),
            "clinicalStatus": CLINICAL_ACTIVE,
            "verificationStatus": VERIFIED,
            "category": [
                {
                    "coding": [
                        term.coding(
                            "http://terminology.hl7.org/CodeSystem/condition-category",
                            "problem-list-item",
                        )
                    ]
                }
            ],
            "code": {"coding": [term.coding(term.SYSTEM_URIS[system], code, display)]},
            "subject": {"reference": f"Patient/{self.pid}"},
            "onsetDateTime": self.date(onset_day),
        }
        if side:
            resource["bodySite"] = [SIDE_CODING[side]]
        self.add("Condition", resource)
        self.categories |= _categories(system, code)

    def procedure(
        self, coding: tuple[str, str], *, day: int, side: str | None, inpatient: bool = False
    ) -> None:
        code, display = coding
        resource: dict[str, Any] = {
            "resourceType": "Procedure",
            "id": self.next_id("pr"),
            "status": "completed",
            "code": {"coding": [term.coding(term.CPT, code, display)]},
            "subject": {"reference": f"Patient/{self.pid}"},
            "encounter": self.encounter(day, inpatient=inpatient),
            "performedDateTime": self.stamp(day, 30),
        }
        if side:
            resource["bodySite"] = [SIDE_CODING[side]]
        self.add("Procedure", resource)
        found = _categories("CPT", code)
        self.categories |= found & {"major_amputation", "minor_amputation"}
        if "vascular_study" in found:
            self.evaluations.append(day)
        if "major_amputation" in found and side:
            self.amputations.append((day, side, code))

    def observation(
        self,
        code: list[dict[str, str]],
        *,
        day: int,
        category: str,
        value: dict[str, Any],
        side: str | None = None,
        minute: int = 0,
    ) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": self.next_id("o"),
            "status": "final",
            "category": CATEGORY[category],
            "code": {"coding": code},
            "subject": {"reference": f"Patient/{self.pid}"},
            "encounter": self.encounter(day),
            "effectiveDateTime": self.stamp(day, minute),
            **value,
        }
        if side:
            resource["bodySite"] = SIDE_CODING[side]
        self.add("Observation", resource)
        return resource

    def measure(self, name: str, value: float, *, day: int, side: str, unit: str) -> None:
        """A LimbGuard vascular measurement (ABI, TBI, pressures); counts as evaluation."""
        coding = [term.concept(name)]
        if name == "abi":
            coding.append(term.coding(term.SNOMED, *ABI_SNOMED))
        quantity: dict[str, Any] = {"value": value, "unit": unit, "system": term.UCUM}
        quantity["code"] = unit
        self.observation(
            coding, day=day, category="exam", value={"valueQuantity": quantity}, side=side
        )
        if name in truth.EVALUATION_OBSERVATION_CODES:
            self.evaluations.append(day)
        if name == "abi":
            self.abis.append((day, value, side))

    def lab(self, coding: tuple[str, str], value: float, unit: str, *, day: int) -> None:
        self.observation(
            [term.coding(term.LOINC, *coding)],
            day=day,
            category="laboratory",
            value={
                "valueQuantity": {"value": value, "unit": unit, "system": term.UCUM, "code": unit}
            },
        )


def _vascular_study(
    b: _Builder, day: int, *, abi: tuple[float, float], clti: bool, diabetic: bool
) -> None:
    """An ABI study (CPT 93922/93923) with per-side ABI, and toe pressures when needed."""
    if not b.alive(day):
        return
    rng = b.rng
    b.procedure(rng.choice(sc.ABI_STUDY), day=day, side=None)
    for side, value in zip(SIDES, abi, strict=True):
        noncompressible = diabetic and rng.random() < 0.1
        shown = round(rng.uniform(1.41, 1.6), 2) if noncompressible else value
        b.measure("abi", shown, day=day, side=side, unit="1")
        if noncompressible or clti:
            toe = rng.randint(15, 45) if clti else rng.randint(50, 90)
            b.measure("toe-pressure", toe, day=day, side=side, unit="mm[Hg]")
            b.measure("tbi", round(toe / rng.randint(120, 160), 2), day=day, side=side, unit="1")
    if clti:
        side = SIDES[0] if abi[0] <= abi[1] else SIDES[1]
        b.measure("tcpo2", rng.randint(8, 35), day=day, side=side, unit="mm[Hg]")


def _arterial_duplex(b: _Builder, day: int, side: str, severe: bool) -> None:
    if not b.alive(day):
        return
    b.procedure(b.rng.choice(sc.ARTERIAL_DUPLEX), day=day, side=side)
    grade = "occlusion" if severe and b.rng.random() < 0.5 else ("50-99%" if severe else "<50%")
    b.observation(
        [term.concept("arterial-duplex")],
        day=day,
        category="imaging",
        value={"valueString": grade},
        side=side,
        minute=10,
    )


def _wounds(b: _Builder, start: int, side: str, count: int) -> None:
    """Wound size panels every 2-4 weeks, shrinking (or not) over time."""
    rng = b.rng
    length, width = round(rng.uniform(1.0, 5.0), 1), round(rng.uniform(0.8, 4.0), 1)
    day = start
    for _ in range(count):
        if day < 0 or not b.alive(day):
            break
        components = [
            {
                "code": {"coding": [term.coding(term.LOINC, *coding)]},
                "valueQuantity": {"value": value, "unit": unit, "system": term.UCUM, "code": unit},
            }
            for coding, value, unit in (
                (WOUND_LENGTH, length, "cm"),
                (WOUND_WIDTH, width, "cm"),
                (WOUND_AREA, round(length * width * 0.785, 1), "cm2"),
            )
        ]
        b.observation(
            [term.coding(term.LOINC, *WOUND_PANEL)],
            day=day,
            category="exam",
            side=side,
            minute=20,
            value={"component": components},
        )
        shrink = rng.uniform(0.7, 1.05)
        length, width = round(max(0.2, length * shrink), 1), round(max(0.2, width * shrink), 1)
        day -= rng.randint(14, 28)


@dataclass
class _State:
    """What a person has; drawn once, then written out by the steps below."""

    age: int
    side: str
    diabetic: bool
    type1: bool
    smoking: str
    ckd_stage: str | None
    pad: bool
    clti: bool
    pad_diagnosed: bool
    dfu: bool
    cvd: bool
    venous_ulcer: bool
    dvt: bool
    use_snomed: bool
    abi: tuple[float, float] = (1.1, 1.1)
    clti_day: int | None = None

    @property
    def digit(self) -> str:
        return sc.SIDE_DIGIT[self.side]

    @property
    def group(self) -> str:
        """The evaluation group of `epidemiology.EVALUATED_LAST_YEAR`."""
        if self.clti:
            return "clti"
        if self.pad:
            return "claudication" if self.pad_diagnosed else "undiagnosed_pad"
        if self.dfu:
            return "diabetic_foot_ulcer"
        return "venous" if self.cvd or self.dvt else "none"


def _draw_state(rng: random.Random, age: int) -> _State:
    diabetic = rng.random() < ep.by_age(ep.DIABETES_BY_AGE, age)
    smoke = rng.random()
    smoking = (
        "current"
        if smoke < ep.CURRENT_SMOKING
        else ("former" if smoke < ep.CURRENT_SMOKING + ep.FORMER_SMOKING else "never")
    )
    ckd_stage: str | None = None
    if rng.random() < ep.by_age(ep.CKD_BY_AGE, age):
        stages = [stage for stage, _ in ep.CKD_STAGE_SHARES]
        ckd_stage = rng.choices(stages, [share for _, share in ep.CKD_STAGE_SHARES])[0]
    pad = rng.random() < ep.pad_probability(
        age=age, diabetes=diabetic, current_smoker=smoking == "current", ckd=ckd_stage is not None
    )
    clti = pad and rng.random() < ep.CLTI_SHARE_OF_PAD
    dfu = diabetic and rng.random() < ep.DFU_PREVALENCE_IN_DIABETES
    if dfu and rng.random() < ep.DFU_ISCHEMIC_SHARE:
        pad = clti = True  # an ischemic ulcer is tissue loss: CLTI (GVG; §6.2)
    cvd = rng.random() < ep.CVD_PREVALENCE
    state = _State(
        age=age,
        side=rng.choice(SIDES),
        diabetic=diabetic,
        type1=diabetic and rng.random() < ep.TYPE_1_SHARE_OF_DIABETES,
        smoking=smoking,
        ckd_stage=ckd_stage,
        pad=pad,
        clti=clti,
        pad_diagnosed=pad and (clti or rng.random() < ep.PAD_DIAGNOSED_SHARE),
        dfu=dfu,
        cvd=cvd,
        venous_ulcer=cvd and rng.random() < ep.VENOUS_ULCER_SHARE_OF_CVD,
        dvt=rng.random() < ep.DVT_HISTORY,
        use_snomed=rng.random() < 0.25,  # some sources code problems in SNOMED CT only
    )
    if (
        state.pad
        and not state.pad_diagnosed
        and rng.random() < 3 * ep.CLAUDICATION_TO_CLTI_PER_YEAR
    ):
        state.clti = state.pad_diagnosed = True  # progressed within the window
    # ABI by state (GVG: CLTI ABI usually < 0.4-0.5; PAD < 0.90; §6.2).
    if state.clti:
        worst = round(rng.uniform(0.2, 0.5), 2)
    elif state.pad:
        worst = round(rng.uniform(0.5, 0.89), 2)
    else:
        worst = round(rng.uniform(0.95, 1.3), 2)
    other = round(min(1.3, worst + rng.uniform(0.05, 0.4)), 2) if state.pad else worst
    state.abi = (worst, other) if state.side == "right" else (other, worst)
    return state


def _pad(b: _Builder, s: _State) -> None:
    """PAD diagnosis; for CLTI: work-up, revascularization or not, amputation, death."""
    rng = b.rng
    if not s.pad_diagnosed:
        return
    onset = rng.randint(120, 3000)
    if s.clti:
        s.clti_day = rng.randint(30, WINDOW_DAYS)
        onset = max(onset, s.clti_day)
    if s.diabetic and rng.random() < 0.4:
        b.condition(
            sc.icd("pad", "E10.51" if s.type1 else "E11.51"), system="ICD10CM", onset_day=onset
        )
    elif s.use_snomed:
        b.condition(sc.snomed("pad", "399957001"), system="SNOMED", onset_day=onset)
    else:
        code = sc.icd("pad", f"I70.21{s.digit}")
        b.condition(code, system="ICD10CM", onset_day=onset, side=s.side)
    if s.clti_day is None or not b.alive(s.clti_day):
        return
    day = s.clti_day
    if s.dfu:
        if s.use_snomed:
            b.condition(sc.snomed("clti", "238794007"), system="SNOMED", onset_day=day, side=s.side)
        else:
            block = "I70.23" if s.side == "right" else "I70.24"
            code = sc.icd("clti", f"{block}{rng.choice('45')}")
            b.condition(code, system="ICD10CM", onset_day=day, side=s.side)
    elif rng.random() < 0.2:
        b.condition(
            sc.icd("gangrene", f"I70.26{s.digit}"), system="ICD10CM", onset_day=day, side=s.side
        )
    elif s.use_snomed:
        b.condition(sc.snomed("clti", "792844003"), system="SNOMED", onset_day=day, side=s.side)
    else:
        b.condition(
            sc.icd("clti", f"I70.22{s.digit}"), system="ICD10CM", onset_day=day, side=s.side
        )

    last = day
    if rng.random() < ep.CLTI_REVASCULARIZED:
        work_up = max(0, day - rng.randint(0, 10))
        _vascular_study(b, work_up, abi=s.abi, clti=True, diabetic=s.diabetic)
        _arterial_duplex(b, work_up, s.side, severe=True)
        last = max(0, work_up - rng.randint(5, 40))
        if b.alive(last):
            if rng.random() < ep.ENDOVASCULAR_SHARE:
                territory = rng.choice((sc.FEMPOP_ENDO, sc.TIBIAL_ENDO, sc.ILIAC_ENDO))
                b.procedure(rng.choice(territory), day=last, side=s.side)
            else:
                b.procedure(rng.choice(sc.BYPASS), day=last, side=s.side, inpatient=True)
        amputation_p, death_p = ep.CLTI_REVASC_MAJOR_AMPUTATION_1Y, ep.CLTI_REVASC_DEATH_1Y
    else:
        amputation_p, death_p = ep.CLTI_NO_REVASC_MAJOR_AMPUTATION_1Y, ep.CLTI_NO_REVASC_DEATH_1Y
        if rng.random() > ep.NO_EVALUATION_BEFORE_MAJOR_AMPUTATION:
            study = max(0, day - rng.randint(0, 60))
            _vascular_study(b, study, abi=s.abi, clti=True, diabetic=s.diabetic)
    amputation_day = last - rng.randint(20, 330)
    if rng.random() < amputation_p and amputation_day >= 0 and b.alive(amputation_day):
        level = "below_knee" if rng.random() < 0.6 else "above_knee"
        b.procedure(sc.MAJOR_AMPUTATIONS[level], day=amputation_day, side=s.side, inpatient=True)
        draw = rng.random()
        if draw < ep.DEATH_30D_AFTER_MAJOR_AMPUTATION:
            b.die(max(0, amputation_day - rng.randint(2, 30)))
        elif draw < ep.DEATH_1Y_AFTER_MAJOR_AMPUTATION:
            b.die(max(0, amputation_day - rng.randint(31, 365)))
    elif rng.random() < death_p:
        b.die(max(0, day - rng.randint(10, 365)))


def _foot(b: _Builder, s: _State) -> None:
    """Diabetic foot ulcers (ischemic ones are written by `_pad`), wounds, amputations."""
    rng = b.rng
    if s.dfu and not s.clti:
        onset = rng.randint(20, 400)
        code = sc.icd("diabetic_foot_ulcer", "E10.621" if s.type1 else "E11.621")
        b.condition(code, system="ICD10CM", onset_day=onset, side=s.side)
        ulcer = sc.icd_plain(f"L97.{rng.choice('45')}{s.digit}{rng.choice('129')}")
        b.condition(ulcer, system="ICD10CM", onset_day=onset, side=s.side)
        if rng.random() < 0.1:
            code = sc.icd("osteomyelitis", f"M86.17{s.digit}")
            b.condition(code, system="ICD10CM", onset_day=max(0, onset - 20), side=s.side)
        if rng.random() < ep.DFU_MINOR_AMPUTATION:
            day = max(0, onset - rng.randint(20, 120))
            if b.alive(day):
                level = rng.choice(tuple(sc.MINOR_AMPUTATIONS))
                b.procedure(sc.MINOR_AMPUTATIONS[level], day=day, side=s.side, inpatient=True)
        _wounds(b, onset, s.side, rng.randint(2, 5))
    elif s.dfu and s.clti_day is not None:
        _wounds(b, s.clti_day, s.side, rng.randint(2, 5))
    # Background diabetic minor amputations (Geiss 2015) over the 3-year window.
    if s.diabetic and not s.dfu and rng.random() < 3 * ep.DIABETES_MINOR_AMPUTATION_PER_YEAR:
        day = rng.randint(30, WINDOW_DAYS)
        if b.alive(day):
            b.procedure(sc.MINOR_AMPUTATIONS["toe"], day=day, side=s.side, inpatient=True)
            status = sc.icd("minor_amputation", f"Z89.42{s.digit}")
            b.condition(status, system="ICD10CM", onset_day=max(0, day - 30), side=s.side)


def _risk_factors(b: _Builder, s: _State) -> None:
    """Diabetes, CKD and smoking as conditions; HbA1c, eGFR and smoking status."""
    rng = b.rng
    if s.diabetic:
        onset = rng.randint(400, 5000)
        if s.use_snomed and not s.type1:
            b.condition(sc.snomed("diabetes", "44054006"), system="SNOMED", onset_day=onset)
        else:
            code = sc.icd("diabetes", "E10.9" if s.type1 else "E11.9")
            b.condition(code, system="ICD10CM", onset_day=onset)
        if rng.random() < ep.HBA1C_MEASURED:
            for _ in range(rng.randint(1, 3)):
                day = rng.randint(5, 360)
                if b.alive(day):
                    b.lab(HBA1C, round(rng.uniform(5.8, 11.5), 1), "%", day=day)
    low, high = 60, 105
    if s.ckd_stage is not None:
        dialysis = s.ckd_stage == "G5" and rng.random() < ep.DIALYSIS_SHARE_OF_G5
        ckd_code = "N18.6" if dialysis else CKD_CODES[s.ckd_stage]
        b.condition(sc.icd("ckd", ckd_code), system="ICD10CM", onset_day=rng.randint(200, 3000))
        if dialysis:
            b.condition(sc.icd("ckd", "Z99.2"), system="ICD10CM", onset_day=rng.randint(30, 700))
        low, high = EGFR_RANGES[s.ckd_stage]
    if (s.ckd_stage or s.diabetic or rng.random() < 0.4) and rng.random() < ep.EGFR_MEASURED:
        day = rng.randint(5, 360)
        if b.alive(day):
            b.lab(EGFR, rng.randint(low, high), "mL/min/{1.73_m2}", day=day)
    if s.smoking == "current":
        code = sc.icd("smoking", "F17.210")
        b.condition(code, system="ICD10CM", onset_day=rng.randint(400, 9000))
    if rng.random() < ep.SMOKING_STATUS_RECORDED:
        day = rng.randint(5, 500)
        if b.alive(day):
            answer = SMOKING_ANSWERS[s.smoking]
            b.observation(
                [term.coding(term.LOINC, *SMOKING_STATUS)],
                day=day,
                category="social-history",
                value={"valueCodeableConcept": {"coding": [term.coding(term.SNOMED, *answer)]}},
            )
            b.categories |= _categories("SNOMED", answer[0]) & {"smoking"}


def _venous(b: _Builder, s: _State) -> None:
    rng = b.rng
    if s.cvd:
        onset = rng.randint(200, 4000)
        if s.venous_ulcer:
            code = sc.icd("venous_ulcer", f"I87.31{s.digit}")
            ulcer_day = rng.randint(20, 300)
            b.condition(code, system="ICD10CM", onset_day=ulcer_day, side=s.side)
            _wounds(b, ulcer_day, s.side, rng.randint(2, 4))
        elif s.use_snomed:
            b.condition(sc.snomed("cvi", "72866009"), system="SNOMED", onset_day=onset)
        else:
            code = sc.icd("cvi", rng.choice(("I87.2", f"I83.9{s.digit}")))
            b.condition(code, system="ICD10CM", onset_day=onset, side=s.side)
        if rng.random() < ep.VENOUS_ABLATION_SHARE_OF_CVD:
            day = rng.randint(30, WINDOW_DAYS - 30)
            if b.alive(day):
                b.procedure(rng.choice(sc.VENOUS_DUPLEX), day=day + 14, side=s.side)
                b.procedure(rng.choice(sc.VENOUS_ABLATION), day=day, side=s.side)
    if s.dvt:
        day = rng.randint(30, 3000)
        acute = day < 180
        if s.use_snomed:
            b.condition(sc.snomed("dvt", "128053003"), system="SNOMED", onset_day=day)
        else:
            vein = rng.choice("134" if acute else "13")
            code = sc.icd("dvt", f"I82.{4 if acute else 5}{vein}{s.digit}")
            b.condition(code, system="ICD10CM", onset_day=day, side=s.side)
        if acute and b.alive(day):
            b.procedure(rng.choice(sc.VENOUS_DUPLEX), day=day, side=s.side)


CKD_CODES: Final = {"G3a": "N18.31", "G3b": "N18.32", "G4": "N18.4", "G5": "N18.5"}
EGFR_RANGES: Final = {"G3a": (45, 59), "G3b": (30, 44), "G4": (15, 29), "G5": (5, 14)}


def simulate(seed: int, index: int, *, as_of: dt.date, centers: tuple[str, ...]) -> Person:
    """The `index`-th person of the population `seed`, seen on `as_of`."""
    who = person(seed, index, today=as_of)
    rng = random.Random(f"synth:{seed}:{index}")
    b = _Builder(pid=f"s{seed}-{index}", as_of=as_of, rng=rng)
    s = _draw_state(rng, (as_of - who.birth_date).days // 365)
    center = centers[index % len(centers)]

    if rng.random() < 3 * ep.by_age(ep.BACKGROUND_DEATH_PER_YEAR, s.age):
        b.die(rng.randint(0, WINDOW_DAYS - 200))
    # Outcomes first (they may set the death day), then everything dated that must
    # not fall after death.
    _pad(b, s)
    _foot(b, s)
    _risk_factors(b, s)
    _venous(b, s)
    if rng.random() < ep.EVALUATED_LAST_YEAR[s.group]:
        day = rng.randint(0, truth.EVALUATION_WINDOW_DAYS - 1)
        _vascular_study(b, day, abi=s.abi, clti=s.clti, diabetic=s.diabetic)
    if s.group != "none" and rng.random() < ep.EVALUATED_EARLIER:
        day = rng.randint(truth.EVALUATION_WINDOW_DAYS + 1, WINDOW_DAYS)
        _vascular_study(b, day, abi=s.abi, clti=s.clti, diabetic=s.diabetic)

    resources = [("Patient", _patient(who, b.pid, center, b)), *_encounters(b), *b.resources]
    return Person(resources=resources, truth=_truth(b, who.mrn, center))


def _patient(who: Any, pid: str, center: str, b: _Builder) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"system": term.IDENTIFIER_MRN, "value": who.mrn}],
        "active": True,
        "name": [{"use": "official", "family": who.family_name, "given": [who.given_name]}],
        "telecom": [{"system": "phone", "value": who.phone, "use": "home"}],
        "gender": who.sex,
        "birthDate": who.birth_date.isoformat(),
        "address": [{"line": [who.address_line], "state": "CA", "country": "US"}],
        "managingOrganization": {
            "identifier": {"system": term.IDENTIFIER_CENTER, "value": center},
        },
    }
    if b.death_day is not None:
        resource["deceasedDateTime"] = b.date(b.death_day)
    return resource


def _encounters(b: _Builder) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for day, (encounter_id, inpatient) in sorted(b.visits.items(), reverse=True):
        end_day = max(0, day - 3) if inpatient else day
        out.append(
            (
                "Encounter",
                {
                    "resourceType": "Encounter",
                    "id": encounter_id,
                    "status": "finished",
                    "class": term.coding(
                        term.ACT_CODE,
                        "IMP" if inpatient else "AMB",
                        "inpatient encounter" if inpatient else "ambulatory",
                    ),
                    "type": [
                        {
                            "text": "Vascular surgery admission"
                            if inpatient
                            else "Vascular clinic visit"
                        }
                    ],
                    "subject": {"reference": f"Patient/{b.pid}"},
                    "period": {"start": b.stamp(day), "end": b.stamp(end_day, 45)},
                },
            )
        )
    return out


def _truth(b: _Builder, mrn: str, center: str) -> dict[str, Any]:
    categories = set(b.categories & truth.RISK_CATEGORIES)
    # The latest ABI study's lower value (the worse leg).
    latest_abi = min(b.abis, key=lambda a: (a[0], a[1])) if b.abis else None
    if latest_abi is not None and latest_abi[1] <= truth.LOW_ABI:
        categories.add("low_abi")
    last_evaluation = min(b.evaluations) if b.evaluations else None
    evaluated = last_evaluation is not None and last_evaluation < truth.EVALUATION_WINDOW_DAYS
    at_risk = bool(categories & truth.AT_RISK_CATEGORIES)
    return {
        "patient": b.pid,
        "mrn": mrn,
        "center": center,
        "risk_categories": sorted(categories),
        "at_risk": at_risk,
        "last_vascular_evaluation": b.date(last_evaluation)
        if last_evaluation is not None
        else None,
        "evaluated": evaluated,
        "unevaluated_at_risk": at_risk and not evaluated,
        "latest_abi": (
            {"value": latest_abi[1], "date": b.date(latest_abi[0]), "side": latest_abi[2]}
            if latest_abi
            else None
        ),
        "major_amputations": [
            {
                "date": b.date(day),
                "side": side,
                "code": code,
                "evaluated_90d": any(
                    day <= e <= day + truth.AMPUTATION_LOOKBACK_DAYS for e in b.evaluations
                ),
            }
            for day, side, code in sorted(b.amputations, reverse=True)
        ],
        "deceased": b.date(b.death_day) if b.death_day is not None else None,
        "as_of": b.as_of.isoformat(),
    }
