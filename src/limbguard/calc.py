"""`limbguard calc`: the clinical calculators of `limbguard.vascular` on the command line.

    limbguard calc abi --dp 96 --pt 110 --brachial-left 128 --brachial-right 134
    limbguard calc tbi --toe 62 --brachial-left 128 --brachial-right 134
    limbguard calc wifi --w 2 --i 2 --fi 1 --json
    limbguard calc wifi --w 1 --fi 0 --abi 0.95 --toe-pressure 35
    limbguard calc glass --fp 2 --ip 3 --pedal P1
    limbguard calc ceap "C2,4a,S Ep As,p Pr GSVa"
    limbguard calc rvcss --pain 2 --varicose-veins 2 --venous-edema 1 ... (all ten items)
    limbguard calc rutherford --category 5
    limbguard calc rutherford --claudication severe --rest-pain --resting-ankle-pressure 35

Every answer comes from the public functions of `limbguard.vascular`; this module only
parses arguments and prints. Pressures are mmHg; a pressure left out is *not
obtainable*, an explicit 0 is an *absent signal* (as in `vascular.abi`).

Output is human-readable by default (value, category, reasons, source); `--json` prints
one JSON object with ``calculator``, the values, ``reasons`` and ``source``. Exit status
0 for an answer (including "not computable"), 2 for bad input: one line on stderr naming
the field, nothing on stdout.

No Django here: `limbguard.cli` dispatches `calc` before setting Django up, so the
calculators start in well under a second.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NoReturn

from limbguard.vascular import abi, ceap, glass, rutherford, rvcss, wifi
from limbguard.vascular._base import InvalidInput

EXIT_OK = 0
EXIT_BAD_INPUT = 2  # as argparse uses for usage errors

_PROG = "limbguard calc"
# Arguments that are not options, by the field name the library reports for them.
_POSITIONAL_LABELS: Mapping[str, str] = {"text": "TEXT"}


@dataclass(frozen=True)
class Answer:
    """One calculator's answer: what to print for people, and for machines."""

    calculator: str
    title: str
    rows: tuple[tuple[str, str], ...]
    data: Mapping[str, object]
    reasons: tuple[str, ...]
    source: str

    def as_json(self) -> dict[str, object]:
        return {
            "calculator": self.calculator,
            **self.data,
            "reasons": list(self.reasons),
            "source": self.source,
        }

    def as_text(self) -> str:
        width = max((len(label) for label, _ in self.rows), default=0)
        lines = [self.title]
        lines += [f"  {label.ljust(width)}  {value}" for label, value in self.rows]
        lines.append("reasons:")
        lines += [f"  - {reason}" for reason in self.reasons]
        lines.append(f"source: {self.source}")
        return "\n".join(lines)


