"""GLASS segment grades: femoropopliteal (FP) and infrapopliteal (IP) 0-4 from lesions.

Lesion lengths are centimetres. A lesion is a hemodynamically significant (>= 50 %)
stenosis or an occlusion; mild disease (< 50 %) is not a lesion and is not listed.
Where a published band leaves a boundary value open (the FP1 band ends "< 10 cm", the
FP2 band is "10-20 cm"), the value goes to the band whose text includes it; where
neither does (a flush occlusion of exactly 20 cm: FP3 says "< 20", FP4 "> 20"), it
goes to the lower grade. Each case is a named constant below.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from functools import lru_cache
from typing import Final, TypeVar

from limbguard.vascular._base import Explained, InvalidInput, check_number

SOURCE: Final = (
    "Conte MS et al. Global vascular guidelines on the management of chronic "
    "limb-threatening ischemia (GLASS). J Vasc Surg 2019;69(6S):3S-125S.e40, section 5"
)
# Aortoiliac staging wording is medium confidence (clinical_reference.md §2.7, §10.6).
MIN_GRADE: Final = 0
MAX_GRADE: Final = 4
# A lesion longer than this is a typing error, not anatomy (the SFA is ~30 cm long).
MAX_LESION_LENGTH_CM: Final = 60
# Tibial/peroneal arteries are ~30-40 cm; anything beyond this is a unit error.
MAX_VESSEL_LENGTH_CM: Final = 60

# --- Femoropopliteal thresholds (GVG 2019, FP grading figure) -------------------------
# "1/3 of the SFA is ~10 cm, 2/3 ~20 cm".
SFA_ONE_THIRD_CM: Final = 10
SFA_TWO_THIRDS_CM: Final = 20
# FP1: "single focal occlusion < 5 cm, not flush"; 5 cm itself is FP2.
FP1_OCCLUSION_BELOW_CM: Final = 5
# FP2: "occlusion totalling < 1/3 (10 cm), not flush"; 10 cm itself is FP3 ("10-20 cm").
FP2_OCCLUSION_BELOW_CM: Final = SFA_ONE_THIRD_CM
# FP3: "flush occlusion < 20 cm, or non-flush occlusion 10-20 cm"; FP4: "total SFA
# occlusion > 20 cm". Exactly 20 cm is FP3 for both (project decision: lower grade).
FP3_OCCLUSION_MAX_CM: Final = SFA_TWO_THIRDS_CM
# FP2: "focal popliteal stenosis < 2 cm"; FP3: "short popliteal stenosis 2-5 cm";
# FP4: "popliteal disease > 5 cm or into the trifurcation; any popliteal occlusion".
POPLITEAL_FOCAL_BELOW_CM: Final = 2
POPLITEAL_SHORT_MAX_CM: Final = 5

# --- Infrapopliteal thresholds (GVG 2019, IP grading figure) --------------------------
# IP1: "focal stenosis < 3 cm, not the TP trunk"; IP2: "focal occlusion < 3 cm".
IP_FOCAL_BELOW_CM: Final = 3
# IP2: disease over up to 1/3 of the target vessel (the reference's "over 1/3" is read
# as "spanning", as in the CLTI-Diagnosis app: "up to 1/3"); IP3: "up to 2/3", occlusion
# "up to 1/3"; IP4: "diffuse > 2/3", occlusion "> 1/3". Boundaries go to the lower grade.
IP_ONE_THIRD: Final = Fraction(1, 3)
IP_TWO_THIRDS: Final = Fraction(2, 3)

# Table 5.1: "calcification is considered only if severe; increases within-segment grade
# by 1". Applied to every grade, including 0, as the text has no exception; capped at 4.
SEVERE_CALCIFICATION_STEP: Final = 1


class FemoropoplitealArtery(Enum):
    SFA = "superficial femoral artery"
    POPLITEAL = "popliteal artery"


class TibialTarget(Enum):
    """The infrapopliteal artery chosen as the TAP (by default the least diseased)."""

    ANTERIOR_TIBIAL = "anterior tibial artery"
    POSTERIOR_TIBIAL = "posterior tibial artery"
    PERONEAL = "peroneal artery"


def check_bool(field: str, value: object) -> bool:
    """Return `value` when it is exactly True or False (not 0/1 or None); else raise."""
    if not isinstance(value, bool):
        raise InvalidInput(field, f"must be True or False, got {value!r}")
    return value


def _exact_cm(field: str, value: object, high: float) -> Fraction:
    """Validate a length in (0, high] cm and return it as an exact fraction."""
    number = check_number(field, value, 0, high)
    if number == 0:
        raise InvalidInput(field, "must be greater than 0 cm; leave out segments without lesions")
    return _fraction(value)


# Cached: parsing the decimal string was about a third of a grade (bench/rules.py), and
# lesion lengths repeat. Typed, because Decimal(0.1) == 0.1 but their strings differ.
@lru_cache(maxsize=1024, typed=True)
def _fraction(value: object) -> Fraction:
    """A length exactly as written: its shortest decimal spelling as a fraction."""
    return Fraction(str(value))


def _cm(value: Fraction) -> str:
    return f"{float(value):g} cm"


@dataclass(frozen=True)
class FemoropoplitealLesion:
    """One significant lesion of the SFA or popliteal artery.

    `flush` marks an SFA occlusion that starts at the SFA origin; `involves_trifurcation`
    marks popliteal disease reaching the origins of the anterior tibial artery and the
    tibioperoneal trunk. Both are only valid where they make sense anatomically.
    """

    artery: FemoropoplitealArtery
    length_cm: float
    occluded: bool = False
    flush: bool = False
    involves_trifurcation: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.artery, FemoropoplitealArtery):
            raise InvalidInput("artery", f"must be a FemoropoplitealArtery, got {self.artery!r}")
        _exact_cm("length_cm", self.length_cm, MAX_LESION_LENGTH_CM)
        check_bool("occluded", self.occluded)
        check_bool("flush", self.flush)
        check_bool("involves_trifurcation", self.involves_trifurcation)
        if self.flush and not (self.occluded and self.artery is FemoropoplitealArtery.SFA):
            raise InvalidInput("flush", "only an SFA occlusion can be flush with the SFA origin")
        if self.involves_trifurcation and self.artery is not FemoropoplitealArtery.POPLITEAL:
            raise InvalidInput("involves_trifurcation", "only popliteal disease can reach it")


@dataclass(frozen=True)
class InfrapoplitealLesion:
    """One significant lesion on the tibial or peroneal target artery of the TAP.

    `at_origin` marks disease at the origin of the target artery; `involves_tp_trunk`
    marks disease of the tibioperoneal trunk (on the path only for a posterior tibial or
    peroneal target).
    """

    length_cm: float
    occluded: bool = False
    at_origin: bool = False
    involves_tp_trunk: bool = False

    def __post_init__(self) -> None:
        _exact_cm("length_cm", self.length_cm, MAX_LESION_LENGTH_CM)
        check_bool("occluded", self.occluded)
        check_bool("at_origin", self.at_origin)
        check_bool("involves_tp_trunk", self.involves_tp_trunk)


_Lesion = TypeVar("_Lesion", FemoropoplitealLesion, InfrapoplitealLesion)


def _lesions(field: str, lesions: object, kind: type[_Lesion]) -> list[_Lesion]:
    if isinstance(lesions, str | bytes) or not isinstance(lesions, Iterable):
        raise InvalidInput(field, f"must be a sequence of {kind.__name__}, got {lesions!r}")
    items: list[_Lesion] = []
    for item in lesions:
        if not isinstance(item, kind):
            raise InvalidInput(field, f"must contain only {kind.__name__}, got {item!r}")
        items.append(item)
    return items


def _total(lesions: Iterable[FemoropoplitealLesion | InfrapoplitealLesion]) -> Fraction:
    return sum((_fraction(x.length_cm) for x in lesions), Fraction(0))


def _with_calcification(
    prefix: str, grade: int, severe_calcification: bool, reasons: list[str]
) -> int:
    if check_bool("severe_calcification", severe_calcification):
        raised = min(MAX_GRADE, grade + SEVERE_CALCIFICATION_STEP)
        reasons.append(f"severe calcification raises {prefix}{grade} to {prefix}{raised}")
        return raised
    return grade


def explain_femoropopliteal(
    lesions: Sequence[FemoropoplitealLesion], *, severe_calcification: bool = False
) -> Explained[int]:
    """FP grade 0-4: the worst attribute of the segment sets the grade.

    SFA disease length and occluded length are summed over the listed SFA lesions;
    each popliteal lesion is graded on its own. Severe calcification adds one grade.
    """
    items = _lesions("lesions", lesions, FemoropoplitealLesion)
    sfa = [x for x in items if x.artery is FemoropoplitealArtery.SFA]
    pop = [x for x in items if x.artery is FemoropoplitealArtery.POPLITEAL]
    findings: list[tuple[int, str]] = []

    disease = _total(sfa)
    if disease:
        if disease < SFA_ONE_THIRD_CM:
            grade = 1
        elif disease <= SFA_TWO_THIRDS_CM:
            grade = 2
        else:
            grade = 3
        findings.append((grade, f"SFA disease totals {_cm(disease)}: FP{grade}"))

    occlusions = [x for x in sfa if x.occluded]
    occluded = _total(occlusions)
    if occlusions:
        flush = any(x.flush for x in occlusions)
        if occluded > FP3_OCCLUSION_MAX_CM:
            grade = 4
        elif flush or occluded >= FP2_OCCLUSION_BELOW_CM:
            grade = 3
        elif occluded >= FP1_OCCLUSION_BELOW_CM:
            grade = 2
        else:
            grade = 1
        kind = "flush" if flush else "non-flush"
        findings.append((grade, f"{kind} SFA occlusion totals {_cm(occluded)}: FP{grade}"))

    for lesion in pop:
        length = _fraction(lesion.length_cm)
        if lesion.occluded:
            findings.append((4, f"popliteal occlusion ({_cm(length)}): FP4"))
        elif lesion.involves_trifurcation:
            findings.append((4, "popliteal stenosis extends into the trifurcation: FP4"))
        else:
            if length < POPLITEAL_FOCAL_BELOW_CM:
                grade = 2
            elif length <= POPLITEAL_SHORT_MAX_CM:
                grade = 3
            else:
                grade = 4
            findings.append((grade, f"popliteal stenosis of {_cm(length)}: FP{grade}"))

    reasons = [text for _, text in findings] or ["no significant femoropopliteal disease: FP0"]
    grade = max((g for g, _ in findings), default=0)
    if len(findings) > 1:
        reasons.append(f"the worst attribute sets the segment grade: FP{grade}")
    grade = _with_calcification("FP", grade, severe_calcification, reasons)
    return Explained(grade, tuple(reasons), SOURCE)


def femoropopliteal_grade(
    lesions: Sequence[FemoropoplitealLesion], *, severe_calcification: bool = False
) -> int:
    """FP grade 0-4 from the segment's lesions; see `explain_femoropopliteal`."""
    return explain_femoropopliteal(lesions, severe_calcification=severe_calcification).value


