"""The limb salvage pathway of one limb: pure functions over plain facts.

From the latest evaluations of a limb, the patient's risk factors and the limb's open
wounds this decides (DESIGN.md, "Clinical pathway"):

* the problem type (arterial, venous, mixed, undetermined);
* the urgency (emergent, urgent, routine) and every rule that fired;
* the missing work-up;
* the revascularization candidacy (WIfI benefit, GLASS stage, GVG recommendations);
* the care-team needs.

No Django: `services.limb_facts()` builds the inputs, and the CDS Hooks service (issue
8) can build them from FHIR instead. Every threshold is a named constant with its
citation; every finding carries the code of its rule and its source.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from limbguard.assessments.staging import StagingValues
from limbguard.vascular import infection, rutherford, wifi

PROGRAM_SOURCE: Final = "LimbGuard program rule (DESIGN.md 'Clinical pathway', issue 5)"
AHA_2016: Final = (
    "2016 AHA/ACC PAD guideline (Gerhard-Herman et al., Circulation 2017;135:e726-e779)"
)
GVG_2019: Final = (
    "Conte MS et al. Global vascular guidelines on CLTI, J Vasc Surg 2019;69(6S):3S-125S"
)
IWGDF_2023: Final = (
    "IWGDF/IDSA 2023 diabetes-related foot infection guideline (Senneville et al., "
    "Clin Infect Dis 2023)"
)
SVS_AVF_2011: Final = (
    "Gloviczki P et al., SVS/AVF varicose vein guideline, J Vasc Surg 2011;53(5 Suppl):2S-48S"
)

# Work-up is "missing" when the last ABI/TBI or duplex of the limb is older than this.
# Program rule of issue 5; AHA 2016 (Class I) asks for a resting ABI to establish PAD and
# GVG 2019 (rec 1.3/6.15) for imaging before revascularization, without a time window.
WORKUP_WINDOW_DAYS: Final = 90
# HbA1c at or above this calls for endocrinology. ADA Standards of Care in Diabetes
# 2024, section 6: < 8 % is the least stringent usual goal, so >= 8 % is poor control
# for almost every patient (the threshold itself is the program rule of issue 5).
HBA1C_REFER_FROM_PERCENT: Final = Decimal("8.0")
ADA_2024: Final = "ADA Standards of Care in Diabetes 2024, section 6 (glycemic goals)"
# A glycated haemoglobin older than this is not used for a referral, and is missing
# work-up for a person with diabetes (ADA 2024 section 6: quarterly when not at goal).
HBA1C_VALID_DAYS: Final = 90
# WIfI clinical stage 4 = high estimated 1-year amputation risk (Mills 2014).
WIFI_URGENT_STAGE: Final = 4
# GVG 2019 recs 6.11/6.12: revascularization is offered for stage 4 and considered for
# stages 2-3 when ischaemia is I2-I3; rec 6.9/6.10: not for I0 or stage 1 unless the
# wound fails the 4-week rule.
REVASC_ISCHEMIA_FROM: Final = 2
WIFI_CONSIDER_STAGE: Final = 2
REVASC_WOUND_FROM: Final = 2  # GVG rec 6.9: W2/W3 wound in the ischaemic region
# IWGDF 2019/2023 PAD guideline (Hinchliffe 2020, Fitridge 2023): toe pressure < 30 mmHg
# or TcPO2 < 25 mmHg makes healing unlikely: urgent imaging and revascularization. The
# TcPO2 line differs between sources (25 IWGDF, 30 WIfI I3); the WIfI band is the
# default (clinical_reference 6.4).
SEVERE_TOE_PRESSURE_UNDER_MMHG: Final = 30
SEVERE_TCPO2_UNDER_MMHG: Final = 30
IWGDF_PAD: Final = "IWGDF 2019/2023 PAD guideline (Hinchliffe 2020; Fitridge 2023)"
# CEAP C3 and above: oedema, skin changes or ulcer, i.e. chronic venous insufficiency
# worth a venous work-up (Lurie 2020; SVS/AVF 2011 rec 2.1 duplex for CVD).
CEAP_VENOUS_PROBLEM_FROM: Final = 3
# Coded problems that mean a threatened limb: never evaluated here, such a limb is urgent
# (GVG 2019: every patient with suspected CLTI should be referred to a vascular
# specialist for limb salvage evaluation; the grouping is a program rule).
THREATENED_LIMB_CATEGORIES: Final = frozenset(
    {"clti", "gangrene", "diabetic_foot_ulcer", "osteomyelitis"}
)
# IWGDF grades (infection.CROSSWALK): 2 mild, 3 moderate, 4 severe (SIRS).
IWGDF_MILD: Final = 2
IWGDF_MODERATE: Final = 3
IWGDF_SEVERE: Final = 4


class Urgency(enum.StrEnum):
    EMERGENT = "emergent"
    URGENT = "urgent"
    ROUTINE = "routine"

    @property
    def rank(self) -> int:
        """0 for the most urgent: the worklist sorts on it."""
        return list(Urgency).index(self)


class ProblemType(enum.StrEnum):
    ARTERIAL = "arterial"
    VENOUS = "venous"
    MIXED = "mixed"
    UNDETERMINED = "undetermined"


class Candidacy(enum.StrEnum):
    RECOMMENDED = "recommended"
    CONSIDER = "consider"
    NOT_INDICATED = "not indicated"
    NOT_ASSESSED = "not assessed"


class CareNeed(enum.StrEnum):
    WOUND_CARE = "wound_care"
    PODIATRY = "podiatry"
    INFECTIOUS_DISEASE = "infectious_disease"
    ENDOCRINOLOGY = "endocrinology"
    SMOKING_CESSATION = "smoking_cessation"


CARE_NEED_LABELS: Final = {
    CareNeed.WOUND_CARE: "Wound care",
    CareNeed.PODIATRY: "Podiatry",
    CareNeed.INFECTIOUS_DISEASE: "Infectious disease",
    CareNeed.ENDOCRINOLOGY: "Endocrinology",
    CareNeed.SMOKING_CESSATION: "Smoking cessation",
}


@dataclass(frozen=True)
class Finding:
    """One fired rule: a stable code, what it means here, and its citation."""

    code: str
    text: str
    source: str


@dataclass(frozen=True)
class Evaluation:
    """One assessment of the limb (not entered in error) and its staging values."""

    on: dt.date
    values: StagingValues


@dataclass(frozen=True)
class WoundFacts:
    """An open wound of the limb; `off_track` from the 4-week rule (None: not judged)."""

    label: str
    off_track: bool | None = None
    plan_of_care_review: bool = False


@dataclass(frozen=True)
class PatientFacts:
    diabetic: bool = False
    current_smoker: bool = False
    hba1c_percent: Decimal | None = None
    hba1c_on: dt.date | None = None
    # Categories (limbguard.vascular.codes) of the active problems on this side.
    problem_categories: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LimbFacts:
    side: str
    today: dt.date
    evaluations: tuple[Evaluation, ...] = ()  # any order
    open_wounds: tuple[WoundFacts, ...] = ()
    patient: PatientFacts = field(default_factory=PatientFacts)
    major_amputation: bool = False


@dataclass(frozen=True)
class Revascularization:
    candidacy: Candidacy
    reasons: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Pathway:
    side: str
    problem_type: ProblemType
    problem_reasons: tuple[str, ...]
    urgency: Urgency
    urgency_rules: tuple[Finding, ...]
    missing_workup: tuple[Finding, ...]
    revascularization: Revascularization
    care_needs: tuple[Finding, ...]
    alerts: tuple[Finding, ...]
    last_evaluated_on: dt.date | None
    latest: StagingValues | None

    @property
    def rule(self) -> Finding | None:
        """The rule that set the urgency (the first of the most urgent level)."""
        return self.urgency_rules[0] if self.urgency_rules else None


def _latest(evaluations: Sequence[Evaluation]) -> Evaluation | None:
    return max(evaluations, key=lambda e: e.on, default=None)


def _within(on: dt.date | None, today: dt.date, days: int) -> bool:
    return on is not None and 0 <= (today - on).days <= days


def _last(evaluations: Sequence[Evaluation], wanted: str) -> dt.date | None:
    dates = [e.on for e in evaluations if _has(e.values, wanted)]
    return max(dates, default=None)


def _has(values: StagingValues, wanted: str) -> bool:
    if wanted == "abi":
        return values.abi is not None or values.tbi is not None
    if wanted == "toe":
        return values.tbi is not None
    if wanted == "arterial_imaging":
        return values.arterial_imaging
    return values.venous_imaging


def problem_type(facts: LimbFacts) -> tuple[ProblemType, tuple[str, ...]]:
    """Arterial and/or venous disease, from the latest findings and the coded problems."""
    latest = _latest(facts.evaluations)
    categories = facts.patient.problem_categories
    arterial: list[str] = []
    venous: list[str] = []
    if latest is not None:
        v = latest.values
        if v.pad == "present":
            arterial.append("PAD on ABI/TBI")
        if v.significant_stenosis:
            arterial.append("significant arterial stenosis on imaging")
        if v.i is not None and v.i >= 1:
            arterial.append(f"WIfI ischaemia I{v.i}")
        if v.pathological_reflux:
            venous.append("pathological venous reflux on duplex")
        if v.venous_obstruction:
            venous.append("venous obstruction or thrombus on duplex")
        if v.ceap_highest is not None and v.ceap_highest >= CEAP_VENOUS_PROBLEM_FROM:
            venous.append(f"CEAP C{v.ceap_highest}")
    for category, bucket in (
        ("pad", arterial),
        ("clti", arterial),
        ("cvi", venous),
        ("venous_ulcer", venous),
        ("dvt", venous),
    ):
        if category in categories:
            bucket.append(f"coded problem: {category}")
    if arterial and venous:
        kind = ProblemType.MIXED
    elif arterial:
        kind = ProblemType.ARTERIAL
    elif venous:
        kind = ProblemType.VENOUS
    else:
        kind = ProblemType.UNDETERMINED
    reasons = tuple(arterial + venous) or ("no arterial or venous disease recorded yet",)
    return kind, reasons


def _urgency_rules(v: StagingValues) -> list[tuple[Urgency, Finding]]:
    rules: list[tuple[Urgency, Finding]] = []
    if v.wet_gangrene:
        rules.append(
            (
                Urgency.EMERGENT,
                Finding(
                    "wet_gangrene",
                    "wet gangrene: urgent surgical drainage/debridement and antibiotics",
                    IWGDF_2023,
                ),
            )
        )
    if v.iwgdf == IWGDF_SEVERE:
        rules.append(
            (
                Urgency.EMERGENT,
                Finding(
                    "severe_infection",
                    f"severe foot infection (IWGDF {v.iwgdf}, SIRS): admit, IV antibiotics, "
                    "surgical review",
                    infection.SOURCE,
                ),
            )
        )
    if v.acute_class in ("IIb", "III"):
        rules.append(
            (
                Urgency.EMERGENT,
                Finding(
                    "acute_limb_ischemia_immediate",
                    f"acute limb ischaemia class {v.acute_class}: immediately threatened limb",
                    rutherford.ACUTE_SOURCE,
                ),
            )
        )
    if v.acute_class in ("I", "IIa"):
        rules.append(
            (
                Urgency.URGENT,
                Finding(
                    "acute_limb_ischemia",
                    f"acute limb ischaemia class {v.acute_class}: viable or marginally "
                    "threatened, needs prompt imaging",
                    rutherford.ACUTE_SOURCE,
                ),
            )
        )
    if v.wifi_stage is not None and v.wifi_stage >= WIFI_URGENT_STAGE:
        rules.append(
            (
                Urgency.URGENT,
                Finding(
                    "wifi_stage_4",
                    f"WIfI W{v.w} I{v.i} fI{v.fi}: clinical stage {v.wifi_stage} "
                    "(high 1-year amputation risk)",
                    wifi.SOURCE,
                ),
            )
        )
    if v.iwgdf == IWGDF_MODERATE:
        rules.append(
            (
                Urgency.URGENT,
                Finding(
                    "moderate_infection",
                    f"moderate foot infection (IWGDF {v.iwgdf}{'(O)' if v.osteomyelitis else ''})",
                    infection.SOURCE,
                ),
            )
        )
    severe_toe = v.toe_pressure is not None and v.toe_pressure < SEVERE_TOE_PRESSURE_UNDER_MMHG
    severe_o2 = v.tcpo2 is not None and v.tcpo2 < SEVERE_TCPO2_UNDER_MMHG
    if (severe_toe or severe_o2) and v.open_wounds:
        rules.append(
            (
                Urgency.URGENT,
                Finding(
                    "severe_ischemia_with_wound",
                    "open wound with toe pressure < 30 mmHg or TcPO2 < 30 mmHg: healing "
                    "unlikely without revascularization",
                    IWGDF_PAD,
                ),
            )
        )
    if v.clti_symptoms and v.pad == "present":
        rules.append(
            (
                Urgency.URGENT,
                Finding(
                    "clti",
                    f"Rutherford {v.rutherford} with objective PAD: chronic limb-threatening "
                    "ischaemia",
                    GVG_2019,
                ),
            )
        )
    return rules


def _missing(facts: LimbFacts, kind: ProblemType) -> list[Finding]:
    today = facts.today
    evaluations = facts.evaluations
    window = WORKUP_WINDOW_DAYS
    if not evaluations:
        return [
            Finding(
                "no_vascular_assessment",
                "no vascular assessment of this limb on record",
                PROGRAM_SOURCE,
            )
        ]
    missing: list[Finding] = []
    if not _within(_last(evaluations, "abi"), today, window):
        missing.append(
            Finding(
                "abi_90d",
                f"no ABI or TBI of this limb within {window} days",
                f"{PROGRAM_SOURCE}; {AHA_2016}",
            )
        )
    latest = _latest(evaluations)
    assert latest is not None
    if latest.values.abi_category == "noncompressible" and latest.values.tbi is None:
        missing.append(
            Finding(
                "toe_pressure",
                "ABI noncompressible (> 1.40): measure toe pressure (TBI)",
                AHA_2016,
            )
        )
    arterial_concern = kind in (ProblemType.ARTERIAL, ProblemType.MIXED) or (
        kind is ProblemType.UNDETERMINED and latest.values.open_wounds > 0
    )
    if arterial_concern and not _within(_last(evaluations, "arterial_imaging"), today, window):
        missing.append(
            Finding(
                "arterial_duplex_90d",
                f"no arterial duplex or angiography of this limb within {window} days",
                f"{PROGRAM_SOURCE}; {GVG_2019}",
            )
        )
    if kind in (ProblemType.VENOUS, ProblemType.MIXED) and not _within(
        _last(evaluations, "venous_imaging"), today, window
    ):
        missing.append(
            Finding(
                "venous_duplex_90d",
                f"no venous duplex of this limb within {window} days",
                f"{PROGRAM_SOURCE}; {SVS_AVF_2011}",
            )
        )
    patient = facts.patient
    if patient.diabetic and not _within(patient.hba1c_on, today, HBA1C_VALID_DAYS):
        missing.append(Finding("hba1c_90d", f"no HbA1c within {HBA1C_VALID_DAYS} days", ADA_2024))
    return missing


def _revascularization(v: StagingValues | None, off_track: bool) -> Revascularization:
    if v is None or v.wifi_stage is None or v.i is None:
        return Revascularization(
            Candidacy.NOT_ASSESSED,
            ("WIfI not staged: needs a perfusion measure (ABI, ankle or toe pressure, TcPO2)",),
            GVG_2019,
        )
    glass_text = f"; anatomy {v.glass_label}" if v.glass_label else "; anatomy not staged (GLASS)"
    basis = (
        f"WIfI W{v.w} I{v.i} fI{v.fi}: stage {v.wifi_stage}, benefit {v.wifi_benefit}{glass_text}"
    )
    if v.i >= REVASC_ISCHEMIA_FROM and v.wifi_stage >= WIFI_URGENT_STAGE:
        return Revascularization(
            Candidacy.RECOMMENDED,
            (basis, "GVG rec 6.11: offer revascularization (stage 4, ischaemia I2-I3)"),
            GVG_2019,
        )
    if v.i >= REVASC_ISCHEMIA_FROM and v.wifi_stage >= WIFI_CONSIDER_STAGE:
        return Revascularization(
            Candidacy.CONSIDER,
            (basis, "GVG rec 6.12: consider revascularization (stage 2-3, ischaemia I2-I3)"),
            GVG_2019,
        )
    if v.i == 0 or v.wifi_stage == 1:
        if off_track or (v.i == 0 and v.w >= REVASC_WOUND_FROM):
            why = "wound failing the 4-week rule" if off_track else "W2-W3 wound"
            return Revascularization(
                Candidacy.CONSIDER,
                (basis, f"GVG recs 6.9/6.10: selected cases only ({why})"),
                GVG_2019,
            )
        return Revascularization(
            Candidacy.NOT_INDICATED,
            (basis, "GVG recs 6.9/6.10: no revascularization for I0 or WIfI stage 1"),
            GVG_2019,
        )
    return Revascularization(
        Candidacy.CONSIDER,
        (basis, f"benefit {v.wifi_benefit} of 4: decide with the anatomy and patient risk"),
        GVG_2019,
    )


def _care_needs(facts: LimbFacts, v: StagingValues | None) -> list[Finding]:
    needs: list[Finding] = []
    patient = facts.patient
    categories = patient.problem_categories
    open_wounds = len(facts.open_wounds) or (v.open_wounds if v else 0)
    if open_wounds:
        needs.append(
            Finding(
                CareNeed.WOUND_CARE,
                f"{open_wounds} open wound(s)",
                f"{PROGRAM_SOURCE}; IWGDF 2023 wound healing guideline",
            )
        )
    foot_problem = bool(v and (v.foot_wounds or v.iwgdf >= IWGDF_MILD or v.gangrene)) or bool(
        categories & {"diabetic_foot_ulcer", "gangrene", "osteomyelitis"}
    )
    if patient.diabetic and foot_problem:
        needs.append(
            Finding(
                CareNeed.PODIATRY,
                "diabetic foot: ulcer, infection or gangrene in a person with diabetes",
                "IWGDF 2023 practical guidelines (multidisciplinary foot care team)",
            )
        )
    infected = v is not None and v.iwgdf >= IWGDF_MODERATE
    osteomyelitis = (v is not None and v.osteomyelitis) or "osteomyelitis" in categories
    if infected or osteomyelitis:
        what = []
        if infected and v is not None:
            what.append(f"IWGDF grade {v.iwgdf} infection")
        if osteomyelitis:
            what.append("osteomyelitis")
        needs.append(Finding(CareNeed.INFECTIOUS_DISEASE, " and ".join(what), IWGDF_2023))
    if (
        patient.hba1c_percent is not None
        and patient.hba1c_percent >= HBA1C_REFER_FROM_PERCENT
        and _within(patient.hba1c_on, facts.today, HBA1C_VALID_DAYS)
    ):
        needs.append(
            Finding(
                CareNeed.ENDOCRINOLOGY,
                f"HbA1c {patient.hba1c_percent} % (>= {HBA1C_REFER_FROM_PERCENT} %)",
                f"{ADA_2024}; {PROGRAM_SOURCE}",
            )
        )
    if patient.current_smoker:
        needs.append(
            Finding(
                CareNeed.SMOKING_CESSATION,
                "current smoker: advise and help to quit at every visit",
                f"{AHA_2016} (Class I); {GVG_2019}",
            )
        )
    return needs


def evaluate(facts: LimbFacts) -> Pathway:
    """The pathway of one limb on `facts.today`."""
    latest = _latest(facts.evaluations)
    v = latest.values if latest else None
    kind, kind_reasons = problem_type(facts)
    fired = _urgency_rules(v) if v is not None and not facts.major_amputation else []
    threatened = facts.patient.problem_categories & THREATENED_LIMB_CATEGORIES
    if v is None and threatened and not facts.major_amputation:
        fired.append(
            (
                Urgency.URGENT,
                Finding(
                    "unevaluated_threatened_limb",
                    f"coded {', '.join(sorted(threatened))} and no vascular assessment yet",
                    f"{GVG_2019}; {PROGRAM_SOURCE}",
                ),
            )
        )
    fired.sort(key=lambda pair: pair[0].rank)
    urgency = fired[0][0] if fired else Urgency.ROUTINE
    alerts = [
        Finding(
            "wound_off_track",
            f"{w.label}: < target area reduction at 4 weeks"
            + ("; review the plan of care" if w.plan_of_care_review else ""),
            "Sheehan P et al., Diabetes Care 2003;26:1879-1882 (4-week rule)",
        )
        for w in facts.open_wounds
        if w.off_track
    ]
    if v is not None:
        alerts += [Finding("perfusion", need, AHA_2016) for need in v.perfusion_needs]
    off_track = any(w.off_track for w in facts.open_wounds)
    return Pathway(
        side=facts.side,
        problem_type=kind,
        problem_reasons=kind_reasons,
        urgency=urgency,
        urgency_rules=tuple(finding for _, finding in fired),
        missing_workup=() if facts.major_amputation else tuple(_missing(facts, kind)),
        revascularization=_revascularization(v, off_track),
        care_needs=tuple(_care_needs(facts, v)),
        alerts=tuple(alerts),
        last_evaluated_on=latest.on if latest else None,
        latest=v,
    )
