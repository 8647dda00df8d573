"""Lockout after repeated failed sign-ins, generic errors, and inactivity logout."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from limbguard.testing import PASSWORD, Personas

pytestmark = pytest.mark.django_db
GENERIC = "Please enter a correct username and password"


def _login(client: Client, username: str, password: str) -> str:
    return client.post(
        reverse("login"), {"username": username, "password": password}
    ).content.decode()


def test_wrong_password_and_unknown_user_get_the_same_message(personas: Personas) -> None:
    assert GENERIC in _login(Client(), "front_desk", "wrong-password")
    assert GENERIC in _login(Client(), "nobody-at-all", "wrong-password")


def test_lockout_after_repeated_failures(personas: Personas) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "front_desk", "wrong-password")
    # Even the right password is refused while the account is locked.
    response = client.post(reverse("login"), {"username": "front_desk", "password": PASSWORD})
    assert response.status_code == 429 or response.status_code == 403
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_success_before_the_limit_resets_the_count(personas: Personas) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "front_desk", "wrong-password")
    client.post(reverse("login"), {"username": "front_desk", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(personas["front_desk"].pk)


def test_inactivity_logout(personas: Personas, monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client()
    client.post(reverse("login"), {"username": "vascular_specialist", "password": PASSWORD})
    assert client.get(reverse("registry:patient_list")).status_code == 200
    started = time.time()
    monkeypatch.setattr(time, "time", lambda: started + 14 * 60)
    assert client.get(reverse("registry:patient_list")).status_code == 200
    # 14 minutes later the clock restarted; 16 more minutes of silence end the session.
    monkeypatch.setattr(time, "time", lambda: started + 30 * 60 + 1)
    response = client.get(reverse("registry:patient_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_idle_logout_of_an_htmx_request_redirects_the_whole_page(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client()
    client.post(reverse("login"), {"username": "vascular_specialist", "password": PASSWORD})
    client.get(reverse("registry:patient_list"))
    started = time.time()
    monkeypatch.setattr(time, "time", lambda: started + 16 * 60)
    response = client.get(reverse("registry:patient_list"), HTTP_HX_REQUEST="true")
    assert response.headers["HX-Redirect"].startswith(reverse("login"))