# Exact lengths as integer pairs (numerator, denominator): the grade is decided by a few
# sums and comparisons, and Fraction's pure-Python operators were most of its cost
# (bench/rules.py). The pairs are not reduced; they only feed comparisons.
_Exact = tuple[int, int]


@dataclass(frozen=True, slots=True)
class _IPFindings:
    """What sets an IP grade, decided once; `explain_infrapopliteal` only words it."""

    vessel: Fraction
    disease_cm: _Exact
    disease_grade: int  # 0 when there is no listed disease
    trunk_stenosis: bool
    trunk_ignored: bool
    occluded_cm: _Exact
    occlusion_grade: int  # 0 when no lesion is an occlusion
    occlusion_of_trunk: bool
    occlusion_at_origin: bool

    @property
    def grade(self) -> int:
        """The worst attribute of the segment, before calcification."""
        return max(self.disease_grade, self.occlusion_grade)

    @property
    def disease(self) -> Fraction:
        return Fraction(*self.disease_cm)

    @property
    def occluded(self) -> Fraction:
        return Fraction(*self.occluded_cm)


def _exact_sum(lesions: Iterable[InfrapoplitealLesion]) -> _Exact:
    num, den = 0, 1
    for lesion in lesions:
        length = _fraction(lesion.length_cm)
        num = num * length.denominator + length.numerator * den
        den *= length.denominator
    return num, den


