"""The audit trail, searched and exported by program leads and administrators."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.registry.models import Patient
from limbguard.views import signed_in_user


class AuditFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150, label="User name")
    mrn = forms.CharField(required=False, max_length=32, label="Patient MRN")
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
            self.add_error("end", "The end date is before the start date.")
        return data


def _filtered(form: AuditFilterForm) -> QuerySet[AuditEvent]:
    # The trail keeps the patient as a plain id; show the MRN people search by.
    mrn = Patient.objects.filter(pk=OuterRef("patient_id")).values("mrn")[:1]
    events = AuditEvent.objects.annotate(patient_mrn=Subquery(mrn))
    if not form.is_valid():
        return events.none()
    data = form.cleaned_data
    if data["user"]:
        events = events.filter(actor_name=data["user"].strip())
    if data["mrn"]:
        patient_ids = Patient.objects.filter(mrn__iexact=data["mrn"].strip()).values("id")
        events = events.filter(patient_id__in=patient_ids)
    zone = timezone.get_current_timezone()
    if data["start"]:
        events = events.filter(at__gte=dt.datetime.combine(data["start"], dt.time.min, zone))
    if data["end"]:
        events = events.filter(
            at__lt=dt.datetime.combine(data["end"] + dt.timedelta(days=1), dt.time.min, zone)
        )
    return events


@login_required
@permission_required("accounts.view_auditevent", raise_exception=True)
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or {})
    page = Paginator(_filtered(form), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/audit_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


CSV_COLUMNS = (
    "at",
    "actor_name",
    "action",
    "patient_id",
    "patient_mrn",
    "object_type",
    "object_id",
    "summary",
    "changes",
    "ip_address",
)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rows(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                event.at.isoformat(),
                event.actor_name,
                event.action,
                event.patient_id or "",
                getattr(event, "patient_mrn", None) or "",
                event.object_type,
                event.object_id,
                event.summary,
                event.changes or "",
                event.ip_address or "",
            ]
        )


@login_required
@permission_required("accounts.view_auditevent", raise_exception=True)
def audit_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = AuditFilterForm(request.GET or {})
    events = _filtered(form)
    audit.record(
        acting_user=signed_in_user(request),
        action=AuditAction.EXPORT,
        summary=f"audit trail CSV: {request.GET.urlencode()}"[:300],
        ip_address=audit.client_ip(request),
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return StreamingHttpResponse(
        _rows(events),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )
