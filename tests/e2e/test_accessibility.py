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


def serious_violations(page: Page, *, skip_rules: tuple[str, ...] = ()) -> list[str]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make setup does)")
    # Evaluated through DevTools rather than added as an inline <script>, which the Content Security Policy refuses.
    page.evaluate(AXE.read_text())
    # Colours are judged once they settle: a button's colour change (Bootstrap's transitions) may still be running;
    # one cancelled on the way (a menu closed while opening) has settled too.
    page.evaluate(
        """async () => await Promise.all(document.getAnimations()
            .filter((animation) => animation instanceof CSSTransition)
            .map((animation) => animation.finished.catch(() => null)))"""
    )
    results = page.evaluate(
        """async (skip) => await axe.run(document, {
            runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
            rules: Object.fromEntries(skip.map((rule) => [rule, {enabled: false}])),
        })""",
        list(skip_rules),
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


FRONT_DESK_PAGES = [
    "/frontdesk/",
    "/frontdesk/?view=week",
    "/frontdesk/book/",
    "/frontdesk/book/next-free/",
    "/frontdesk/patients/",
    "/frontdesk/time-off/",
    "/frontdesk/day-sheet/",
]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_front_desk_pages_have_no_serious_accessibility_problems(open_page, viewport, clinic_data):
    from django.utils import timezone

    from clinic.models import ClinicSettings
    from tests.conftest import staff_user
    from tests.factories import AppointmentFactory

    tz = ClinicSettings.load().tz
    today = timezone.localdate(timezone.now(), tz)
    alex = clinic_data["therapists"][0]
    appointment = AppointmentFactory(
        therapist=alex,
        service=clinic_data["service"],
        start=timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time()), tz).replace(hour=11),
        patient_note="Left leg",
    )
    staff_user("rosa", "Receptionist")
    page = open_page(**viewport)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("rosa")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile("/frontdesk/"))
    problems = {}
    for path in [
        *FRONT_DESK_PAGES,
        f"/frontdesk/appointments/{appointment.pk}/",
        f"/frontdesk/patients/{appointment.patient_id}/",
    ]:
        page.goto(path)
        skip: tuple[str, ...] = ()
        if path.startswith("/frontdesk/?") or path == "/frontdesk/":
            expect(page.locator(".ec-event.appointment").first).to_be_visible()
            # EventCalendar (5.10) marks its grid role="table" but puts its navigation and the events (buttons)
            # straight inside it; that one rule is the library's markup. Everything else on the page is checked,
            # and each appointment is a named button that opens its panel from the keyboard.
            skip = ("aria-required-children",)
        found = serious_violations(page, skip_rules=skip)
        if found:
            problems[path] = found
    assert not problems, problems