def _share_at_most(part: _Exact, vessel: Fraction, bound: Fraction) -> bool:
    """part / vessel <= bound, in integers."""
    num, den = part
    return num * vessel.denominator * bound.denominator <= bound.numerator * vessel.numerator * den


def _shorter_than(part: _Exact, cm: int) -> bool:
    num, den = part
    return num < cm * den


def _infrapopliteal(
    lesions: Sequence[InfrapoplitealLesion], target: TibialTarget, vessel_length_cm: float
) -> _IPFindings:
    """Grade the target artery's disease and occlusions (the thresholds' one home).

    Disease extent is the summed lesion length as a fraction of the vessel length; an
    occlusion is graded on its summed length. Tibioperoneal-trunk disease counts only
    when the target is not the anterior tibial artery (which does not pass through it).
    """
    if not isinstance(target, TibialTarget):
        raise InvalidInput("target", f"must be a TibialTarget, got {target!r}")
    vessel = _exact_cm("vessel_length_cm", vessel_length_cm, MAX_VESSEL_LENGTH_CM)
    ip = _lesions("lesions", lesions, InfrapoplitealLesion)
    disease = _exact_sum(ip)
    if not _share_at_most(disease, vessel, Fraction(1)):
        total = Fraction(*disease)
        raise InvalidInput("lesions", f"total {_cm(total)} exceeds the vessel ({_cm(vessel)})")
    trunk_on_path = target is not TibialTarget.ANTERIOR_TIBIAL
    any_trunk = any(x.involves_tp_trunk for x in ip)
    trunk_stenosis = trunk_on_path and any_trunk

    if not ip:
        disease_grade = 0
    elif _shorter_than(disease, IP_FOCAL_BELOW_CM) and not trunk_stenosis:
        disease_grade = 1
    elif _share_at_most(disease, vessel, IP_ONE_THIRD):
        disease_grade = 2
    elif _share_at_most(disease, vessel, IP_TWO_THIRDS):
        disease_grade = 3
    else:
        disease_grade = 4

    occlusions = [x for x in ip if x.occluded]
    occluded = _exact_sum(occlusions)
    trunk = trunk_on_path and any(x.involves_tp_trunk for x in occlusions)
    origin = any(x.at_origin for x in occlusions)
    if not occlusions:
        occlusion_grade = 0
    elif trunk or not _share_at_most(occluded, vessel, IP_ONE_THIRD):
        occlusion_grade = 4
    elif origin or not _shorter_than(occluded, IP_FOCAL_BELOW_CM):
        occlusion_grade = 3
    else:
        occlusion_grade = 2
    return _IPFindings(
        vessel=vessel,
        disease_cm=disease,
        disease_grade=disease_grade,
        trunk_stenosis=trunk_stenosis,
        trunk_ignored=any_trunk and not trunk_on_path,
        occluded_cm=occluded,
        occlusion_grade=occlusion_grade,
        occlusion_of_trunk=trunk,
        occlusion_at_origin=origin,
    )