class _UsageError(Exception):
    """An argparse error, already formatted as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: error: {message}")


def _optional_text(value: object) -> str:
    return "-" if value is None else str(value)


def _index_text(value: float | None) -> str:
    return "not computable" if value is None else f"{value:.2f}"


# --- calculators -------------------------------------------------------------------


def _abi(args: argparse.Namespace) -> Answer:
    result = abi.explain_leg_abi(
        dp=args.dp, pt=args.pt, brachial_left=args.brachial_left, brachial_right=args.brachial_right
    )
    category = None if result.category is None else result.category.value
    return Answer(
        calculator="abi",
        title="Ankle-brachial index (one leg)",
        rows=(
            ("ABI", _index_text(result.value)),
            ("category", _optional_text(category)),
            ("ankle artery", _optional_text(result.ankle_artery)),
        ),
        data={"value": result.value, "category": category, "ankle_artery": result.ankle_artery},
        reasons=result.reasons,
        source=result.source,
    )


def _tbi(args: argparse.Namespace) -> Answer:
    value = abi.toe_brachial_index(
        toe=args.toe, brachial_left=args.brachial_left, brachial_right=args.brachial_right
    )
    category = None if value is None else abi.classify_tbi(value).value
    arms = [p for p in (args.brachial_left, args.brachial_right) if p is not None]
    arm = max(arms, default=None)
    reasons = []
    if args.toe is None:
        reasons.append("toe pressure not obtainable: TBI not computable")
    elif args.toe == 0:
        reasons.append("toe pressure 0 mmHg: absent Doppler signal")
    if value is None and args.toe is not None:
        reasons.append("no brachial pressure above 0 mmHg: TBI not computable")
    if value is not None:
        reasons.append(
            f"toe pressure {args.toe} mmHg / higher brachial pressure {arm} mmHg = "
            f"{value:.2f} (exact division, rounded half-up)"
        )
        reasons.append(f"TBI {value:.2f} is {category} (abnormal at <= {abi.TBI_ABNORMAL_AT_MOST})")
    return Answer(
        calculator="tbi",
        title="Toe-brachial index (one foot)",
        rows=(("TBI", _index_text(value)), ("category", _optional_text(category))),
        data={"value": value, "category": category},
        reasons=tuple(reasons),
        source=abi.SOURCE,
    )


_PERFUSION_OPTIONS = "--abi, --ankle-pressure, --toe-pressure or --tcpo2"


def _wifi_ischemia(args: argparse.Namespace) -> tuple[int, wifi.IschemiaAssessment | None]:
    """The I grade: as given, or derived from the perfusion measures by the library."""
    measures = (args.abi, args.ankle_pressure, args.toe_pressure, args.tcpo2)
    if all(measure is None for measure in measures):
        if args.i is None:
            raise InvalidInput("i", f"is required: give --i 0-3, or {_PERFUSION_OPTIONS}")
        return args.i, None
    if args.i is not None:
        raise InvalidInput("i", f"give either --i or {_PERFUSION_OPTIONS}, not both")
    assessment = wifi.explain_ischemia(
        abi=args.abi,
        ankle_pressure=args.ankle_pressure,
        toe_pressure=args.toe_pressure,
        tcpo2=args.tcpo2,
    )
    if assessment.grade is None:
        raise InvalidInput(
            "i",
            "no usable perfusion measure (a noncompressible ABI, and the ankle pressure "
            "with it, cannot grade ischaemia): give --toe-pressure, --tcpo2 or --i",
        )
    return assessment.grade, assessment


def _wifi(args: argparse.Namespace) -> Answer:
    i, ischemia = _wifi_ischemia(args)
    result = wifi.classify(args.w, i, args.fi, unsalvageable=args.unsalvageable)
    stage_text = f"{result.clinical_stage} ({result.amputation_risk} 1-year amputation risk)"
    if result.unsalvageable:
        stage_text = f"5 (unsalvageable foot; table stage {result.table_stage})"
    rows = [
        ("clinical stage", stage_text),
        ("revascularization", f"{result.revascularization_benefit} ({result.benefit} benefit)"),
    ]
    ischemia_data: dict[str, object] | None = None
    reasons = result.reasons
    if ischemia is not None:
        used = None if ischemia.measure_used is None else ischemia.measure_used.value
        measure = _optional_text(used).replace("_", " ")
        rows.append(("ischaemia", f"I{i} from {measure}" + ", discordant" * ischemia.discordant))
        ischemia_data = {
            "grade": ischemia.grade,
            "measure_used": used,
            "grades": {measure.value: grade for measure, grade in ischemia.grades},
            "discordant": ischemia.discordant,
        }
        reasons = (*ischemia.reasons, *reasons)
    return Answer(
        calculator="wifi",
        title=f"SVS WIfI {result.code}",
        rows=tuple(rows),
        data={
            "w": result.w,
            "i": result.i,
            "fi": result.fi,
            "code": result.code,
            "stage": result.clinical_stage,
            "table_stage": result.table_stage,
            "amputation_risk": result.amputation_risk,
            "benefit": result.revascularization_benefit,
            "benefit_likelihood": result.benefit,
            "unsalvageable": result.unsalvageable,
            "ischemia": ischemia_data,
        },
        reasons=reasons,
        source=result.source,
    )


def _glass(args: argparse.Namespace) -> Answer:
    pedal = None if args.pedal is None else glass.Pedal(args.pedal)
    result = glass.explain_stage(args.fp, args.ip, pedal=pedal)
    stage = None if result.stage is None else result.stage.value
    pedal_value = None if result.pedal is None else result.pedal.value
    return Answer(
        calculator="glass",
        title=f"GLASS FP{result.fp} IP{result.ip}",
        rows=(
            ("stage", _optional_text(stage)),
            ("pedal", _optional_text(pedal_value)),
            ("label", result.label),
        ),
        data={
            "fp": result.fp,
            "ip": result.ip,
            "stage": stage,
            "pedal": pedal_value,
            "label": result.label,
        },
        reasons=result.reasons,
        source=result.source,
    )


def _ceap(args: argparse.Namespace) -> Answer:
    parsed = ceap.parse(args.text)
    canonical = str(parsed)
    symptoms = {True: "symptomatic (S)", False: "asymptomatic (A)", None: "S/A not stated"}
    reasons = [
        f"clinical classes {', '.join(parsed.clinical)}: highest C{parsed.highest}",
        symptoms[parsed.symptomatic],
    ]
    if canonical != args.text.strip():
        reasons.append(f"canonical 2020 form: {canonical}")
    level = None if parsed.level is None else parsed.level.value
    return Answer(
        calculator="ceap",
        title=f"CEAP {canonical}",
        rows=(
            ("clinical", ", ".join(parsed.clinical)),
            ("highest", f"C{parsed.highest}"),
            ("symptomatic", {True: "yes", False: "no", None: "not stated"}[parsed.symptomatic]),
            ("etiology", ", ".join(parsed.etiology) or "-"),
            ("anatomy", ", ".join(parsed.anatomy) or "-"),
            ("pathophysiology", ", ".join(parsed.pathophysiology) or "-"),
            (
                "segments",
                "; ".join(f"{p}: {','.join(s)}" for p, s in parsed.segments.items()) or "-",
            ),
            ("level", _optional_text(level)),
        ),
        data={
            "value": canonical,
            "clinical": parsed.clinical,
            "highest": parsed.highest,
            "symptomatic": parsed.symptomatic,
            "etiology": parsed.etiology,
            "anatomy": parsed.anatomy,
            "pathophysiology": parsed.pathophysiology,
            "segments": parsed.segments,
            "level": level,
        },
        reasons=tuple(reasons),
        source=ceap.SOURCE,
    )


def _rvcss(args: argparse.Namespace) -> Answer:
    given = {item.value: getattr(args, item.value) for item in rvcss.Item}
    result = rvcss.explain(**{name: points for name, points in given.items() if points is not None})
    return Answer(
        calculator="rvcss",
        title="Revised Venous Clinical Severity Score",
        rows=(("total", f"{result.value} of {rvcss.TOTAL_MAX}"), ("version", result.version)),
        data={
            "value": result.value,
            "max": rvcss.TOTAL_MAX,
            "version": result.version,
            "items": {
                score.item.value: {"points": score.points, "descriptor": score.descriptor}
                for score in result.items
            },
        },
        reasons=result.reasons,
        source=result.source,
    )


def _rutherford(args: argparse.Namespace) -> Answer:
    findings_given = (
        args.claudication is not None
        or args.rest_pain
        or args.tissue_loss is not None
        or args.resting_ankle_pressure is not None
        or args.toe_pressure is not None
        or args.flat_pedal_pvr is not None
    )
    if args.category is not None:
        if findings_given:
            raise InvalidInput("category", "give either --category or the clinical findings")
        category = args.category
        fontaine = rutherford.to_fontaine(category)
        clti = rutherford.indicates_clti(category)
        support = None
        reasons = [f"Rutherford {category} corresponds to Fontaine {fontaine} (TASC II)"]
        if clti:
            reasons.append("Rutherford 4-6: CLTI if symptoms have lasted more than 2 weeks")
        source = f"{rutherford.SOURCE}; {rutherford.FONTAINE_SOURCE}"
    elif findings_given:
        assessment = rutherford.explain_category(
            claudication=rutherford.Claudication(args.claudication or "none"),
            rest_pain=args.rest_pain,
            tissue_loss=rutherford.TissueLoss(args.tissue_loss or "none"),
            resting_ankle_pressure=args.resting_ankle_pressure,
            toe_pressure=args.toe_pressure,
            flat_pedal_pvr=args.flat_pedal_pvr,
        )
        category, fontaine, clti = assessment.category, assessment.fontaine, assessment.clti
        support = assessment.objective_support
        reasons = list(assessment.reasons)
        source = assessment.source
    else:
        raise InvalidInput(
            "category",
            "is required: give --category 0-6, or --claudication, --rest-pain, --tissue-loss",
        )
    return Answer(
        calculator="rutherford",
        title=f"Rutherford category {category}",
        rows=(
            ("category", str(category)),
            ("Fontaine", fontaine.value),
            ("CLTI range", "yes" if clti else "no"),
            ("objective support", _optional_text(support)),
        ),
        data={
            "category": category,
            "fontaine": fontaine.value,
            "clti": clti,
            "objective_support": support,
        },
        reasons=tuple(reasons),
        source=source,
    )


# --- arguments -----------------------------------------------------------------------

_Handler = Callable[[argparse.Namespace], Answer]


def _subcommand(
    subparsers: argparse._SubParsersAction[_Parser], name: str, handler: _Handler, summary: str
) -> _Parser:
    parser = subparsers.add_parser(name, help=summary, description=summary)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=handler, calculator=name)
    return parser


def _pressure(parser: _Parser, flag: str, what: str) -> None:
    parser.add_argument(
        flag, type=int, metavar="MMHG", help=f"{what}, mmHg (leave out: not obtainable; 0: absent)"
    )


def _brachials(parser: _Parser) -> None:
    _pressure(parser, "--brachial-left", "left brachial systolic pressure")
    _pressure(parser, "--brachial-right", "right brachial systolic pressure")


def _grade(parser: _Parser, flag: str, what: str, high: int, *, required: bool) -> None:
    parser.add_argument(flag, type=int, required=required, metavar=f"0-{high}", help=what)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=_PROG, description="Clinical calculators of limbguard.vascular.")
    subparsers = parser.add_subparsers(title="calculators", required=True, metavar="CALCULATOR")

    p = _subcommand(subparsers, "abi", _abi, "ankle-brachial index of one leg (AHA 2016/2024)")
    _pressure(p, "--dp", "dorsalis pedis systolic pressure")
    _pressure(p, "--pt", "posterior tibial systolic pressure")
    _brachials(p)

    p = _subcommand(subparsers, "tbi", _tbi, "toe-brachial index (AHA 2016/2024)")
    _pressure(p, "--toe", "toe systolic pressure")
    _brachials(p)

    p = _subcommand(subparsers, "wifi", _wifi, "SVS WIfI stage and revascularization benefit")
    _grade(p, "--w", "wound grade W", 3, required=True)
    _grade(p, "--i", "ischaemia grade I (or derive it from the measures below)", 3, required=False)
    _grade(p, "--fi", "foot infection grade fI", 3, required=True)
    p.add_argument("--abi", type=float, metavar="INDEX", help="ABI, to derive I")
    _pressure(p, "--ankle-pressure", "ankle systolic pressure, to derive I")
    _pressure(p, "--toe-pressure", "toe systolic pressure, to derive I")
    p.add_argument("--tcpo2", type=int, metavar="MMHG", help="TcPO2 in mmHg, to derive I")
    p.add_argument(
        "--unsalvageable", action="store_true", help="clinician judges the foot unsalvageable"
    )

    p = _subcommand(subparsers, "glass", _glass, "GLASS infrainguinal stage (GVG 2019)")
    _grade(p, "--fp", "femoropopliteal grade", 4, required=True)
    _grade(p, "--ip", "infrapopliteal grade", 4, required=True)
    p.add_argument("--pedal", choices=[p.value for p in glass.Pedal], help="pedal descriptor")

    p = _subcommand(subparsers, "ceap", _ceap, "parse and normalise a CEAP 2020 class")
    p.add_argument("text", metavar="TEXT", help='CEAP text, e.g. "C2,4a,S Ep As,p Pr GSVa"')

    p = _subcommand(subparsers, "rvcss", _rvcss, "revised Venous Clinical Severity Score 2010")
    for item in rvcss.Item:
        _grade(
            p, f"--{item.value.replace('_', '-')}", rvcss.DESCRIPTORS[item][1], 3, required=False
        )

    p = _subcommand(subparsers, "rutherford", _rutherford, "Rutherford category and Fontaine stage")
    _grade(p, "--category", "Rutherford category (or give the findings below)", 6, required=False)
    p.add_argument("--claudication", choices=[c.value for c in rutherford.Claudication])
    p.add_argument("--rest-pain", action="store_true", help="ischaemic rest pain")
    p.add_argument("--tissue-loss", choices=[t.value for t in rutherford.TissueLoss])
    _pressure(p, "--resting-ankle-pressure", "resting ankle pressure")
    _pressure(p, "--toe-pressure", "toe pressure")
    p.add_argument(
        "--flat-pedal-pvr",
        action=argparse.BooleanOptionalAction,
        help="flat or barely pulsatile ankle/metatarsal PVR",
    )
    return parser


def _field_label(field: str, args: argparse.Namespace) -> str:
    """The option (or argument) a field came from, as the user typed it."""
    if field in _POSITIONAL_LABELS:
        return _POSITIONAL_LABELS[field]
    return "--" + field.replace("_", "-") if field in vars(args) else field


def main(argv: list[str]) -> int:
    """Run one calculator; return the exit status (0 answered, 2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else EXIT_OK
    handler: _Handler = args.handler
    prog = f"{_PROG} {args.calculator}"
    try:
        answer = handler(args)
    except InvalidInput as error:
        message = str(error).removeprefix(f"{error.field}: ")
        print(f"{prog}: error: {_field_label(error.field, args)}: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(answer.as_json(), ensure_ascii=False))
    else:
        print(answer.as_text())
    return EXIT_OK
