"""Inactivity logout: a session unused for SESSION_IDLE_MINUTES ends."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django_htmx.http import HttpResponseClientRedirect

_LAST_SEEN = "limbguard_last_seen"


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(_LAST_SEEN)
            if (
                last_seen is not None
                and now - float(last_seen) > settings.SESSION_IDLE_MINUTES * 60
            ):
                logout(request)
                messages.info(request, "You were signed out after a period of inactivity.")
                response = redirect_to_login(request.get_full_path())
                if getattr(request, "htmx", False):
                    # A partial swap would paste the login page into the fragment.
                    return HttpResponseClientRedirect(response["Location"])
                return response
            request.session[_LAST_SEEN] = now
        return self.get_response(request)
