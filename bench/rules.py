"""Benchmark: evaluations per second of every calculator in `limbguard.vascular`.

    .venv/bin/python bench/rules.py                  # all calculators, 7 repeats
    .venv/bin/python bench/rules.py --only ceap      # names containing "ceap"
    .venv/bin/python bench/rules.py --repeat 9 --min-time 0.5 --cpu 1

What it does:
1. Builds, before any timing, a list of varied valid inputs for each calculator from
   a fixed seed (e.g. 1,000 pressure sets for `abi.leg_abi`, every WIfI and GLASS
   cell, a few hundred distinct CEAP strings, codes of all four systems, found and
   not found). Each input is evaluated once up front, which also checks it is valid
   and warms lazy tables such as the CMS ICD-10-CM expansion of `codes`.
2. Pins the process to one CPU (where the OS allows it) and, like `timeit`, calls the
   function over the whole list as many times as fills `--min-time` seconds; that is
   one repeat. The loop and the argument unpacking are inside the timing, so the
   figures are slightly conservative; the garbage collector stays on, as in real use.
   Time is this process's CPU time (`time.process_time`), so other work on a shared
   machine does not count against the rules; `--clock wall` times elapsed seconds.
3. Prints one row per calculator: the median evaluations per second over `--repeat`
   repeats (at least 5), its ratio to the target of 100,000 per second, and pass/fail.

Exit status: 0 when every calculator reaches 100,000 evaluations per second, 1 when one
does not. Compare figures from runs on the same machine: a busy machine still slows
the rules a little through shared caches, even on the CPU clock.

`ceap.parse` memoises its result for the last `PARSE_CACHE_SIZE` (4,096) texts, since a
registry repeats a few hundred spellings, so it is timed as called, with repeated
inputs answered from the cache. The parser behind the cache, i.e. a text seen for the
first time, is printed as an extra "(first sight)" row for information; it is not held
to the target.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from limbguard.vascular import (
    abi,
    ceap,
    codes,
    duplex,
    glass,
    infection,
    rutherford,
    rvcss,
    wifi,
    wound,
)
from limbguard.vascular.ceap import _parser as ceap_parser

TARGET_PER_SECOND = 100_000
SEED = 2026
INPUTS = 1_000
MIN_REPEATS = 5
# Seconds of this process's CPU time, or elapsed (wall-clock) seconds.
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}

Call = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """One calculator and its precomputed inputs; `gated` cases must reach the target."""

    name: str
    function: Callable[..., object]
    calls: Sequence[Call]
    gated: bool = True


@dataclass
class Measured:
    case: Case
    rates: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.rates)


def kw(**kwargs: Any) -> Call:
    return ((), kwargs)


def pos(*args: Any) -> Call:
    return (args, {})


# --- inputs -------------------------------------------------------------------------


def _maybe(rng: random.Random, value: int, p_none: float = 0.1) -> int | None:
    return None if rng.random() < p_none else value


def _pressure_sets(rng: random.Random) -> list[Call]:
    calls = []
    for _ in range(INPUTS):
        left = _maybe(rng, rng.randint(80, 220), 0.2)
        right = rng.randint(80, 220) if left is None else _maybe(rng, rng.randint(80, 220))
        calls.append(
            kw(
                dp=_maybe(rng, rng.randint(0, 300)),
                pt=_maybe(rng, rng.randint(0, 300)),
                brachial_left=left,
                brachial_right=right,
            )
        )
    return calls


def _toe_sets(rng: random.Random) -> list[Call]:
    return [
        kw(
            toe=_maybe(rng, rng.randint(0, 180)),
            brachial_left=rng.randint(80, 220),
            brachial_right=None,
        )
        for _ in range(INPUTS)
    ]


def _indices(rng: random.Random) -> list[Call]:
    return [pos(round(rng.uniform(0.0, 2.0), rng.choice((2, 3)))) for _ in range(INPUTS)]


def _perfusion(rng: random.Random) -> list[Call]:
    calls = []
    for _ in range(INPUTS):
        measures: dict[str, Any] = {
            "abi": round(rng.uniform(0.2, 1.6), 2),
            "ankle_pressure": rng.randint(20, 220),
            "toe_pressure": rng.randint(0, 150),
            "tcpo2": rng.randint(0, 90),
        }
        chosen = rng.sample(sorted(measures), rng.randint(1, 4))
        calls.append(kw(**{name: measures[name] for name in chosen}))
    return calls


def _wifi_cells() -> list[Call]:
    return [pos(w, i, fi) for w in range(4) for i in range(4) for fi in range(4)]


def _glass_cells() -> list[Call]:
    return [pos(fp, ip) for fp in range(5) for ip in range(5)]


def _glass_explained(rng: random.Random) -> list[Call]:
    pedals = [None, *glass.Pedal]
    return [((fp, ip), {"pedal": rng.choice(pedals)}) for fp in range(5) for ip in range(5)]


def _fp_lesions(rng: random.Random) -> list[Call]:
    sfa, popliteal = glass.FemoropoplitealArtery.SFA, glass.FemoropoplitealArtery.POPLITEAL
    calls = []
    for _ in range(INPUTS):
        lesions = []
        for _ in range(rng.randint(0, 3)):
            length = rng.choice((1, 2.5, 4, 6, 9.5, 12, 18, 20, 25))
            if rng.random() < 0.5:
                occluded = rng.random() < 0.5
                flush = occluded and rng.random() < 0.3
                lesions.append(glass.FemoropoplitealLesion(sfa, length, occluded, flush))
            else:
                lesions.append(
                    glass.FemoropoplitealLesion(
                        popliteal,
                        min(length, 8),
                        occluded=rng.random() < 0.2,
                        involves_trifurcation=rng.random() < 0.2,
                    )
                )
        calls.append(((lesions,), {"severe_calcification": rng.random() < 0.2}))
    return calls


def _ip_lesions(rng: random.Random) -> list[Call]:
    calls = []
    for _ in range(INPUTS):
        lesions = [
            glass.InfrapoplitealLesion(
                rng.choice((1, 2, 2.5, 4, 6, 8)),
                occluded=rng.random() < 0.4,
                at_origin=rng.random() < 0.2,
                involves_tp_trunk=rng.random() < 0.2,
            )
            for _ in range(rng.randint(0, 3))
        ]
        options = {
            "target": rng.choice(list(glass.TibialTarget)),
            "vessel_length_cm": rng.choice((30, 35, 40)),
            "severe_calcification": rng.random() < 0.2,
        }
        calls.append(((lesions,), options))
    return calls


_C_CLASSES = ("0", "1", "2", "2r", "3", "4a", "4b", "4c", "5", "6", "6r")
_SEGMENTS = {
    "s": ("GSVa", "GSVb", "SSV", "AASV"),
    "d": ("CFV", "FV", "POPV", "PTV", "CIV"),
    "p": ("TPV", "CPV"),
}


def _ceap_candidate(rng: random.Random) -> str:
    classes = sorted(rng.sample(_C_CLASSES[1:], rng.randint(1, 3)), key=_C_CLASSES.index)
    text = "C" + ",".join(classes) + rng.choice(("", ",S", ",A", "s"))
    if rng.random() < 0.2:
        return text
    text += " E" + rng.choice(("p", "s", "si", "se", "c", "p,s"))
    systems = sorted(rng.sample(sorted(_SEGMENTS), rng.randint(1, 3)))
    text += " A" + ",".join(systems)
    pool = [segment for system in systems for segment in _SEGMENTS[system]]
    for code in rng.sample(("r", "o"), rng.randint(1, 2)):
        segments = rng.sample(pool, rng.randint(0, min(3, len(pool))))
        pool = [s for s in pool if s not in segments]
        text += f" P{code}" + (" " + ",".join(segments) if segments else "")
    return text + rng.choice(("", "", " LII", " LIII"))


def _ceap_texts(rng: random.Random, count: int = 400) -> list[Call]:
    """Distinct valid CEAP strings, basic and advanced; candidates the parser refuses
    (e.g. two P groups naming the same segment) are dropped."""
    texts: dict[str, None] = {}
    while len(texts) < count:
        text = _ceap_candidate(rng)
        try:
            ceap.parse(text)
        except ValueError:
            continue
        texts[text] = None
    return [pos(text) for text in texts]


def _rvcss_items(rng: random.Random) -> list[Call]:
    calls = []
    for _ in range(INPUTS):
        items = {item.value: rng.randint(0, 3) for item in rvcss.Item}
        ulcers = items["active_ulcer_number"]
        for name in ("active_ulcer_duration", "active_ulcer_size"):
            items[name] = 0 if ulcers == 0 else rng.randint(1, 3)
        calls.append(kw(**items))
    return calls


def _rutherford_findings(rng: random.Random) -> list[Call]:
    return [
        kw(
            claudication=rng.choice(list(rutherford.Claudication)),
            rest_pain=rng.random() < 0.3,
            tissue_loss=rng.choice(list(rutherford.TissueLoss)),
        )
        for _ in range(INPUTS)
    ]


def _rutherford_explained(rng: random.Random) -> list[Call]:
    calls = []
    for (_, findings), _ in zip(_rutherford_findings(rng), range(INPUTS), strict=False):
        calls.append(
            kw(
                **findings,
                resting_ankle_pressure=_maybe(rng, rng.randint(10, 150), 0.3),
                toe_pressure=_maybe(rng, rng.randint(0, 100), 0.3),
                flat_pedal_pvr=rng.choice((None, True, False)),
            )
        )
    return calls


def _infection_signs(rng: random.Random) -> list[Call]:
    calls = []
    for _ in range(INPUTS):
        signs = infection.InfectionSigns(
            swelling_or_induration=rng.random() < 0.4,
            erythema_cm=rng.choice((None, 0.0, 0.4, 1.0, 2.5, 5.0)),
            tenderness_or_pain=rng.random() < 0.4,
            warmth=rng.random() < 0.4,
            purulent_discharge=rng.random() < 0.3,
            deep_tissue_infection=rng.random() < 0.2,
            osteomyelitis=rng.random() < 0.1,
            temperature_c=rng.choice((None, 36.8, 38.5, 35.5)),
            heart_rate=rng.choice((None, 80, 110)),
            respiratory_rate=rng.choice((None, 16, 24)),
            wbc_per_ul=rng.choice((None, 8_000, 14_000, 3_000)),
        )
        calls.append(pos(signs))
    return calls


def _stenoses(rng: random.Random) -> list[Call]:
    calls = []
    for _ in range(INPUTS):
        if rng.random() < 0.1:
            calls.append(kw(flow=False))
        else:
            psv = rng.choice((None, round(rng.uniform(40, 500), 1)))
            calls.append(kw(psv_ratio=round(rng.uniform(0.8, 6.0), 2), psv_cm_s=psv))
    return calls


def _refluxes(rng: random.Random) -> list[Call]:
    segments = ["GSVa", "GSVb", "SSV", "CFV", "FV", "POPV", "PTV", "TPV", "CPV"]
    calls = []
    for _ in range(INPUTS):
        segment = rng.choice(segments)
        extra: dict[str, Any] = {}
        if segment in ("TPV", "CPV"):
            extra = {
                "diameter_mm": rng.choice((None, 2.5, 3.5, 4.2)),
                "beneath_venous_ulcer": rng.choice((None, True, False)),
            }
        calls.append(kw(segment=segment, reflux_ms=rng.randint(0, 3000), **extra))
    return calls


def _wound_areas(rng: random.Random) -> list[Call]:
    return [
        kw(
            length_cm=round(rng.uniform(0, 12), 1),
            width_cm=round(rng.uniform(0, 8), 1),
            method=rng.choice(list(wound.AreaMethod)),
        )
        for _ in range(INPUTS)
    ]


def _wound_pairs(rng: random.Random, *, days: tuple[int, int]) -> list[Call]:
    calls = []
    for _ in range(INPUTS):
        baseline = round(rng.uniform(0.5, 40), 2)
        current = round(rng.uniform(0, baseline * 1.2), 2)
        calls.append(
            kw(baseline_cm2=baseline, current_cm2=current, days_elapsed=rng.randint(*days))
        )
    return calls


def _four_weeks(rng: random.Random) -> list[Call]:
    calls = _wound_pairs(rng, days=(21, 35))
    for _, arguments in calls:
        arguments["ulcer_type"] = rng.choice(list(wound.UlcerType))
    return calls


def _codes(rng: random.Random) -> list[Call]:
    """Codes from every value set of every system, spelled variously, plus misses."""
    known: list[tuple[str, str]] = []
    for code_system in codes.CodeSystem:
        for category in codes.Category:
            found = codes.value_set(category, code_system)
            known += [(code_system.value, code) for code in sorted(found)]
    calls = []
    for _ in range(INPUTS):
        system, code = rng.choice(known)
        if system == "ICD10CM" and rng.random() < 0.5:
            code = code.replace(".", "").lower()
        if rng.random() < 0.1:
            system, code = rng.choice((("ICD10CM", "Z00.00"), ("CPT", "99213"), ("LOINC", "1-8")))
        calls.append(pos(system, code))
    return calls


def _exercise(rng: random.Random) -> list[Call]:
    calls = []
    for _ in range(INPUTS):
        rest = rng.randint(60, 220)
        resting_abi = round(rng.uniform(0.5, 1.4), 2)
        calls.append(
            kw(
                resting_ankle_pressure=rest,
                post_exercise_ankle_pressure=max(0, rest - rng.randint(-10, 80)),
                resting_abi=resting_abi,
                post_exercise_abi=round(max(0.0, resting_abi - rng.uniform(-0.1, 0.5)), 2),
            )
        )
    return calls


def _wound_findings(rng: random.Random) -> list[Call]:
    return [
        kw(ulcer=rng.choice(list(wifi.Ulcer)), gangrene=rng.choice(list(wifi.Gangrene)))
        for _ in range(INPUTS)
    ]


def _inflow(rng: random.Random) -> list[Call]:
    diseases = list(glass.Disease)
    return [
        kw(
            aorta=rng.choice(diseases),
            common_iliac=rng.choice(diseases),
            external_iliac=rng.choice(diseases),
            severe_diffuse_or_small_calibre=rng.random() < 0.1,
            diffuse_in_stent_restenosis=rng.random() < 0.1,
            cfa_disease=rng.random() < 0.3,
        )
        for _ in range(INPUTS)
    ]


def _pedal() -> list[Call]:
    return [
        kw(target_crosses_ankle=crosses, pedal_arch_intact=intact)
        for crosses in (True, False)
        for intact in (True, False)
    ]


def _fontaine_findings(rng: random.Random) -> list[Call]:
    return [
        kw(
            pain_free_walking_m=_maybe(rng, rng.randint(20, 800), 0.3),
            rest_pain=rng.random() < 0.2,
            tissue_loss=rng.random() < 0.2,
        )
        for _ in range(INPUTS)
    ]


def _treadmill(rng: random.Random) -> list[Call]:
    calls = []
    for _ in range(INPUTS):
        rest = rng.randint(60, 200)
        calls.append(
            kw(
                completed=rng.random() < 0.6,
                resting_ankle_pressure=rest,
                post_exercise_ankle_pressure=max(0, rest - rng.randint(0, 120)),
            )
        )
    return calls


def _acute(rng: random.Random) -> list[Call]:
    return [
        kw(
            sensory_loss=rng.choice(list(rutherford.SensoryLoss)),
            muscle_weakness=rng.choice(list(rutherford.MuscleWeakness)),
            arterial_doppler_audible=rng.choice((None, True, False)),
            venous_doppler_audible=rng.choice((None, True, False)),
        )
        for _ in range(INPUTS)
    ]


def _iwgdf_labels() -> list[Call]:
    return [pos(text) for text in ("1", "2", "3", "4", "3(O)", "4 (o)", " 2 ")]


def build_cases() -> list[Case]:
    """Every calculator with its inputs, in the order of the contract's modules."""
    rng = random.Random(SEED)
    pressures, toes, indices = _pressure_sets(rng), _toe_sets(rng), _indices(rng)
    legs = [kw(**p[1], toe=t[1]["toe"]) for p, t in zip(pressures, toes, strict=True)]
    perfusion, cells, signs = _perfusion(rng), _wifi_cells(), _infection_signs(rng)
    texts = _ceap_texts(rng)
    reductions = [
        kw(baseline_cm2=a["baseline_cm2"], current_cm2=a["current_cm2"])
        for _, a in _wound_pairs(rng, days=(1, 90))
    ]
    return [
        Case("abi.leg_abi", abi.leg_abi, pressures),
        Case("abi.explain_leg_abi", abi.explain_leg_abi, pressures),
        Case("abi.classify_abi", abi.classify_abi, indices),
        Case("abi.toe_brachial_index", abi.toe_brachial_index, toes),
        Case("abi.classify_tbi", abi.classify_tbi, indices),
        Case("abi.assess_leg", abi.assess_leg, legs),
        Case("abi.exercise_abi_positive", abi.exercise_abi_positive, _exercise(rng)),
        Case("abi.explain_exercise_abi", abi.explain_exercise_abi, _exercise(rng)),
        Case("wifi.wound_grade", wifi.wound_grade, _wound_findings(rng)),
        Case("wifi.ischemia_grade", wifi.ischemia_grade, perfusion),
        Case("wifi.explain_ischemia", wifi.explain_ischemia, perfusion),
        Case("wifi.foot_infection_grade", wifi.foot_infection_grade, signs),
        Case("wifi.clinical_stage", wifi.clinical_stage, cells),
        Case("wifi.revascularization_benefit", wifi.revascularization_benefit, cells),
        Case("wifi.classify", wifi.classify, cells),
        Case("glass.stage", glass.stage, _glass_cells()),
        Case("glass.explain_stage", glass.explain_stage, _glass_explained(rng)),
        Case("glass.femoropopliteal_grade", glass.femoropopliteal_grade, _fp_lesions(rng)),
        Case("glass.infrapopliteal_grade", glass.infrapopliteal_grade, _ip_lesions(rng)),
        Case("glass.inframalleolar_descriptor", glass.inframalleolar_descriptor, _pedal()),
        Case("glass.aortoiliac_stage", glass.aortoiliac_stage, _inflow(rng)),
        Case("rutherford.to_fontaine", rutherford.to_fontaine, [pos(c) for c in range(7)]),
        Case("rutherford.category", rutherford.category, _rutherford_findings(rng)),
        Case(
            "rutherford.explain_category", rutherford.explain_category, _rutherford_explained(rng)
        ),
        Case("rutherford.fontaine_stage", rutherford.fontaine_stage, _fontaine_findings(rng)),
        Case("rutherford.claudication_category", rutherford.claudication_category, _treadmill(rng)),
        Case(
            "rutherford.acute_limb_ischemia_class",
            rutherford.acute_limb_ischemia_class,
            _acute(rng),
        ),
        Case("ceap.parse", ceap.parse, texts),
        # The parser behind parse's cache: the cost of a text never seen before.
        Case("ceap.parse (first sight)", ceap_parser._parse_text.__wrapped__, texts, gated=False),
        Case("rvcss.score", rvcss.score, _rvcss_items(rng)),
        Case("rvcss.explain", rvcss.explain, _rvcss_items(rng)),
        Case("infection.classify_infection", infection.classify_infection, signs),
        Case("infection.to_pedis", infection.to_pedis, [pos(grade) for grade in range(1, 5)]),
        Case("infection.parse_iwgdf", infection.parse_iwgdf, _iwgdf_labels()),
        Case("duplex.classify_stenosis", duplex.classify_stenosis, _stenoses(rng)),
        Case("duplex.assess_reflux", duplex.assess_reflux, _refluxes(rng)),
        Case("wound.area", wound.area, _wound_areas(rng)),
        Case("wound.percent_area_reduction", wound.percent_area_reduction, reductions),
        Case("wound.four_week_check", wound.four_week_check, _four_weeks(rng)),
        Case("wound.project_healing", wound.project_healing, _wound_pairs(rng, days=(1, 90))),
        Case("codes.categorize", codes.categorize, _codes(rng)),
        Case("codes.describe", codes.describe, _codes(rng)),
    ]


