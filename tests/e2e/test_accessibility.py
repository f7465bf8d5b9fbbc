"""Accessibility in a real browser: axe-core finds no serious problems, and a keyboard alone can book.

axe-core comes from npm (package.json, devDependencies) and is injected into each page under test.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from booking.models import Appointment
from tests.e2e.conftest import DESKTOP, PHONE, REPO_ROOT

pytestmark = pytest.mark.e2e

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
PUBLIC_PAGES = [
    "/",
    "/services/",
    "/services/myofascial-release/",
    "/therapists/",
    "/therapists/alex-moreau/",
    "/conditions/sciatica/",
    "/book/",
    "/book/?service=myofascial-release",
    "/book/?service=myofascial-release&duration=60",
    "/book/?service=myofascial-release&duration=60&therapist=any",
    "/accounts/login/",
]


def serious_violations(page: Page) -> list[str]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make setup does)")
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})"
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_public_pages_have_no_serious_accessibility_problems(open_page, viewport):
    page = open_page(**viewport)
    problems = {}
    for path in PUBLIC_PAGES:
        page.goto(path)
        found = serious_violations(page)
        if found:
            problems[path] = found
    assert not problems, problems


def test_booking_time_and_details_steps_have_no_serious_accessibility_problems(open_page):
    page = open_page(**DESKTOP)
    page.goto("/book/?service=myofascial-release&duration=60&therapist=alex-moreau")
    assert serious_violations(page) == []
    page.get_by_role("list", name=re.compile("^Free times")).get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    assert serious_violations(page) == []


def test_a_keyboard_alone_can_book(open_page, screenshot):
    """Tab to each choice and press Enter: no mouse, no touch."""
    page = open_page(**DESKTOP)
    page.goto("/book/?service=myofascial-release&duration=60&therapist=alex-moreau")

    def tab_to(name: str | re.Pattern) -> None:
        target = page.get_by_role("link", name=name).or_(page.get_by_role("button", name=name)).first
        for _ in range(120):
            page.keyboard.press("Tab")
            if target.evaluate("element => element === document.activeElement"):
                return
        pytest.fail(f"Tab never reached {name!r}")

    first_time = page.get_by_role("list", name=re.compile("^Free times")).get_by_role("link").first
    tab_to(first_time.inner_text())
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    page.keyboard.press("Tab")
    for label, value in (("Full name", "Kim Keyboard"), ("Email", "kim@example.com"), ("Phone", "416-555-0150")):
        field = page.get_by_label(label, exact=False).first
        while not field.evaluate("element => element === document.activeElement"):
            page.keyboard.press("Tab")
        page.keyboard.type(value)
    tab_to("Review booking")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Check and confirm")).to_be_visible()
    tab_to("Confirm booking")
    screenshot(page, "keyboard-focus-on-confirm")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="You're booked!")).to_be_visible()
    assert Appointment.objects.filter(patient__email="kim@example.com").count() == 1
