"""Helpers for the public forms: read the challenge off the page, answer it, post."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from limbguard.intake.models import IntakeRequest
from limbguard.scheduling.demo import ensure_setup
from limbguard.testing import Personas

TOKEN = re.compile(r'name="challenge" value="([^"]+)"')
QUESTION = re.compile(r'class="challenge">(\d+) \+ (\d+) =<')
PAGES = {"visit": "public:visit", "referral": "public:referral", "contact": "public:contact"}

VALID: dict[str, dict[str, str | list[str]]] = {
    "visit": {
        "given_name": "Ana",
        "family_name": "Núñez",
        "birth_date": "1956-04-02",
        "email": "ana@example.invalid",
        "phone": "(619) 555-0199",
        "preferred_times": "mornings",
        "reason": "My left foot has a sore that does not heal.",
        "red_flags": ["nonhealing_wound"],
    },
    "referral": {
        "referrer_name": "Dr. Rita Referrer",
        "referrer_organization": "Bayview Family Practice",
        "referrer_npi": "1234567893",
        "referrer_email": "rita@example.invalid",
        "referrer_phone": "(619) 555-0177",
        "patient_given_name": "Walter",
        "patient_family_name": "Gangi",
        "patient_birth_date": "1948-09-30",
        "patient_phone": "(619) 555-0166",
        "patient_email": "walter@example.invalid",
        "reason": "Dry gangrene of the right hallux, absent pedal pulses.",
        "red_flags": ["gangrene", "rest_pain"],
    },
    "contact": {
        "name": "Carl Contact",
        "email": "carl@example.invalid",
        "subject": "Parking",
        "message": "Where do visitors park?",
    },
}


def challenge_of(html: str) -> tuple[str, int]:
    token = TOKEN.search(html)
    question = QUESTION.search(html)
    assert token is not None
    assert question is not None
    return token.group(1), int(question.group(1)) + int(question.group(2))


def submit(
    client: Client,
    page: str,
    *,
    answer_offset: int = 0,
    token: str | None = None,
    files: list[Any] | None = None,
    **overrides: Any,
) -> Any:
    """GET the form, answer its sum (wrongly with `answer_offset`), POST it."""
    response = client.get(reverse(PAGES[page]))
    assert response.status_code == 200
    fresh, answer = challenge_of(response.content.decode())
    data: dict[str, Any] = {**VALID[page], **overrides}
    data.setdefault("challenge", token or fresh)
    data.setdefault("answer", str(answer + answer_offset))
    data.setdefault("website", "")
    if files is not None:
        data["attachments"] = files
    return client.post(reverse(PAGES[page]), data)


@pytest.fixture
def public(personas: Personas, settings: Settings, tmp_path: Path) -> Personas:
    """Personas, the schedule set-up, attachments in a temporary private folder."""
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.INTAKE_RATE_LIMIT = 100  # one test address submits many times; see its own test
    ensure_setup(personas.centers)
    return personas


@pytest.fixture
def submitted(public: Personas) -> Callable[..., IntakeRequest]:
    """Submit a public form as a visitor; return the stored request."""

    def make(page: str = "referral", **overrides: Any) -> IntakeRequest:
        response = submit(Client(), page, **overrides)
        assert response.status_code == 302, response.content.decode()[:2000]
        return IntakeRequest.objects.latest("id")

    return make
