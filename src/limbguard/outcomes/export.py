"""The report as JSON (`limbguard report --json`), CSV (the page's download) and plain
lines (the command's output and the PDF's summary page). Aggregates only: no patient
appears in any of them."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from typing import Any

from limbguard.outcomes.benchmarks import Benchmark
from limbguard.outcomes.service import Point, Report
from limbguard.outcomes.survival import Estimate


def pct(estimate: Estimate | None) -> str:
    if estimate is None:
        return "not estimable (follow-up too short or no subjects)"
    return (
        f"{100 * estimate.value:.1f} % (95 % CI {100 * estimate.lower:.1f}–"
        f"{100 * estimate.upper:.1f})"
    )


def bench_text(benchmark: Benchmark | None) -> str:
    if benchmark is None:
        return ""
    value = f"{100 * benchmark.value:.1f} %"
    caveat = f"; {benchmark.caveat}" if benchmark.caveat else ""
    return f"benchmark {value}: {benchmark.label} ({benchmark.source}{caveat})"


def point_line(point: Point) -> str:
    bench = bench_text(point.benchmark)
    return f"{point.label}: {pct(point.estimate)}" + (f" — {bench}" if bench else "")


def summary_lines(report: Report) -> list[str]:
    lines = [f"Selection: {report.selection.describe()}"]
    if report.empty_reason:
        lines.append(f"Empty cohort: {report.empty_reason}.")
    lines.append(f"Treated limbs: {report.limbs}; patients: {report.patients}")
    for figure in report.figures:
        curve = figure.curves[0]
        lines.append("")
        lines.append(
            f"{figure.title} (n={curve.subjects}, events={curve.events}"
            + (f", competing deaths={curve.competing}" if curve.kind == "incidence" else "")
            + ")"
        )
        if curve.empty:
            lines.append(f"  {curve.empty_reason}")
        elif curve.note:
            lines.append(f"  {curve.note}")
        lines += [f"  {point_line(p)}" for p in figure.points]
    if report.before_after is not None:
        lines.append("")
        lines.append(f"Program start {report.before_after.program_start}:")
        lines += [f"  {point_line(p)}" for p in report.before_after.figure.points]
        for label, rate in report.before_after.rates:
            interval = rate.interval
            text = "no follow-up"
            if rate.per_100 is not None and interval is not None:
                low, high = interval
                text = f"{rate.per_100:.1f} per 100 limb-years (95 % CI {low:.1f}–{high:.1f})"
            lines.append(f"  major amputations {label}: {rate.events} events, {text}")
        lines += [f"  {bench_text(b)}" for b in report.before_after.figure.benchmarks]
    for title, rows in report.groups:
        lines.append("")
        lines.append(
            f"By {title[0].lower()}{title[1:]}:" if title[1:2].islower() else f"By {title}:"
        )
        for row in rows:
            lines.append(
                f"  {row.group}: {row.limbs} limbs, {row.amputations} major amputations, "
                f"{row.deaths} deaths; 1-year AFS {pct(row.afs_1y)}; "
                f"1-year limb salvage {pct(row.limb_salvage_1y)}"
            )
    overrides = report.overrides
    gate_rate = overrides.gate_rate
    lines.append("")
    lines.append(
        f"Amputation gate: {overrides.gate_planned} planned through an open gate, "
        f"{overrides.gate_overridden} by override, {overrides.gate_refused} refused"
        + (f" (override rate {100 * gate_rate:.0f} %)" if gate_rate is not None else "")
    )
    cds = overrides.cds
    lines.append(
        f"EHR amputation check (CDS Hooks): {cds.cards_issued} cards, {cds.accepted} accepted, "
        f"{cds.overridden} overridden"
        + (f" (override rate {100 * cds.rate:.0f} %)" if cds.rate is not None else "")
        + "".join(f"; {reason}: {n}" for reason, n in cds.reasons)
    )
    lines.append("")
    lines.append("Long-term follow-up (VQI 9–21 months), by center:")
    for followed in report.followup:
        share = followed.rate
        shown = f"{100 * share:.0f} %" if share is not None else "no eligible procedure"
        lines.append(f"  {followed.center}: {followed.followed}/{followed.eligible} ({shown})")
    return lines


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def to_json(report: Report) -> dict[str, Any]:
    """The whole report as JSON-ready data (curves included)."""
    data = _plain(dataclasses.asdict(report))
    for rate in data["followup"]:
        rate["rate"] = rate["followed"] / rate["eligible"] if rate["eligible"] else None
    if report.before_after is not None:
        data["before_after"]["rates"] = [
            {
                "period": label,
                "events": r.events,
                "person_years": r.person_years,
                "per_100": r.per_100,
                "interval": r.interval,
            }
            for label, r in report.before_after.rates
        ]
    assert isinstance(data, dict)
    return data


def to_csv(report: Report) -> str:
    """One row per curve step: figure, curve, day, estimate, 95 % bounds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["# LimbGuard program outcomes", report.selection.describe()])
    writer.writerow(["figure", "curve", "day", "estimate", "lower_95", "upper_95"])
    figures = list(report.figures)
    if report.before_after is not None:
        figures.append(report.before_after.figure)
    for figure in figures:
        for curve in figure.curves:
            if curve.empty:
                writer.writerow([figure.key, curve.label, "", "", "", curve.empty_reason])
            for day, value, low, high in zip(
                curve.days, curve.value, curve.lower, curve.upper, strict=True
            ):
                writer.writerow(
                    [
                        figure.key,
                        curve.label,
                        f"{day:g}",
                        f"{value:.6f}",
                        f"{low:.6f}",
                        f"{high:.6f}",
                    ]
                )
    return buffer.getvalue()
