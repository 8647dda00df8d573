from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from limbguard.clinics.models import Center


@login_required
def center_list(request: HttpRequest) -> HttpResponse:
    """Every center with its hours and whether it is open now, in its own time zone."""
    now = timezone.now()
    centers = Center.objects.filter(is_active=True).prefetch_related("hours", "providers")
    rows = [
        {"center": c, "open_now": c.is_open_at(now), "local_now": now.astimezone(c.zone)}
        for c in centers
    ]
    return render(request, "clinics/center_list.html", {"rows": rows})
