"""The read side of the care team and follow-up: suggestions from the pathway, the
worklist per discipline (overdue first), due and overdue follow-ups, and each center's
follow-up rate. Each list is a fixed number of queries, whatever its length."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from django.db.models import F, Q, QuerySet

from limbguard.assessments import queries
from limbguard.clinics.models import Center
from limbguard.registry.models import LimbStatus, Patient
from limbguard.treatment.actions.followup import LTFU_FROM_DAYS, LTFU_TO_DAYS
from limbguard.treatment.care_team import CareTask
from limbguard.treatment.followup import SurveillanceVisit
from limbguard.treatment.procedures import Intervention
from limbguard.treatment.vocab import VQI_LTFU, Discipline, PlanStatus, TaskStatus

# A major amputation calls for rehabilitation and prosthetic assessment.
REHAB_RULE: Final = "major_amputation_rehab"
REHAB_SOURCE: Final = (
    "LimbGuard program rule (issue 6: rehabilitation/prosthetics on the care team); "
    "Amputee Coalition limb-loss statistics (codes_and_epidemiology §6.3)"
)
# Suggested tasks are due this many days after they are accepted (program rule).
SUGGESTED_DUE_DAYS: Final = 14


@dataclass(frozen=True)
class Suggestion:
    discipline: str
    side: str
    rule: str
    text: str
    source: str

    @property
    def label(self) -> str:
        return Discipline(self.discipline).label


def suggestions(patient: Patient, *, today: dt.date) -> list[Suggestion]:
    """The pathway's care-team needs of each limb (and rehabilitation after a major
    amputation) that have no open task of that discipline yet."""
    rows = queries.limb_rows(Patient.objects.filter(pk=patient.pk), today=today)
    open_disciplines = set(
        CareTask.objects.filter(patient=patient, status=TaskStatus.OPEN).values_list(
            "discipline", flat=True
        )
    )
    found: list[Suggestion] = []
    seen: set[str] = set()
    for row in rows:
        for need in row.pathway.care_needs:
            discipline = str(need.code)
            if discipline in open_disciplines or discipline in seen:
                continue
            seen.add(discipline)
            rule = f"pathway:{need.code}"
            found.append(Suggestion(discipline, row.limb.side, rule, need.text, need.source))
        if (
            row.limb.status == LimbStatus.MAJOR_AMPUTATION
            and Discipline.REHABILITATION not in open_disciplines | seen
        ):
            seen.add(Discipline.REHABILITATION)
            found.append(
                Suggestion(
                    Discipline.REHABILITATION,
                    row.limb.side,
                    REHAB_RULE,
                    f"major amputation ({row.limb.get_amputation_level_display()}): "
                    "rehabilitation and prosthetic assessment",
                    REHAB_SOURCE,
                )
            )
    return found


@dataclass(frozen=True)
class TaskRow:
    task: CareTask
    overdue: bool


def worklist(
    patients: QuerySet[Patient], *, discipline: str, today: dt.date, limit: int = 200
) -> list[TaskRow]:
    """Open tasks of `discipline` for `patients`: overdue first, then by due date (no due
    date last), then oldest first. One query."""
    tasks = (
        CareTask.objects.filter(patient__in=patients, discipline=discipline, status=TaskStatus.OPEN)
        .select_related("patient__home_center", "limb", "owner")
        # Overdue tasks have the earliest due dates, so they come first.
        .order_by(F("due_on").asc(nulls_last=True), "id")[:limit]
    )
    return [TaskRow(t, t.due_on is not None and t.due_on < today) for t in tasks]


@dataclass(frozen=True)
class VisitRow:
    visit: SurveillanceVisit
    status: str  # "overdue" or "due"


def followups(
    patients: QuerySet[Patient], *, today: dt.date, horizon_days: int = 30, limit: int = 300
) -> list[VisitRow]:
    """Planned visits not yet done of active plans of living patients: overdue (past
    their grace, window still open) first, then those due within `horizon_days`. One
    query."""
    visits = (
        SurveillanceVisit.objects.filter(
            plan__patient__in=patients,
            plan__status=PlanStatus.ACTIVE,
            plan__patient__deceased_date__isnull=True,
            plan__intervention__entered_in_error=False,
            done_on__isnull=True,
            unscheduled=False,
            window_end__gte=today,
            window_start__lte=today + dt.timedelta(days=horizon_days),
        )
        .select_related("plan__patient__home_center", "plan__limb", "plan__intervention")
        .order_by("overdue_after", "id")[:limit]
    )
    rows = [VisitRow(v, "overdue" if today > v.overdue_after else "due") for v in visits]
    rows.sort(key=lambda r: (r.status != "overdue", r.visit.due_on, r.visit.pk))
    return rows


@dataclass(frozen=True)
class FollowupRate:
    center: str
    eligible: int
    followed: int
    source: str = VQI_LTFU

    @property
    def rate(self) -> float | None:
        return self.followed / self.eligible if self.eligible else None


def followup_rates(
    centers: Iterable[Center], *, today: dt.date, patients: QuerySet[Patient] | None = None
) -> list[FollowupRate]:
    """VQI long-term follow-up rate per center: of the interventions whose 9-21-month
    window has closed (and whose patient was alive when it opened), the share with a
    follow-up visit inside the window. Two queries."""
    centers = list(centers)
    closed_before = today - dt.timedelta(days=LTFU_TO_DAYS)
    eligible = Intervention.objects.filter(
        center__in=centers,
        entered_in_error=False,
        surveillance__isnull=False,
        performed_on__lte=closed_before,
    )
    if patients is not None:
        eligible = eligible.filter(patient__in=patients)
    rows = list(eligible.values_list("id", "center_id", "performed_on", "patient__deceased_date"))
    alive = [
        (pk, center, on)
        for pk, center, on, died in rows
        if died is None or died >= on + dt.timedelta(days=LTFU_FROM_DAYS)
    ]
    followed = set(
        SurveillanceVisit.objects.filter(
            plan__intervention_id__in=[pk for pk, _, _ in alive], done_on__isnull=False
        )
        .filter(Q(long_term=True) | Q(unscheduled=True))
        .values_list("plan__intervention_id", "done_on", "plan__intervention__performed_on")
    )
    in_window = {
        pk
        for pk, done, on in followed
        if done is not None and LTFU_FROM_DAYS <= (done - on).days <= LTFU_TO_DAYS
    }
    result = []
    for center in centers:
        mine = [pk for pk, c, _ in alive if c == center.pk]
        result.append(
            FollowupRate(center.name, len(mine), sum(1 for pk in mine if pk in in_window))
        )
    return result
