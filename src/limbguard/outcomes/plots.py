"""Server-rendered plots of the outcome figures: inline SVG for the page, and the same
figures as pages of a PDF (matplotlib's PdfPages) for the printable report.

`matplotlib.figure.Figure` only (never pyplot): no global state between requests. The
SVG is deterministic for the same data (fixed hash salt, no date).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Final

import matplotlib as mpl
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure as MplFigure

from limbguard.outcomes.service import Figure, Report
from limbguard.outcomes.survival import Curve

mpl.rcParams["svg.hashsalt"] = "limbguard"
mpl.rcParams["svg.fonttype"] = "none"

COLORS: Final = ("#0b5cad", "#a4161a", "#2b8a3e", "#7048e8")
INK: Final = "#1b1f24"
MAX_DAYS: Final = 1095


def _draw(figure: Figure, target: MplFigure) -> None:
    axes = target.add_axes((0.1, 0.34, 0.86, 0.56))
    table = target.add_axes((0.1, 0.02, 0.86, 0.2))
    table.axis("off")
    axes.set_title(figure.title, fontsize=11)
    axes.set_ylabel(figure.y_label, fontsize=9)
    axes.set_xlabel("days from index", fontsize=9)
    axes.set_ylim(0, 1.02)
    axes.grid(alpha=0.3)
    if figure.empty:
        axes.text(
            0.5,
            0.5,
            "No subjects in this cohort: nothing to estimate",
            ha="center",
            va="center",
            transform=axes.transAxes,
            color=INK,
        )
        axes.set_xlim(0, 365)
        return
    horizon = min(MAX_DAYS, max(c.last_day for c in figure.curves if not c.empty) or 1)
    for color, curve in zip(COLORS, figure.curves, strict=False):
        if curve.empty:
            continue
        days = [*curve.days, curve.last_day]
        values = [*curve.value, curve.value[-1]]
        lows = [*curve.lower, curve.lower[-1]]
        highs = [*curve.upper, curve.upper[-1]]
        axes.step(days, values, where="post", color=color, linewidth=1.8, label=curve.label)
        axes.fill_between(days, lows, highs, step="post", color=color, alpha=0.15, linewidth=0)
    for bench in figure.benchmarks:
        if bench.day is None or bench.unit != "proportion":
            continue
        axes.plot([bench.day], [bench.value], marker="D", color=INK, markersize=5, linestyle="none")
        axes.annotate(
            bench.label.split(":")[0],
            (bench.day, bench.value),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    axes.set_xlim(0, horizon)
    axes.legend(fontsize=8, loc="lower left", frameon=False)
    _at_risk_table(table, figure.curves)


def _at_risk_table(axes: object, curves: Sequence[Curve]) -> None:
    from matplotlib.axes import Axes

    assert isinstance(axes, Axes)
    shown = [c for c in curves if not c.empty]
    if not shown:
        return
    days = sorted({r.day for c in shown for r in c.at_risk})
    rows = []
    for curve in shown:
        by_day = {r.day: r.at_risk for r in curve.at_risk}
        rows.append([str(by_day.get(d, "–")) for d in days])
    table = axes.table(
        cellText=rows,
        rowLabels=[f"at risk: {c.label}"[:34] for c in shown],
        colLabels=[f"day {d}" for d in days],
        loc="center",
        cellLoc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7)


def figure_svg(figure: Figure) -> str:
    """One figure, curves with their 95 % bands, benchmarks, at-risk table, as SVG."""
    target = MplFigure(figsize=(7.2, 4.6), dpi=100)
    _draw(figure, target)
    buffer = io.StringIO()
    target.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def _text_page(pdf: PdfPages, title: str, lines: Sequence[str]) -> None:
    page = MplFigure(figsize=(8.27, 11.69))
    page.text(0.08, 0.95, title, fontsize=16, weight="bold", va="top")
    y = 0.9
    for line in lines:
        page.text(0.08, y, line, fontsize=8.5, va="top", wrap=True)
        y -= 0.022
        if y < 0.05:
            pdf.savefig(page)  # type: ignore[no-untyped-call]
            page = MplFigure(figsize=(8.27, 11.69))
            y = 0.95
    pdf.savefig(page)  # type: ignore[no-untyped-call]


def report_pdf(report: Report, lines: Sequence[str]) -> bytes:
    """The printable report: a summary page (`lines`, from `export.summary_lines`), then
    one page per figure. Title and subject are set in the PDF's metadata."""
    buffer = io.BytesIO()
    figures = list(report.figures)
    if report.before_after is not None:
        figures.append(report.before_after.figure)
    with PdfPages(
        buffer,
        metadata={
            "Title": "LimbGuard program outcomes report",
            "Subject": report.selection.describe(),
            "Creator": "LimbGuard",
            "CreationDate": None,
        },
    ) as pdf:
        _text_page(pdf, "LimbGuard program outcomes report", lines)
        for figure in figures:
            page = MplFigure(figsize=(8.27, 5.8))
            _draw(figure, page)
            pdf.savefig(page)
    return buffer.getvalue()
