"""Diabetic foot infection: IWGDF/IDSA grade, PEDIS "I" and WIfI fI, with osteomyelitis.

The four scales describe the same four levels (clinical_reference.md section 8):

=========  ===========  =====  ======
IWGDF      IDSA         PEDIS  WIfI fI
=========  ===========  =====  ======
1          uninfected   1      0
2          mild         2      1
3          moderate     3      2
4          severe       4      3
=========  ===========  =====  ======

Osteomyelitis adds the IWGDF 2019 suffix "(O)" to grade 3 or 4 ("3(O)", "4(O)"); it has
no PEDIS or WIfI equivalent (in WIfI, osteomyelitis alone is fI2).

Sources: Lipsky BA et al., IWGDF 2019 infection guideline, Diabetes Metab Res Rev
2020;36(S1):e3280; Senneville E et al., IWGDF/IDSA 2023 guideline, Clin Infect Dis 2023
(ciad527); Mills JL Sr et al., WIfI, J Vasc Surg 2014;59:220-234.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from limbguard.vascular._base import InvalidInput, check_int, check_number

SOURCE: Final = (
    "IWGDF 2019 infection guideline (Lipsky et al., Diabetes Metab Res Rev "
    "2020;36(S1):e3280); IWGDF/IDSA 2023 (Senneville et al., Clin Infect Dis 2023)"
)

# IWGDF 2019 / IDSA 2012: erythema counts as a local sign only beyond 0.5 cm from the
# wound margin.
ERYTHEMA_SIGN_OVER_CM: Final = 0.5
# Moderate infection: erythema beyond 2 cm. WIfI and IDSA 2012 write "> 2 cm", some
# IWGDF reproductions ">= 2 cm"; both define mild as "<= 2 cm", so exactly 2.0 cm is
# mild (project decision, clinical_reference section 8).
ERYTHEMA_MODERATE_OVER_CM: Final = 2.0
MAX_ERYTHEMA_CM: Final = 100.0
# Infection needs at least 2 local signs (IWGDF 2019, IDSA 2012).
LOCAL_SIGNS_FOR_INFECTION: Final = 2
# Severe infection needs at least 2 SIRS criteria (IWGDF 2019, IDSA 2012, WIfI fI3).
SIRS_FOR_SEVERE: Final = 2

# SIRS criteria as restated by IWGDF 2019 and IWGDF/IDSA 2023 (from Bone RC et al.,
# ACCP/SCCM consensus, Chest 1992;101:1644-1655).
TEMPERATURE_OVER_C: Final = 38.0
TEMPERATURE_UNDER_C: Final = 36.0
HEART_RATE_OVER: Final = 90
RESPIRATORY_RATE_OVER: Final = 20
PACO2_UNDER_MMHG: Final = 32.0  # 4.3 kPa
WBC_OVER_PER_UL: Final = 12_000
WBC_UNDER_PER_UL: Final = 4_000
# IWGDF 2019 and IWGDF/IDSA 2023 write "> 10 % immature (band) forms", as does the 1992
# SIRS consensus; the WIfI paper and IDSA 2012 print "10 %" without an operator, which
# some reproductions read as ">= 10 %". Exactly 10 % is therefore not a criterion here.
BANDS_OVER_PERCENT: Final = 10.0

# Ranges that only refuse impossible values (typing errors, wrong units).
_TEMPERATURE_RANGE: Final = (25.0, 45.0)
_MAX_RATE: Final = 300
_MAX_PACO2_MMHG: Final = 200.0
_MAX_WBC_PER_UL: Final = 1_000_000


class IdsaSeverity(enum.StrEnum):
    """IDSA / IWGDF severity words."""

    UNINFECTED = "uninfected"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class SirsCriterion(enum.StrEnum):
    """The four SIRS criteria; each counts once however many of its parts are met."""

    TEMPERATURE = "temperature"
    HEART_RATE = "heart_rate"
    RESPIRATION = "respiration"
    WHITE_CELLS = "white_cells"


# IWGDF grade -> (IDSA word, PEDIS "I" grade, WIfI fI grade); the one crosswalk table.
CROSSWALK: Final = MappingProxyType(
    {
        1: (IdsaSeverity.UNINFECTED, 1, 0),
        2: (IdsaSeverity.MILD, 2, 1),
        3: (IdsaSeverity.MODERATE, 3, 2),
        4: (IdsaSeverity.SEVERE, 4, 3),
    }
)
# Osteomyelitis is bone infection, i.e. deeper than skin: only grades 3 and 4 carry "(O)".
OSTEOMYELITIS_GRADES: Final = frozenset({3, 4})


def _grade(field: str, value: object) -> int:
    return check_int(field, value, 1, 4)


def to_idsa(iwgdf: int) -> IdsaSeverity:
    """IWGDF grade 1-4 -> IDSA severity word."""
    return CROSSWALK[_grade("iwgdf", iwgdf)][0]


def to_pedis(iwgdf: int) -> int:
    """IWGDF grade 1-4 -> PEDIS infection grade 1-4."""
    return CROSSWALK[_grade("iwgdf", iwgdf)][1]


def to_wifi_fi(iwgdf: int) -> int:
    """IWGDF grade 1-4 -> WIfI foot infection grade 0-3."""
    return CROSSWALK[_grade("iwgdf", iwgdf)][2]


def from_idsa(severity: str) -> int:
    """IDSA severity word ("uninfected", "mild", "moderate", "severe") -> IWGDF grade."""
    words = [member.value for member in IdsaSeverity]
    if not isinstance(severity, str) or severity not in words:
        raise InvalidInput("severity", f"must be one of {words}, got {severity!r}")
    return next(grade for grade, row in CROSSWALK.items() if row[0] == severity)


def from_pedis(pedis: int) -> int:
    """PEDIS infection grade 1-4 -> IWGDF grade."""
    return _grade("pedis", pedis)


def from_wifi_fi(fi: int) -> int:
    """WIfI fI 0-3 -> IWGDF grade 1-4."""
    return check_int("fi", fi, 0, 3) + 1


@dataclass(frozen=True)
class InfectionGrade:
    """An IWGDF grade with the osteomyelitis flag; ``str()`` gives "2", "3(O)" ..."""

    iwgdf: int
    osteomyelitis: bool = False

    def __post_init__(self) -> None:
        _grade("iwgdf", self.iwgdf)
        _check_bool("osteomyelitis", self.osteomyelitis)
        if self.osteomyelitis and self.iwgdf not in OSTEOMYELITIS_GRADES:
            raise InvalidInput("osteomyelitis", f"(O) applies to grade 3 or 4, not {self.iwgdf}")

    def __str__(self) -> str:
        return f"{self.iwgdf}(O)" if self.osteomyelitis else str(self.iwgdf)

    @property
    def idsa(self) -> IdsaSeverity:
        return to_idsa(self.iwgdf)

    @property
    def pedis(self) -> int:
        return to_pedis(self.iwgdf)

    @property
    def wifi_fi(self) -> int:
        return to_wifi_fi(self.iwgdf)


_LABEL: Final = re.compile(r"\s*([1-4])\s*(\(\s*[oO]\s*\))?\s*")


def parse_iwgdf(text: str) -> InfectionGrade:
    """Read an IWGDF label such as "2", "3(O)" or "4 (o)"; raise ``InvalidInput`` otherwise."""
    if not isinstance(text, str):
        raise InvalidInput("text", f"must be a string, got {text!r}")
    match = _LABEL.fullmatch(text)
    if match is None:
        raise InvalidInput("text", f"not an IWGDF grade (1-4, optionally '(O)'): {text!r}")
    return InfectionGrade(int(match.group(1)), osteomyelitis=match.group(2) is not None)


def _check_bool(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, f"must be True or False, got {value!r}")
    return value


def _optional_number(field: str, value: object, low: float, high: float) -> float | None:
    return None if value is None else check_number(field, value, low, high)


def sirs_criteria(
    *,
    temperature_c: float | None = None,
    heart_rate: int | None = None,
    respiratory_rate: int | None = None,
    paco2_mmhg: float | None = None,
    wbc_per_ul: int | None = None,
    immature_bands_percent: float | None = None,
) -> tuple[SirsCriterion, ...]:
    """The SIRS criteria met; a value not given (``None``) counts as not met.

    Temperature > 38 or < 36 degC; heart rate > 90/min; respiratory rate > 20/min or
    PaCO2 < 32 mmHg; WBC > 12,000 or < 4,000 per microlitre or > 10 % bands.
    """
    temp = _optional_number("temperature_c", temperature_c, *_TEMPERATURE_RANGE)
    pulse = _optional_number("heart_rate", heart_rate, 0, _MAX_RATE)
    breaths = _optional_number("respiratory_rate", respiratory_rate, 0, _MAX_RATE)
    paco2 = _optional_number("paco2_mmhg", paco2_mmhg, 0.0, _MAX_PACO2_MMHG)
    wbc = _optional_number("wbc_per_ul", wbc_per_ul, 0, _MAX_WBC_PER_UL)
    bands = _optional_number("immature_bands_percent", immature_bands_percent, 0.0, 100.0)
    met = []
    if temp is not None and (temp > TEMPERATURE_OVER_C or temp < TEMPERATURE_UNDER_C):
        met.append(SirsCriterion.TEMPERATURE)
    if pulse is not None and pulse > HEART_RATE_OVER:
        met.append(SirsCriterion.HEART_RATE)
    if (breaths is not None and breaths > RESPIRATORY_RATE_OVER) or (
        paco2 is not None and paco2 < PACO2_UNDER_MMHG
    ):
        met.append(SirsCriterion.RESPIRATION)
    if (wbc is not None and (wbc > WBC_OVER_PER_UL or wbc < WBC_UNDER_PER_UL)) or (
        bands is not None and bands > BANDS_OVER_PERCENT
    ):
        met.append(SirsCriterion.WHITE_CELLS)
    return tuple(met)


@dataclass(frozen=True)
class InfectionSigns:
    """Bedside findings for one foot; validated on construction.

    ``erythema_cm`` is the furthest extent of erythema from the wound margin in cm
    (``None`` or 0 for none). ``other_cause_of_inflammation`` means the clinician has
    attributed the local signs to something else (trauma, gout, acute Charcot,
    fracture, thrombosis, venous stasis), so they do not count. ``deep_tissue_infection``
    is infection of structures deeper than skin and subcutaneous tissue (abscess,
    fasciitis, septic arthritis, tendon, muscle, joint or bone).
    """

    swelling_or_induration: bool = False
    erythema_cm: float | None = None
    tenderness_or_pain: bool = False
    warmth: bool = False
    purulent_discharge: bool = False
    other_cause_of_inflammation: bool = False
    deep_tissue_infection: bool = False
    osteomyelitis: bool = False
    temperature_c: float | None = None
    heart_rate: int | None = None
    respiratory_rate: int | None = None
    paco2_mmhg: float | None = None
    wbc_per_ul: int | None = None
    immature_bands_percent: float | None = None

    def __post_init__(self) -> None:
        for name in (
            "swelling_or_induration",
            "tenderness_or_pain",
            "warmth",
            "purulent_discharge",
            "other_cause_of_inflammation",
            "deep_tissue_infection",
            "osteomyelitis",
        ):
            _check_bool(name, getattr(self, name))
        _optional_number("erythema_cm", self.erythema_cm, 0.0, MAX_ERYTHEMA_CM)
        self.sirs()

    def sirs(self) -> tuple[SirsCriterion, ...]:
        """The SIRS criteria these findings meet."""
        return sirs_criteria(
            temperature_c=self.temperature_c,
            heart_rate=self.heart_rate,
            respiratory_rate=self.respiratory_rate,
            paco2_mmhg=self.paco2_mmhg,
            wbc_per_ul=self.wbc_per_ul,
            immature_bands_percent=self.immature_bands_percent,
        )

    def local_signs(self) -> tuple[str, ...]:
        """The local signs of inflammation present (erythema only beyond 0.5 cm)."""
        erythema = self.erythema_cm is not None and self.erythema_cm > ERYTHEMA_SIGN_OVER_CM
        present = {
            "swelling or induration": self.swelling_or_induration,
            "erythema > 0.5 cm": erythema,
            "tenderness or pain": self.tenderness_or_pain,
            "warmth": self.warmth,
            "purulent discharge": self.purulent_discharge,
        }
        return tuple(sign for sign, found in present.items() if found)


@dataclass(frozen=True)
class InfectionClassification:
    """The grade on every scale, with the SIRS criteria met and the reasons."""

    grade: InfectionGrade
    idsa: IdsaSeverity
    pedis: int
    wifi_fi: int
    sirs: tuple[SirsCriterion, ...]
    reasons: tuple[str, ...]
    source: str

    @property
    def label(self) -> str:
        """IWGDF label such as "3(O)"."""
        return str(self.grade)


def classify_infection(signs: InfectionSigns) -> InfectionClassification:
    """Grade a diabetic foot infection from bedside findings (IWGDF 2019 / IWGDF-IDSA 2023).

    Infected when >= 2 local signs (not explained by another cause), or deep tissue
    infection, or osteomyelitis. Then: >= 2 SIRS criteria -> 4 (severe); else
    deep tissue infection, osteomyelitis or erythema > 2 cm -> 3 (moderate); else
    2 (mild). Osteomyelitis adds "(O)".
    """
    if not isinstance(signs, InfectionSigns):
        raise InvalidInput("signs", f"must be InfectionSigns, got {signs!r}")
    sirs = signs.sirs()
    local = () if signs.other_cause_of_inflammation else signs.local_signs()
    reasons = [f"local signs: {', '.join(local) or 'none'}"]
    if signs.other_cause_of_inflammation:
        reasons.append("local inflammation attributed to another cause: signs not counted")
    reasons.append(f"SIRS criteria met: {', '.join(sirs) or 'none'}")
    wide_erythema = (
        not signs.other_cause_of_inflammation
        and signs.erythema_cm is not None
        and signs.erythema_cm > ERYTHEMA_MODERATE_OVER_CM
    )
    infected = (
        len(local) >= LOCAL_SIGNS_FOR_INFECTION
        or signs.deep_tissue_infection
        or signs.osteomyelitis
    )
    if not infected:
        grade = 1
        reasons.append("fewer than 2 local signs, no deep infection or osteomyelitis: uninfected")
        if len(sirs) >= SIRS_FOR_SEVERE:
            reasons.append("SIRS without a foot infection does not grade the foot")
    elif len(sirs) >= SIRS_FOR_SEVERE:
        grade = 4
        reasons.append("foot infection with >= 2 SIRS criteria: severe")
    elif signs.deep_tissue_infection or signs.osteomyelitis or wide_erythema:
        grade = 3
        reasons.append(
            "erythema > 2 cm or infection deeper than skin and subcutaneous tissue, "
            "< 2 SIRS criteria: moderate"
        )
    else:
        grade = 2
        reasons.append("skin and subcutaneous infection, erythema <= 2 cm, no SIRS: mild")
    if signs.osteomyelitis:
        reasons.append("osteomyelitis: '(O)' added; WIfI counts it as fI2 unless SIRS makes fI3")
    result = InfectionGrade(grade, osteomyelitis=signs.osteomyelitis)
    return InfectionClassification(
        grade=result,
        idsa=result.idsa,
        pedis=result.pedis,
        wifi_fi=result.wifi_fi,
        sirs=sirs,
        reasons=tuple(reasons),
        source=SOURCE,
    )
