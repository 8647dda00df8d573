"""Signing in through a real browser: each role sees its own navigation, lands on a
page it may open, and a wrong password gets one generic message."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.accounts.roles import ROLE_PERMISSIONS, Role
from limbguard.testing import Personas
from tests.browser.support import Browse, sign_in

# Each link of the main navigation (base.html) and the permission that shows it; None:
# every signed-in user. A role's expected links follow from ROLE_PERMISSIONS.
NAV_LINKS: dict[str, str | None] = {
    "Patients": "registry.view_patient",
    "Limbs at risk": "assessments.view_assessment",
    "Centers": None,
    "Intake": "intake.view_intakerequest",
    "Schedule": "scheduling.view_appointment",
    "Audit trail": "accounts.view_auditevent",
}


def expected_links(role: Role) -> set[str]:
    return {
        name
        for name, permission in NAV_LINKS.items()
        if permission is None or permission in ROLE_PERMISSIONS[role]
    }


def test_the_foundation_navigation_is_as_specified() -> None:
    """The Foundation's own links, spelled out: the table above must not drift."""
    foundation = {"Patients", "Centers", "Audit trail"}
    assert {r: expected_links(r) & foundation for r in Role} == {
        **{r: {"Patients", "Centers"} for r in Role},
        Role.PROGRAM_LEAD: {"Patients", "Centers", "Audit trail"},
        Role.ADMINISTRATOR: {"Centers", "Audit trail"},
    }


@pytest.mark.browser
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_signs_in_and_sees_its_navigation(
    browse: Browse, personas: Personas, role: Role
) -> None:
    def steps(page: Page) -> set[str]:
        sign_in(page, role.value)
        page.goto("/centers/")  # a page that every role may open
        header = page.locator("header.site")
        expect(header).to_contain_text(role.label)
        where = "All centers" if role is Role.PROGRAM_LEAD else "Harbor Vascular Center"
        expect(header).to_contain_text(where)
        links = page.get_by_role("navigation", name="Main").get_by_role("link")
        # A link may carry a live count after its name ("Intake 3").
        return {
            text.strip().splitlines()[0].rstrip("0123456789 ") for text in links.all_inner_texts()
        }

    shown = browse(steps)
    assert shown & set(NAV_LINKS) == expected_links(role)
    signed_in = AuditEvent.objects.filter(actor=personas[role.value], action=AuditAction.LOGIN)
    assert signed_in.count() == 1


@pytest.mark.browser
@pytest.mark.parametrize(
    "role",
    list(Role),
    ids=str,
)
def test_each_role_lands_on_a_page_it_may_open(
    browse: Browse, personas: Personas, role: Role
) -> None:
    def steps(page: Page) -> int:
        sign_in(page, role.value)
        response = page.reload()
        assert response is not None
        return response.status

    assert browse(steps) == 200


@pytest.mark.browser
def test_wrong_password_shows_the_same_generic_message(browse: Browse, personas: Personas) -> None:
    def steps(page: Page) -> list[str]:
        messages = []
        for username in ("vascular_specialist", "nobody-by-this-name"):
            page.goto("/login/")
            page.get_by_label("User name").fill(username)
            page.get_by_label("Password").fill("not-the-password")
            page.get_by_role("button", name="Sign in").click()
            alert = page.get_by_role("alert")
            expect(alert).to_be_visible()
            expect(page).to_have_url(re.compile(r"/login/$"))
            expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
            messages.append(alert.inner_text())
        return messages

    known_user, unknown_user = browse(steps)
    assert known_user == unknown_user
    assert "correct username and password" in known_user
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() == 2
