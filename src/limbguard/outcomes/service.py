"""The program's outcome figures for a selection, as plain typed data.

`program_report(selection)` is what the analytics page, its CSV, the printable report
and `limbguard report` all show. Definitions of the subjects are in `cohorts.py`; the
estimators in `survival.py`; the published figures beside ours in `benchmarks.py`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from django.db.models import Count
from django.utils import timezone

from limbguard.cdshooks.analytics import OverrideRate, override_rate
from limbguard.clinics.models import Center
from limbguard.outcomes import benchmarks, cohorts
from limbguard.outcomes.benchmarks import Benchmark
from limbguard.outcomes.cohorts import AmputationSubject, LimbSubject
from limbguard.outcomes.survival import (
    COMPETING,
    EVENT,
    Curve,
    Estimate,
    Rate,
    aalen_johansen,
    kaplan_meier,
)
from limbguard.treatment.lists import FollowupRate, followup_rates
from limbguard.treatment.models import AmputationOrder, OrderStatus
from limbguard.treatment.vocab import CohortIndication

ONE_YEAR: Final = 365
DAYS_PER_YEAR: Final = 365.25
EMPTY: Final = "no treated limb matches this selection"


@dataclass(frozen=True)
class Selection:
    as_of: dt.date
    center: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    indication: str = ""
    wifi_stage: int | None = None
    program_start: dt.date | None = None

    def describe(self) -> str:
        parts = [f"center {self.center or 'all'}"]
        if self.date_from or self.date_to:
            parts.append(f"index dates {self.date_from or '…'} to {self.date_to or '…'}")
        if self.indication:
            parts.append(f"indication {CohortIndication(self.indication).label}")
        if self.wifi_stage:
            parts.append(f"WIfI stage {self.wifi_stage}")
        parts.append(f"data as of {self.as_of}")
        return "; ".join(parts)

    def keeps(self, subject: LimbSubject) -> bool:
        return (
            (not self.center or subject.center == self.center)
            and (self.date_from is None or subject.index_date >= self.date_from)
            and (self.date_to is None or subject.index_date <= self.date_to)
            and (not self.indication or subject.indication == self.indication)
            and (self.wifi_stage is None or subject.wifi_stage == self.wifi_stage)
        )


@dataclass(frozen=True)
class Point:
    """A headline number: `estimate` on `day`, None when follow-up is too short."""

    label: str
    day: int
    estimate: Estimate | None
    benchmark: Benchmark | None = None


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    definition: str
    y_label: str
    curves: tuple[Curve, ...]
    points: tuple[Point, ...]
    benchmarks: tuple[Benchmark, ...] = ()

    @property
    def empty(self) -> bool:
        return all(c.empty for c in self.curves)


@dataclass(frozen=True)
class GroupRow:
    group: str
    limbs: int
    amputations: int
    deaths: int
    afs_1y: Estimate | None
    limb_salvage_1y: Estimate | None


@dataclass(frozen=True)
class BeforeAfter:
    program_start: dt.date
    figure: Figure
    rates: tuple[tuple[str, Rate], ...]


@dataclass(frozen=True)
class Overrides:
    """How often the amputation gate is overridden: in LimbGuard (orders planned by a
    senior clinician's override) and in the EHR (CDS Hooks cards overridden)."""

    gate_planned: int
    gate_overridden: int
    gate_refused: int
    cds: OverrideRate

    @property
    def gate_rate(self) -> float | None:
        decided = self.gate_planned + self.gate_overridden
        return self.gate_overridden / decided if decided else None


@dataclass(frozen=True)
class Report:
    selection: Selection
    limbs: int
    patients: int
    figures: tuple[Figure, ...]
    groups: tuple[tuple[str, tuple[GroupRow, ...]], ...]
    followup: tuple[FollowupRate, ...]
    before_after: BeforeAfter | None
    overrides: Overrides
    empty_reason: str = ""
    notes: tuple[str, ...] = field(default=())

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


def _days(start: dt.date, end: dt.date) -> int:
    return max(0, (end - start).days)


def afs_data(subjects: Sequence[LimbSubject]) -> tuple[list[int], list[int]]:
    """Amputation-free survival: major amputation of the limb or death."""
    t, e = [], []
    for s in subjects:
        t.append(_days(s.index_date, s.end))
        e.append(EVENT if (s.major_amputation_on or s.death_on) else 0)
    return t, e


def incidence_data(subjects: Sequence[LimbSubject]) -> tuple[list[int], list[int]]:
    """Major amputation (1) with death (2) competing; an amputation on the day of death
    counts as the amputation."""
    t, e = [], []
    for s in subjects:
        amputated, died = s.major_amputation_on, s.death_on
        if amputated is not None and (died is None or amputated <= died):
            t.append(_days(s.index_date, amputated))
            e.append(EVENT)
        elif died is not None:
            t.append(_days(s.index_date, died))
            e.append(COMPETING)
        else:
            t.append(_days(s.index_date, s.last_contact))
            e.append(0)
    return t, e


def male_pod_data(subjects: Sequence[LimbSubject]) -> tuple[list[int], list[int]]:
    """Freedom from MALE or perioperative death, revascularized limbs only; a later
    death censors."""
    t, e = [], []
    for s in subjects:
        if not cohorts.is_revascularization(s):
            continue
        pod = s.death_on if s.death_on and _days(s.index_date, s.death_on) <= 30 else None
        ends = [d for d in (s.male_on, pod) if d is not None]
        if ends:
            t.append(_days(s.index_date, min(ends)))
            e.append(EVENT)
        else:
            censor = min(d for d in (s.death_on, s.last_contact) if d is not None)
            t.append(_days(s.index_date, censor))
            e.append(0)
    return t, e


def survival_data(subjects: Sequence[LimbSubject]) -> tuple[list[int], list[int]]:
    """Overall survival per patient from their first index date."""
    first: dict[int, LimbSubject] = {}
    for s in subjects:
        if s.patient_id not in first or s.index_date < first[s.patient_id].index_date:
            first[s.patient_id] = s
    t, e = [], []
    for s in first.values():
        end = s.death_on or s.last_contact
        t.append(_days(s.index_date, end))
        e.append(EVENT if s.death_on else 0)
    return t, e


def after_amputation_data(subjects: Sequence[AmputationSubject]) -> tuple[list[int], list[int]]:
    t, e = [], []
    for s in subjects:
        end = s.death_on or s.last_contact
        t.append(_days(s.amputated_on, end))
        e.append(EVENT if s.death_on else 0)
    return t, e


def _complement(estimate: Estimate | None) -> Estimate | None:
    if estimate is None:
        return None
    return Estimate(1 - estimate.value, 1 - estimate.upper, 1 - estimate.lower)


def _bench(metric: str, day: int | None = None) -> Benchmark | None:
    return next((b for b in benchmarks.for_metric(metric) if day is None or b.day == day), None)


def _group_rows(
    subjects: Sequence[LimbSubject], key: Callable[[LimbSubject], str]
) -> tuple[GroupRow, ...]:
    groups: dict[str, list[LimbSubject]] = defaultdict(list)
    for s in subjects:
        groups[key(s)].append(s)
    rows = []
    for name in sorted(groups):
        members = groups[name]
        afs = kaplan_meier(*afs_data(members), label=name)
        incidence = aalen_johansen(*incidence_data(members), label=name)
        rows.append(
            GroupRow(
                group=name,
                limbs=len(members),
                amputations=sum(1 for s in members if s.major_amputation_on),
                deaths=len({s.patient_id for s in members if s.death_on}),
                afs_1y=afs.at(ONE_YEAR),
                limb_salvage_1y=_complement(incidence.at(ONE_YEAR)),
            )
        )
    return tuple(rows)


def _before_after(subjects: Sequence[LimbSubject], start: dt.date) -> BeforeAfter:
    before = [s for s in subjects if s.index_date < start]
    after = [s for s in subjects if s.index_date >= start]
    curves = (
        aalen_johansen(*incidence_data(before), label=f"index before {start}"),
        aalen_johansen(*incidence_data(after), label=f"index from {start}"),
    )
    rates = []
    for label, members in (("before", before), ("after", after)):
        years = sum(_days(s.index_date, s.end) for s in members) / DAYS_PER_YEAR
        rates.append((label, Rate(sum(1 for s in members if s.major_amputation_on), years)))
    figure = Figure(
        key="amputation_before_after",
        title="Major amputation before vs after the program start",
        definition=(
            "Cumulative incidence of major amputation (death competing) of limbs whose index "
            f"procedure was before or from {start}; rates are major amputations per 100 "
            "limb-years of follow-up with exact Poisson 95 % intervals."
        ),
        y_label="cumulative incidence of major amputation",
        curves=curves,
        points=tuple(
            Point(f"1-year major amputation, {c.label}", ONE_YEAR, c.at(ONE_YEAR)) for c in curves
        ),
        benchmarks=benchmarks.for_metric("amputation_before_after"),
    )
    return BeforeAfter(start, figure, tuple(rates))


def _wifi(s: LimbSubject) -> str:
    return f"WIfI stage {s.wifi_stage}" if s.wifi_stage else "WIfI not staged"


def _overrides(selection: Selection, centers: Sequence[Center]) -> Overrides:
    """Gate outcomes of the amputation orders and the CDS Hooks override rate, over the
    selection's center and dates (order or card time, the center's local days)."""
    orders = AmputationOrder.objects.all()
    since = until = None
    if selection.date_from is not None:
        since = dt.datetime.combine(
            selection.date_from, dt.time(), tzinfo=timezone.get_current_timezone()
        )
        orders = orders.filter(requested_at__gte=since)
    if selection.date_to is not None:
        until = dt.datetime.combine(
            selection.date_to + dt.timedelta(days=1),
            dt.time(),
            tzinfo=timezone.get_current_timezone(),
        )
        orders = orders.filter(requested_at__lt=until)
    center_ids = [c.pk for c in centers] if selection.center else None
    if center_ids is not None:
        orders = orders.filter(patient__home_center_id__in=center_ids)
    counts = dict(orders.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return Overrides(
        gate_planned=counts.get(OrderStatus.PLANNED, 0),
        gate_overridden=counts.get(OrderStatus.OVERRIDDEN, 0),
        gate_refused=counts.get(OrderStatus.REFUSED, 0),
        cds=override_rate(since=since, until=until, center_ids=center_ids),
    )


def program_report(selection: Selection, *, centers: Iterable[Center] | None = None) -> Report:
    """Every figure of the analytics page for `selection` (five queries plus the
    follow-up rate's two)."""
    loaded = cohorts.load(as_of=selection.as_of)
    subjects = [s for s in loaded.limbs if selection.keeps(s)]
    amputations = [
        a
        for a in loaded.amputations
        if (not selection.center or a.center == selection.center)
        and (selection.date_from is None or a.amputated_on >= selection.date_from)
        and (selection.date_to is None or a.amputated_on <= selection.date_to)
    ]
    afs = kaplan_meier(*afs_data(subjects), label="amputation-free survival")
    overall = kaplan_meier(*survival_data(subjects), label="overall survival")
    incidence = aalen_johansen(*incidence_data(subjects), label="major amputation")
    male = kaplan_meier(*male_pod_data(subjects), label="freedom from MALE or POD")
    after = kaplan_meier(*after_amputation_data(amputations), label="survival after amputation")
    figures = (
        Figure(
            "afs",
            "Amputation-free survival",
            "Kaplan-Meier: alive without major amputation of the treated limb, from the limb's "
            "index procedure (first logged procedure).",
            "amputation-free survival",
            (afs,),
            (Point("1-year amputation-free survival", ONE_YEAR, afs.at(ONE_YEAR)),),
        ),
        Figure(
            "overall_survival",
            "Overall survival",
            "Kaplan-Meier: alive, per patient, from the first index procedure of their limbs.",
            "survival",
            (overall,),
            (
                Point("6-month survival", 182, overall.at(182), _bench("overall_survival", 182)),
                Point("1-year survival", ONE_YEAR, overall.at(ONE_YEAR)),
                Point("5-year survival", 1826, overall.at(1826), _bench("overall_survival", 1826)),
            ),
            benchmarks.for_metric("overall_survival"),
        ),
        Figure(
            "major_amputation",
            "Major amputation, death as a competing risk",
            "Aalen-Johansen cumulative incidence of major amputation of the treated limb; death "
            "before amputation is a competing event (not censored). 1-year limb salvage is "
            "1 minus the 1-year cumulative incidence.",
            "cumulative incidence",
            (incidence,),
            (
                Point(
                    "1-year major amputation",
                    ONE_YEAR,
                    incidence.at(ONE_YEAR),
                    _bench("major_amputation"),
                ),
                Point(
                    "1-year limb salvage",
                    ONE_YEAR,
                    _complement(incidence.at(ONE_YEAR)),
                    _bench("limb_salvage"),
                ),
            ),
            benchmarks.for_metric("major_amputation") + benchmarks.for_metric("limb_salvage"),
        ),
        Figure(
            "male_pod",
            "Freedom from MALE or perioperative death",
            "Kaplan-Meier, revascularized limbs: major amputation or major reintervention "
            "(new bypass, graft revision, thrombectomy/thrombolysis), or death within 30 days "
            "(SVS OPG endpoints); later deaths censor.",
            "freedom from MALE or POD",
            (male,),
            (
                Point(
                    "1-year freedom from MALE or POD",
                    ONE_YEAR,
                    male.at(ONE_YEAR),
                    _bench("male_pod"),
                ),
            ),
            benchmarks.for_metric("male_pod"),
        ),
        Figure(
            "mortality_after_amputation",
            "Survival after major amputation",
            "Kaplan-Meier from each patient's first major amputation; mortality is 1 minus "
            "survival.",
            "survival",
            (after,),
            (
                Point(
                    "30-day mortality",
                    30,
                    _complement(after.at(30)),
                    _bench("mortality_after_amputation", 30),
                ),
                Point(
                    "1-year mortality",
                    ONE_YEAR,
                    _complement(after.at(ONE_YEAR)),
                    _bench("mortality_after_amputation", ONE_YEAR),
                ),
            ),
            benchmarks.for_metric("mortality_after_amputation"),
        ),
    )
    groups = (
        ("Indication", _group_rows(subjects, lambda s: CohortIndication(s.indication).label)),
        ("WIfI stage", _group_rows(subjects, _wifi)),
        ("Center", _group_rows(subjects, lambda s: s.center_name)),
        ("Period (index year)", _group_rows(subjects, lambda s: str(s.index_date.year))),
    )
    center_list = list(centers) if centers is not None else list(Center.objects.order_by("name"))
    if selection.center:
        center_list = [c for c in center_list if c.slug == selection.center]
    return Report(
        selection=selection,
        limbs=len(subjects),
        patients=len({s.patient_id for s in subjects}),
        figures=figures,
        groups=groups,
        followup=tuple(followup_rates(center_list, today=selection.as_of)),
        before_after=_before_after(subjects, selection.program_start)
        if selection.program_start
        else None,
        overrides=_overrides(selection, center_list),
        empty_reason="" if subjects else EMPTY,
    )
