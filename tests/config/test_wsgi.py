"""config/wsgi.py: the API's paths get the API's middleware chain, the site's the full one."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from django.conf import settings

from limbguard.config import wsgi


def _call(method: str, path: str, **extra: str) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": "0",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **extra,
    }
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        joined: dict[str, str] = {}
        for name, value in headers:  # Set-Cookie may repeat
            joined[name] = f"{joined[name]}, {value}" if name in joined else value
        answer["status"], answer["headers"] = status, joined

    chunks = wsgi.application(environ, start_response)
    body = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return answer["status"], answer["headers"], body


def test_the_api_chain_is_the_sites_minus_its_browser_layers() -> None:
    site = settings.MIDDLEWARE
    assert set(settings.API_MIDDLEWARE) < set(site)
    assert sorted(settings.API_MIDDLEWARE, key=site.index) == settings.API_MIDDLEWARE


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/cds-services", True),
        ("/cds-services/limb-salvage-order-check", True),
        ("/cds-services/limb-status/feedback", True),
        ("/cds-servicesx", False),
        ("/cds-service", False),
        ("/", False),
        ("/patients/", False),
        ("/static/limbguard.css", False),
        ("/x/cds-services", False),
    ],
)
def test_each_path_goes_to_its_handler(path: str, api: bool) -> None:
    assert (wsgi.handler_for(path) is wsgi.api) is api
    assert (wsgi.handler_for(path) is wsgi.site) is not api


@pytest.mark.django_db
def test_an_api_call_keeps_the_security_headers_and_sets_no_cookie() -> None:
    status, headers, _ = _call("GET", "/cds-services")
    assert status.startswith("401")  # no token: the view still decides
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in headers
    assert "Cookie" not in headers.get("Vary", "")


@pytest.mark.django_db
def test_an_api_call_to_a_host_not_allowed_is_refused() -> None:
    status, _, _ = _call("GET", "/cds-services", HTTP_HOST="evil.example")
    assert status.startswith("400")


@pytest.mark.django_db
def test_a_site_form_still_needs_its_csrf_token() -> None:
    status, _, _ = _call("POST", "/login/", CONTENT_TYPE="application/x-www-form-urlencoded")
    assert status.startswith("403")


@pytest.mark.django_db
def test_a_site_page_still_gets_its_session_and_csrf_cookies() -> None:
    status, headers, _ = _call("GET", "/login/")
    assert status.startswith("200")
    assert "csrftoken" in headers.get("Set-Cookie", "")