def explain_infrapopliteal(
    lesions: Sequence[InfrapoplitealLesion],
    *,
    target: TibialTarget,
    vessel_length_cm: float,
    severe_calcification: bool = False,
) -> Explained[int]:
    """IP grade 0-4 of the target artery; `vessel_length_cm` is its whole length.

    Disease extent is the summed lesion length as a fraction of the vessel length; an
    occlusion is graded on its summed length. Tibioperoneal-trunk disease counts only
    when the target is not the anterior tibial artery (which does not pass through it).
    """
    found = _infrapopliteal(lesions, target, vessel_length_cm)
    findings: list[str] = []
    if found.disease_grade:
        where = ", including the TP trunk" if found.trunk_stenosis else ""
        extent = f"{float(found.disease / found.vessel):.0%} of the vessel{where}"
        findings.append(f"disease totals {_cm(found.disease)} ({extent}): IP{found.disease_grade}")
    if found.occlusion_grade:
        trunk, origin = found.occlusion_of_trunk, found.occlusion_at_origin
        where = " of the TP trunk" if trunk else " at the origin" if origin else ""
        findings.append(
            f"occlusion{where} totals {_cm(found.occluded)} "
            f"({float(found.occluded / found.vessel):.0%}): IP{found.occlusion_grade}"
        )
    notes = ["TP trunk disease ignored: the anterior tibial target does not pass it"]
    reasons = findings or ["no significant disease in the target: IP0"]
    reasons[:0] = [f"target artery: {target.value}", *notes[: found.trunk_ignored]]
    grade = found.grade
    if len(findings) > 1:
        reasons.append(f"the worst attribute sets the segment grade: IP{grade}")
    grade = _with_calcification("IP", grade, severe_calcification, reasons)
    return Explained(grade, tuple(reasons), SOURCE)


def infrapopliteal_grade(
    lesions: Sequence[InfrapoplitealLesion],
    *,
    target: TibialTarget,
    vessel_length_cm: float,
    severe_calcification: bool = False,
) -> int:
    """IP grade 0-4 of the target artery; see `explain_infrapopliteal`.

    The same decision without the wording: a UI recomputes it on every edit of a lesion.
    """
    grade = _infrapopliteal(lesions, target, vessel_length_cm).grade
    if check_bool("severe_calcification", severe_calcification):
        return min(MAX_GRADE, grade + SEVERE_CALCIFICATION_STEP)
    return grade
