"""Server-rendered SVG charts (matplotlib, no JavaScript).

Uses `matplotlib.figure.Figure` directly (never pyplot), so nothing global is touched
and concurrent requests do not share state. The SVG is deterministic for the same data
(fixed hash salt, no date metadata), which keeps tests and caches stable.
"""

from __future__ import annotations

import io
from typing import Final

import matplotlib as mpl
from matplotlib.figure import Figure

from limbguard.assessments.tracking import Trajectory
from limbguard.vascular import wound

mpl.rcParams["svg.hashsalt"] = "limbguard"
mpl.rcParams["svg.fonttype"] = "none"  # text stays text: readable and searchable

INK: Final = "#1b1f24"
ACCENT: Final = "#0b5cad"
DANGER: Final = "#a4161a"


def wound_area_svg(trajectory: Trajectory, *, title: str, ulcer_type: str | None) -> str:
    """Area (cm²) against days since the baseline, with the 4-week target when it applies."""
    figure = Figure(figsize=(6.4, 3.2), dpi=100)
    axes = figure.add_subplot()
    days = [p.day for p in trajectory.points]
    areas = [p.area_cm2 for p in trajectory.points]
    color = DANGER if trajectory.off_track else ACCENT
    axes.plot(days, areas, marker="o", color=color, linewidth=2, label="area (cm²)")
    if trajectory.points and ulcer_type in {t.value for t in wound.UlcerType}:
        criteria = wound.DEFAULT_FOUR_WEEK_CRITERIA[wound.UlcerType(ulcer_type)]
        baseline = trajectory.points[0].area_cm2
        target = baseline * (1 - float(criteria.on_track_from_percent) / 100)
        axes.axvspan(
            wound.FOUR_WEEKS_DAYS - wound.FOUR_WEEK_TOLERANCE_DAYS,
            wound.FOUR_WEEKS_DAYS + wound.FOUR_WEEK_TOLERANCE_DAYS,
            color="#f3f6f9",
            label="4-week window",
        )
        axes.axhline(
            target,
            color=INK,
            linestyle="--",
            linewidth=1,
            label=f"{criteria.on_track_from_percent} % reduction target",
        )
    axes.set_xlabel("days since first measurement")
    axes.set_ylabel("area (cm²)")
    axes.set_title(title, fontsize=10)
    axes.set_ylim(bottom=0)
    axes.set_xlim(left=0)
    axes.grid(alpha=0.3)
    # Below the plot, where it never hides a measurement.
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=3, frameon=False)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    # Drop the XML prolog and DOCTYPE: the SVG is inlined into an HTML page.
    return svg[svg.index("<svg") :]
