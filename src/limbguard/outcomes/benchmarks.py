"""Published benchmarks shown beside the program's figures, each with its citation.

Every figure is from ../shared/reference/codes_and_epidemiology.md §6 (abstract- or
page-level verification, V-secondary) or interop.md §C2 (VQI). A benchmark describes
its own population and endpoint: where it is not exactly ours the `caveat` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Benchmark:
    key: str
    metric: str  # which of our figures it sits beside
    label: str
    value: float  # a proportion 0-1 (or a rate per 100 person-years, see `unit`)
    day: int | None  # the time point, in days from the index date
    population: str
    source: str
    reference: str  # where in the shared reference it is recorded
    caveat: str = ""
    unit: str = "proportion"


SVS_OPG: Final = (
    "Conte MS et al., SVS objective performance goals for CLI, J Vasc Surg 2011;54:100-108"
)
VALS: Final = (
    "Vascular limb salvage (VaLS) clinic, Eur J Vasc Endovasc Surg 2021 (published Feb 11 2021)"
)
JONES_2013: Final = "Jones WS et al., Am Heart J 2013;165:809-815 (Medicare PAD, n=186,338)"
TERAA_2016: Final = "Teraa M, Conte MS et al., J Am Heart Assoc 2016;5:e002938"
TASC: Final = "TASC II natural-history table (Cleve Clin J Med, TASC-derived)"
SANGUILY: Final = (
    "Reducing amputation rates in CLI patients via a limb salvage program (Sanguily et al.), "
    "Vasc Dis Manag 2016;13(5):E112-E119"
)
VQI: Final = "SVS VQI long-term follow-up and participation awards (vqi.org; interop.md §C2)"
EPI: Final = "codes_and_epidemiology.md §6"

BENCHMARKS: Final = (
    Benchmark(
        "opg_male_pod_1y",
        "male_pod",
        "SVS OPG: 1-year freedom from MALE or perioperative death",
        0.77,
        365,
        "CLI, surgical bypass with vein (OPG; VSGNE 74 %)",
        SVS_OPG,
        f"{EPI}.5",
        caveat="bypass with vein in CLI; our cohort mixes procedures and indications",
    ),
    Benchmark(
        "vals_limb_salvage_1y",
        "limb_salvage",
        "VaLS clinic: 12-month freedom from major amputation",
        0.905,
        365,
        "vascular limb salvage clinic (82.1 % alternative pathways, 80.0 % before the clinic)",
        VALS,
        f"{EPI}.4",
    ),
    Benchmark(
        "tasc_clti_amputation_1y",
        "major_amputation",
        "CLTI natural history: major amputation at 1 year",
        0.25,
        365,
        "CLTI (TASC-derived; 20-30 % without revascularization, §6.6)",
        TASC,
        f"{EPI}.2",
        caveat="largely untreated CLTI: an upper reference, not a goal",
    ),
    Benchmark(
        "teraa_clti_death_6m",
        "overall_survival",
        "CLTI: survival at 6 months (mortality up to 20 %)",
        0.80,
        182,
        "CLTI",
        TERAA_2016,
        f"{EPI}.2",
        caveat="'up to 20 %' mortality: a lower bound for survival",
    ),
    Benchmark(
        "teraa_clti_death_5y",
        "overall_survival",
        "CLTI: survival at 5 years (mortality > 50 %)",
        0.50,
        1826,
        "CLTI",
        TERAA_2016,
        f"{EPI}.2",
        caveat="'> 50 %' mortality: an upper bound for survival",
    ),
    Benchmark(
        "jones_mortality_30d",
        "mortality_after_amputation",
        "Mortality 30 days after major amputation",
        0.135,
        30,
        "Medicare beneficiaries >= 65 with PAD",
        JONES_2013,
        f"{EPI}.3",
    ),
    Benchmark(
        "jones_mortality_1y",
        "mortality_after_amputation",
        "Mortality 1 year after major amputation",
        0.483,
        365,
        "Medicare beneficiaries >= 65 with PAD (3 years: 70.9 %)",
        JONES_2013,
        f"{EPI}.3",
    ),
    Benchmark(
        "sanguily_before",
        "amputation_before_after",
        "Amputation rate before a limb salvage program",
        0.29,
        None,
        "CLI patients, Martin Health System 2010",
        SANGUILY,
        f"{EPI}.4",
        caveat="share of CLI patients amputated; ours is the 1-year cumulative incidence",
    ),
    Benchmark(
        "sanguily_after",
        "amputation_before_after",
        "Amputation rate after a limb salvage program",
        0.01,
        None,
        "CLI patients, Martin Health System 2014",
        SANGUILY,
        f"{EPI}.4",
        caveat="share of CLI patients amputated; ours is the 1-year cumulative incidence",
    ),
    Benchmark(
        "vqi_ltfu",
        "followup_rate",
        "VQI long-term follow-up: 70 / 80 / 90 % earn 2 / 4 / 6 award points",
        0.80,
        None,
        "VQI member centers",
        VQI,
        "interop.md §C2",
    ),
)


def for_metric(metric: str) -> tuple[Benchmark, ...]:
    return tuple(b for b in BENCHMARKS if b.metric == metric)
