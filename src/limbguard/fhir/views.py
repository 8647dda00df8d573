"""The staff upload page: send FHIR files, follow the import, read the report."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from limbguard.accounts import audit
from limbguard.clinics.models import Center
from limbguard.fhir import jobs
from limbguard.fhir.models import ImportJob
from limbguard.views import signed_in_user


class UploadForm(forms.Form):
    default_center = forms.ModelChoiceField(
        queryset=Center.objects.all(),
        required=False,
        label="Center for patients that name none",
        help_text="Used when a Patient has no managingOrganization LimbGuard knows.",
    )


@login_required
@permission_required("fhir.add_importjob", raise_exception=True)
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST if request.method == "POST" else None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        files = request.FILES.getlist("files")
        problems = jobs.check_file_names(files)
        if not problems:
            job = jobs.do_create_import_job(
                acting_user=signed_in_user(request),
                files=files,
                default_center=form.cleaned_data["default_center"],
                ip_address=audit.client_ip(request),
            )
            return redirect("fhir:job", job_id=job.pk)
    recent = ImportJob.objects.select_related("uploaded_by")[:20]
    return render(request, "fhir/upload.html", {"form": form, "problems": problems, "jobs": recent})


@login_required
@permission_required("fhir.view_importjob", raise_exception=True)
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    found = get_object_or_404(ImportJob.objects.select_related("uploaded_by"), pk=job_id)
    template = "fhir/_job.html" if request.headers.get("HX-Request") else "fhir/job.html"
    return render(request, template, {"job": found})