# --- timing -------------------------------------------------------------------------


def _evaluate_all(function: Callable[..., object], calls: Sequence[Call]) -> None:
    for args, kwargs in calls:
        function(*args, **kwargs)


def _timed(case: Case, loops: int, clock: Callable[[], float]) -> float:
    """Seconds on `clock` for `loops` passes through the inputs."""
    start = clock()
    for _ in range(loops):
        _evaluate_all(case.function, case.calls)
    return clock() - start


def measure(case: Case, *, repeat: int, min_time: float, clock: Callable[[], float]) -> Measured:
    _evaluate_all(case.function, case.calls)  # validates the inputs and warms caches
    loops = 1  # like timeit.Timer.autorange: enough passes for a repeat to last min_time
    while _timed(case, loops, clock) < min_time:
        loops *= 2
    result = Measured(case)
    for _ in range(repeat):
        result.rates.append(loops * len(case.calls) / _timed(case, loops, clock))
    return result


def _pin_to_one_cpu(cpu: int | None) -> str:
    """Run on one CPU: `cpu`, or the lowest this process may use."""
    affinity = getattr(os, "sched_getaffinity", None)
    setter = getattr(os, "sched_setaffinity", None)
    if affinity is None or setter is None:
        return "not pinned (no sched_setaffinity on this OS)"
    chosen = min(affinity(0)) if cpu is None else cpu
    setter(0, {chosen})
    return f"pinned to CPU {chosen}"


def print_table(results: Sequence[Measured]) -> None:
    width = max(len(r.case.name) for r in results)
    header = f"{'calculator'.ljust(width)}  {'median eval/s':>14}  {'x target':>9}  result"
    print(header)
    print("-" * len(header))
    for r in results:
        verdict = (
            "info" if not r.case.gated else ("pass" if r.median >= TARGET_PER_SECOND else "FAIL")
        )
        print(
            f"{r.case.name.ljust(width)}  {r.median:>14,.0f}  "
            f"{r.median / TARGET_PER_SECOND:>8.2f}x  {verdict}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7, help="repeats per calculator (>= 5)")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per repeat")
    parser.add_argument("--only", default="", help="run calculators whose name contains this")
    parser.add_argument("--cpu", type=int, help="CPU to pin to (default: the lowest allowed)")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: this process's CPU time (default, steady on a shared machine); wall: elapsed",
    )
    args = parser.parse_args(argv)
    if args.repeat < MIN_REPEATS:
        parser.error(f"--repeat must be at least {MIN_REPEATS}")
    cases = [case for case in build_cases() if args.only in case.name]
    if not cases:
        parser.error(f"no calculator name contains {args.only!r}")
    pinned = _pin_to_one_cpu(args.cpu)
    print(
        f"limbguard.vascular calculators: Python {platform.python_version()}, {pinned}, "
        f"{args.clock} clock, median of {args.repeat} repeats of >= {args.min_time} s, "
        f"target {TARGET_PER_SECOND:,} evaluations/s"
    )
    clock = CLOCKS[args.clock]
    results = [
        measure(case, repeat=args.repeat, min_time=args.min_time, clock=clock) for case in cases
    ]
    print_table(results)
    failed = [r.case.name for r in results if r.case.gated and r.median < TARGET_PER_SECOND]
    if failed:
        print(f"below target: {', '.join(failed)}")
        return 1
    print(f"all {sum(r.case.gated for r in results)} calculators reach the target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
