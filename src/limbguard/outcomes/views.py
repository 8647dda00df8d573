"""The program analytics page for program leads, its CSV and its printable PDF.

Thin: parse the selection (a form) → `service.program_report` → render. Aggregates only,
but they are read from patient data, so each view writes an audit row (SEARCH for the
page, EXPORT for the downloads).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction
from limbguard.clinics.models import Center
from limbguard.outcomes import conf, export
from limbguard.outcomes.service import Report, Selection, program_report
from limbguard.registry.forms import DateInput
from limbguard.treatment.vocab import CohortIndication
from limbguard.views import signed_in_user

PERMISSION = "outcomes.view_analytics"


class SelectionForm(forms.Form):
    center = forms.ChoiceField(choices=[], required=False)
    date_from = forms.DateField(widget=DateInput(), required=False, label="Index from")
    date_to = forms.DateField(widget=DateInput(), required=False, label="Index to")
    indication = forms.ChoiceField(
        choices=[("", "All indications"), *CohortIndication.choices], required=False
    )
    wifi_stage = forms.TypedChoiceField(
        choices=[("", "Any WIfI stage"), *((str(n), f"Stage {n}") for n in range(1, 5))],
        coerce=int,
        empty_value=None,
        required=False,
        label="WIfI stage",
    )
    program_start = forms.DateField(widget=DateInput(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["center"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", "All centers"),
            *Center.objects.order_by("name").values_list("slug", "name"),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end is before the start.")
        return data

    def selection(self, today: dt.date) -> Selection:
        data = self.cleaned_data if self.is_valid() else {}
        return Selection(
            as_of=today,
            center=data.get("center") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            indication=data.get("indication") or "",
            wifi_stage=data.get("wifi_stage"),
            program_start=data.get("program_start") or conf.program_start(),
        )


def _report(request: HttpRequest) -> tuple[SelectionForm, Report]:
    form = SelectionForm(request.GET or None)
    report = program_report(form.selection(timezone.localdate()))
    return form, report


@login_required
@permission_required(PERMISSION, raise_exception=True)
def analytics(request: HttpRequest) -> HttpResponse:
    from limbguard.outcomes.plots import figure_svg

    form, report = _report(request)
    audit.record(
        acting_user=signed_in_user(request),
        action=AuditAction.SEARCH,
        summary=f"program analytics: {report.selection.describe()}",
        ip_address=audit.client_ip(request),
    )
    figures = list(report.figures)
    if report.before_after is not None:
        figures.append(report.before_after.figure)
    plots = [
        (
            f,
            mark_safe(figure_svg(f)),  # noqa: S308 (SVG drawn by our own matplotlib code)
            [(p.label, export.pct(p.estimate), export.bench_text(p.benchmark)) for p in f.points],
        )
        for f in figures
    ]
    query = request.GET.urlencode()
    return render(
        request,
        "outcomes/analytics.html",
        {
            "form": form,
            "report": report,
            "plots": plots,
            "lines": export.summary_lines(report),
            "query": f"?{query}" if query else "",
        },
    )


@login_required
@permission_required(PERMISSION, raise_exception=True)
def analytics_csv(request: HttpRequest) -> HttpResponse:
    _, report = _report(request)
    audit.record(
        acting_user=signed_in_user(request),
        action=AuditAction.EXPORT,
        summary=f"program analytics CSV: {report.selection.describe()}",
        ip_address=audit.client_ip(request),
    )
    response = HttpResponse(export.to_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="limbguard-outcomes.csv"'
    return response


@login_required
@permission_required(PERMISSION, raise_exception=True)
def analytics_pdf(request: HttpRequest) -> HttpResponse:
    from limbguard.outcomes.plots import report_pdf

    _, report = _report(request)
    audit.record(
        acting_user=signed_in_user(request),
        action=AuditAction.EXPORT,
        summary=f"program analytics PDF: {report.selection.describe()}",
        ip_address=audit.client_ip(request),
    )
    response = HttpResponse(
        report_pdf(report, export.summary_lines(report)), content_type="application/pdf"
    )
    response["Content-Disposition"] = 'attachment; filename="limbguard-outcomes.pdf"'
    return response
