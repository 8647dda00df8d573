"""Keyboard only: sign in, the skip link, the search form and a result, with no mouse."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from limbguard.registry.models import Patient
from tests.browser.support import Browse

pytestmark = pytest.mark.browser

MAX_TABS = 25  # more stops than that before the search box would be a finding in itself


def _focused(page: Page) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => {
                const e = document.activeElement;
                const box = e.getBoundingClientRect();
                return {id: e.id, tag: e.tagName.toLowerCase(), text: e.textContent.trim(),
                        visible: box.width > 0 && box.height > 0 && box.left >= 0
                                 && box.top >= 0 && box.right <= window.innerWidth};
            }"""
        )
    )


def _tab_until(page: Page, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if wanted(focused):
            return focused
    raise AssertionError(f"not reached with {MAX_TABS} presses of Tab")


def test_keyboard_only_sign_in_skip_link_and_search(
    browse: Browse, patient_at: Callable[..., Patient]
) -> None:
    patient = patient_at(mrn="HX3001", family_name="Tanaka", given_name="Aiko")
    patient_at(mrn="HX3002", family_name="Brown", given_name="Ruth")

    def steps(page: Page) -> None:
        page.goto("/login/")
        assert _focused(page)["id"] == "id_username"  # autofocus
        page.keyboard.type("podiatry")
        page.keyboard.press("Tab")
        assert _focused(page)["id"] == "id_password"
        page.keyboard.type("correct-horse-battery-staple")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/patients/$"))

        # The first Tab stop is the skip link, and it shows itself when focused.
        page.keyboard.press("Tab")
        skip = _focused(page)
        assert (skip["tag"], skip["text"]) == ("a", "Skip to content")
        assert skip["visible"]
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"#content$"))
        # Past the header: the next stop is the search box, the first control of the page.
        page.keyboard.press("Tab")
        assert _focused(page)["id"] == "q"

        page.keyboard.type("tana")
        rows = page.locator("#results tbody tr")
        expect(rows).to_have_count(1)
        _tab_until(page, lambda f: f["tag"] == "a" and f["text"] == "Tanaka, Aiko")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))

    browse(steps)


def test_the_search_form_is_reachable_with_tab_from_the_top(
    browse: Browse, patient_at: Callable[..., Patient]
) -> None:
    patient_at(mrn="HX3003", family_name="Singh", given_name="Priya")

    def steps(page: Page) -> None:
        page.goto("/login/")
        page.keyboard.type("front_desk")
        page.keyboard.press("Tab")
        page.keyboard.type("correct-horse-battery-staple")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/patients/$"))
        _tab_until(page, lambda f: f["id"] == "q")
        page.keyboard.type("HX3003")
        search = _tab_until(page, lambda f: f["tag"] == "button")
        assert search["text"] == "Search"
        page.keyboard.press("Enter")
        expect(page.locator("#results tbody tr")).to_have_count(1)
        expect(page.locator("#results")).to_contain_text("Singh, Priya")

    browse(steps)
