"""The rates behind the synthetic cohort, each named with its source.

"§6.x" is ../shared/reference/codes_and_epidemiology.md section 6.x. A parameter the
reference does not give is marked ASSUMPTION: a round figure of the right order, to be
replaced when a cited figure is found. Nothing here is used for care: these numbers
only make synthetic people look like a plausible US population aged 40 and over.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import product
from types import MappingProxyType
from typing import Final

# --- PAD prevalence and its risk factors -------------------------------------------

# §6.1 Ostchega (J Am Geriatr Soc 2007, NHANES 1999-2004): ABI < 0.90 by age; §6.6
# for 40-59 ("use ≈4-5%").
PAD_PREVALENCE_BY_AGE: Final[Mapping[tuple[int, int], float]] = MappingProxyType(
    {(40, 60): 0.045, (60, 70): 0.070, (70, 80): 0.125, (80, 200): 0.232}
)
# §6.1 Ostchega 2007: adjusted odds ratios for PAD.
PAD_OR_CURRENT_SMOKING: Final = 5.48
PAD_OR_DIABETES: Final = 1.81
PAD_OR_LOW_KIDNEY_FUNCTION: Final = 2.69

# ASSUMPTION (not in the reference): diabetes, current smoking and CKD in US adults by
# age band, of the order reported by national surveys.
DIABETES_BY_AGE: Final[Mapping[tuple[int, int], float]] = MappingProxyType(
    {(40, 60): 0.15, (60, 70): 0.24, (70, 80): 0.27, (80, 200): 0.25}
)
CKD_BY_AGE: Final[Mapping[tuple[int, int], float]] = MappingProxyType(
    {(40, 60): 0.08, (60, 70): 0.15, (70, 80): 0.28, (80, 200): 0.40}
)
CURRENT_SMOKING: Final = 0.13  # ASSUMPTION
FORMER_SMOKING: Final = 0.30  # ASSUMPTION
SMOKING_STATUS_RECORDED: Final = 0.85  # ASSUMPTION: share with a smoking-status observation
TYPE_1_SHARE_OF_DIABETES: Final = 0.05  # ASSUMPTION
DIALYSIS_SHARE_OF_G5: Final = 0.6  # ASSUMPTION
# ASSUMPTION: KDIGO GFR category among people with CKD (G3a, G3b, G4, G5).
CKD_STAGE_SHARES: Final = (("G3a", 0.55), ("G3b", 0.25), ("G4", 0.13), ("G5", 0.07))

# --- PAD severity and course -------------------------------------------------------

# §6.1 Nehler (J Vasc Surg 2014): annualized prevalence CLI 1.33 % vs PAD 10.69 % of
# the claims cohort, i.e. about an eighth of PAD is CLTI (§6.6 "≈10%").
CLTI_SHARE_OF_PAD: Final = 1.33 / 10.69
# ASSUMPTION: share of PAD (ABI < 0.90) that carries a PAD diagnosis code; most PAD is
# asymptomatic and undiagnosed (the NHANES figures count ABI, not diagnoses).
PAD_DIAGNOSED_SHARE: Final = 0.6
# §6.2 Cleve Clin J Med (TASC): 1-2 % of claudicants progress to CLI over 5 years;
# §6.6: "≈0.3%/yr".
CLAUDICATION_TO_CLTI_PER_YEAR: Final = 0.003
# ASSUMPTION: share of people with CLTI revascularized within weeks of diagnosis.
# §6.3: 71 % of Medicare CLI major amputations had no revascularization before; a
# limb salvage programme does better (§6.4), so about half is used.
CLTI_REVASCULARIZED: Final = 0.5
# ASSUMPTION: endovascular vs open bypass among revascularizations (VQI 2009-14, §6.5,
# lists more PVI than bypass for CLI).
ENDOVASCULAR_SHARE: Final = 0.7
# §6.6 (TASC/GVG/Teraa): CLTI without revascularization, 1 year: major amputation
# 20-30 %, death 20-25 %.
CLTI_NO_REVASC_MAJOR_AMPUTATION_1Y: Final = 0.25
CLTI_NO_REVASC_DEATH_1Y: Final = 0.22
# §6.5/§6.6 SVS OPG: 1-year freedom from MALE or death 74-77 % after revascularization;
# ASSUMPTION: the 25 % is split 10 % major amputation, 15 % death.
CLTI_REVASC_MAJOR_AMPUTATION_1Y: Final = 0.10
CLTI_REVASC_DEATH_1Y: Final = 0.15
# §6.3 Jones (Am Heart J 2013): mortality after major amputation 13.5 % at 30 days,
# 48.3 % at 1 year.
DEATH_30D_AFTER_MAJOR_AMPUTATION: Final = 0.135
DEATH_1Y_AFTER_MAJOR_AMPUTATION: Final = 0.483
# §6.3: in 20,464 Medicare CLI major amputations, 54 % had no angiogram before.
NO_EVALUATION_BEFORE_MAJOR_AMPUTATION: Final = 0.54

# --- Diabetic foot -----------------------------------------------------------------

# ASSUMPTION: point prevalence of an active foot ulcer among people with diabetes
# (§6.3 VDM 2020: 25 % of people with diabetes develop an ulcer in their lifetime).
DFU_PREVALENCE_IN_DIABETES: Final = 0.04
# §6.3 VDM 2020 review: 65 % of diabetic foot ulcers have an ischemic component.
DFU_ISCHEMIC_SHARE: Final = 0.65
# §6.3 Geiss (Diabetes Care 2019), 2015: nontraumatic lower-extremity amputation per
# 1,000 adults with diabetes per year: major 1.34, minor 3.29.
DIABETES_MAJOR_AMPUTATION_PER_YEAR: Final = 1.34 / 1000
DIABETES_MINOR_AMPUTATION_PER_YEAR: Final = 3.29 / 1000
# ASSUMPTION: a foot ulcer ends in a minor amputation within the window in this share.
DFU_MINOR_AMPUTATION: Final = 0.15

# --- Venous disease ----------------------------------------------------------------

# ASSUMPTION: chronic venous disease (varicose veins or worse) in adults ≥ 40, and the
# share of it with an active venous ulcer; DVT history.
CVD_PREVALENCE: Final = 0.10
VENOUS_ULCER_SHARE_OF_CVD: Final = 0.06
DVT_HISTORY: Final = 0.025
VENOUS_ABLATION_SHARE_OF_CVD: Final = 0.15  # ASSUMPTION

# --- Who gets a vascular evaluation -------------------------------------------------

# ASSUMPTION: probability of a vascular study (ABI, toe pressure or duplex) in the last
# 12 months by the state a person is in. §6.3 (VDM 2016): more than half of amputees
# had no vascular intervention in the year before; these are set so that many people
# at risk are unevaluated, which the screening work is there to find.
EVALUATED_LAST_YEAR: Final[Mapping[str, float]] = MappingProxyType(
    {
        "clti": 0.80,
        "claudication": 0.50,
        "undiagnosed_pad": 0.05,
        "diabetic_foot_ulcer": 0.35,
        "venous": 0.40,
        "none": 0.02,
    }
)
EVALUATED_EARLIER: Final = 0.4  # ASSUMPTION: an older study 1-3 years back
# ASSUMPTION: diabetics with an HbA1c in the last year; people with an eGFR.
HBA1C_MEASURED: Final = 0.9
EGFR_MEASURED: Final = 0.7

# ASSUMPTION: background annual mortality by age band (US life tables, rounded).
BACKGROUND_DEATH_PER_YEAR: Final[Mapping[tuple[int, int], float]] = MappingProxyType(
    {(40, 60): 0.005, (60, 70): 0.012, (70, 80): 0.03, (80, 200): 0.09}
)


def by_age(table: Mapping[tuple[int, int], float], age: int) -> float:
    """The value of the age band holding `age` (bands are [low, high))."""
    for (low, high), value in table.items():
        if low <= age < high:
            return value
    return next(iter(table.values())) if age < 40 else list(table.values())[-1]


def _odds(p: float) -> float:
    return p / (1 - p)


def _marginal(baseline_odds: float, diabetes: float, smoking: float, ckd: float) -> float:
    """Population PAD prevalence for a baseline odds, with independent exposures."""
    total = 0.0
    for has_dm, has_smoke, has_ckd in product((0, 1), repeat=3):
        weight = (
            (diabetes if has_dm else 1 - diabetes)
            * (smoking if has_smoke else 1 - smoking)
            * (ckd if has_ckd else 1 - ckd)
        )
        odds = baseline_odds
        odds *= PAD_OR_DIABETES if has_dm else 1
        odds *= PAD_OR_CURRENT_SMOKING if has_smoke else 1
        odds *= PAD_OR_LOW_KIDNEY_FUNCTION if has_ckd else 1
        total += weight * odds / (1 + odds)
    return total


def _calibrate(band: tuple[int, int]) -> float:
    """Baseline odds (no exposure) that reproduce the band's PAD prevalence (§6.1)."""
    target = PAD_PREVALENCE_BY_AGE[band]
    low, high = 1e-6, _odds(target)
    for _ in range(60):
        mid = (low + high) / 2
        if _marginal(mid, DIABETES_BY_AGE[band], CURRENT_SMOKING, CKD_BY_AGE[band]) < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


# Calibrated once at import: the exposed groups get Ostchega's odds ratios while the
# whole band keeps Ostchega's prevalence.
PAD_BASELINE_ODDS: Final[Mapping[tuple[int, int], float]] = MappingProxyType(
    {band: _calibrate(band) for band in PAD_PREVALENCE_BY_AGE}
)


def pad_probability(*, age: int, diabetes: bool, current_smoker: bool, ckd: bool) -> float:
    """P(PAD) for one person: calibrated baseline odds times Ostchega's odds ratios."""
    band = next(b for b in PAD_PREVALENCE_BY_AGE if b[0] <= max(age, 40) < b[1])
    odds = PAD_BASELINE_ODDS[band]
    odds *= PAD_OR_DIABETES if diabetes else 1
    odds *= PAD_OR_CURRENT_SMOKING if current_smoker else 1
    odds *= PAD_OR_LOW_KIDNEY_FUNCTION if ckd else 1
    return odds / (1 + odds)
