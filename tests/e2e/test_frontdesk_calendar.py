"""The front desk calendar in a real Chromium, run in Tokyo's time zone to prove it shows the clinic's clock.

A receptionist logs in, drags an appointment to another therapist, checks a patient in, marks a past
appointment as a no-show and cancels another; then the demo clinic's day and week are photographed.
"""

import contextlib
import re
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from booking.models import Appointment
from clinic import demo
from clinic.models import ClinicSettings
from tests.conftest import ensure_roles, staff_user
from tests.e2e.conftest import DESKTOP, PHONE
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.e2e

TOKYO = {"timezone_id": "Asia/Tokyo"}


def weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ClinicSettings.load().tz)


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/frontdesk/"))


def go_to(page: Page, day: date) -> None:
    page.get_by_label("Go to date").fill(day.isoformat())
    page.get_by_label("Go to date").dispatch_event("change")
    expect(page.locator("#cal-title")).to_contain_text(f"{day.day}")


def event(page: Page, patient: str):
    return page.locator(".ec-event.appointment", has_text=patient)


def panel(page: Page):
    return page.locator("#panel")


@pytest.fixture
def calendar_day(clinic_data):
    """Appointments on a coming weekday (to move and cancel) and on a past weekday (to check in and mark)."""
    service, (alex, sam) = clinic_data["service"], clinic_data["therapists"]
    today = timezone.localdate(timezone.now(), ClinicSettings.load().tz)
    coming = weekday_on_or_after(today + timedelta(days=2))
    past = weekday_on_or_after(today - timedelta(days=9))

    def book(day, hour, name, therapist=alex, **extra):
        return AppointmentFactory(
            therapist=therapist, service=service, start=at(day, hour), patient=PatientFactory(name=name), **extra
        )

    return {
        "coming": coming,
        "past": past,
        "moving": book(coming, 10, "Mira Patel", patient_note="Sciatica down the left leg"),
        "cancelling": book(coming, 14, "Noah Brooks"),
        "arriving": book(past, 10, "Iris Chen"),
        "missing": book(past, 14, "Omar Haddad", therapist=sam),
        "sam": sam,
    }


def test_a_receptionist_runs_the_day_from_the_calendar(open_page, screenshot, calendar_day):
    staff_user("rosa", "Receptionist")
    page = open_page(**DESKTOP, **TOKYO)
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Tokyo"
    log_in(page, "rosa")
    expect(page.get_by_role("heading", name=re.compile(r"\d"))).to_be_visible()

    # The coming day: the 10:00 appointment shows at 10:00, the clinic's time, not Tokyo's.
    go_to(page, calendar_day["coming"])
    moving = event(page, "Mira Patel")
    expect(moving).to_contain_text("10:00")
    expect(moving).to_contain_text("First visit")
    expect(moving).to_contain_text("Note")
    screenshot(page, "01-day")

    # Drag it one column to the right: the same time with Sam.
    box = moving.bounding_box()
    column = page.locator(".ec-day").nth(0).bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(box["x"] + 20 + column["width"] / 2, box["y"] + 8, steps=8)
    page.mouse.move(box["x"] + 20 + column["width"], box["y"] + 8, steps=8)
    page.mouse.up()
    expect(page.locator("#toasts")).to_contain_text("Moved Mira Patel to")
    expect(page.locator("#toasts")).to_contain_text("with Sam Okafor")
    moved = calendar_day["moving"]
    moved.refresh_from_db()
    assert (moved.therapist, moved.start) == (calendar_day["sam"], at(calendar_day["coming"], 10))
    screenshot(page, "02-after-drag")

    # A drop onto closed time snaps back with the reason.
    open_page.expect_refusal(409, r"/frontdesk/appointments/\d+/move/$")
    box = event(page, "Noah Brooks").bounding_box()
    hour = box["height"]  # a 60-minute session is one hour tall
    page.mouse.move(box["x"] + 20, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(box["x"] + 20, box["y"] + 8 + hour, steps=10)
    page.mouse.move(box["x"] + 20, box["y"] + 8 + hour * 2.5, steps=10)  # 16:30–17:30, past closing
    page.mouse.up()
    expect(page.locator("#toasts")).to_contain_text("outside the therapist's working hours")
    cancelling = calendar_day["cancelling"]
    cancelling.refresh_from_db()
    assert cancelling.start == at(calendar_day["coming"], 14)

    # Cancel Noah's appointment from its panel, with a reason.
    event(page, "Noah Brooks").click()
    expect(panel(page)).to_contain_text("Noah Brooks")
    panel(page).get_by_text("Cancel", exact=True).click()
    panel(page).get_by_label("Reason").fill("Called: the flu")
    panel(page).get_by_role("button", name="Cancel appointment").click()
    expect(panel(page)).to_contain_text("Cancelled Noah Brooks")
    screenshot(page, "03-cancelled")
    panel(page).get_by_role("button", name="Close").click()
    expect(event(page, "Noah Brooks")).to_have_count(0)
    cancelling.refresh_from_db()
    assert (cancelling.status, cancelling.cancellation_reason) == ("cancelled", "Called: the flu")

    # The past day: check Iris in, mark Omar as a no-show.
    go_to(page, calendar_day["past"])
    event(page, "Iris Chen").focus()  # without a mouse: appointments are buttons, Enter opens the panel
    page.keyboard.press("Enter")
    panel(page).get_by_role("button", name="Check in").click()
    expect(panel(page)).to_contain_text("Iris Chen checked in.")
    panel(page).get_by_role("button", name="Close").click()
    expect(event(page, "Iris Chen")).to_contain_text("Checked in")
    event(page, "Omar Haddad").click()
    panel(page).get_by_role("button", name="Mark no-show").click()
    expect(panel(page)).to_contain_text("Omar Haddad marked as a no-show.")
    expect(panel(page).get_by_role("button", name="Undo no-show")).to_be_visible()
    screenshot(page, "04-no-show")
    panel(page).get_by_role("button", name="Close").click()
    expect(event(page, "Omar Haddad")).to_contain_text("No-show")
    statuses = dict(Appointment.objects.values_list("patient__name", "status"))
    assert (statuses["Iris Chen"], statuses["Omar Haddad"]) == ("checked_in", "no_show")

    # The week view keeps the clinic's times too.
    page.get_by_role("button", name="Week").click()
    expect(page.locator(".ec-event.appointment", has_text="Iris Chen")).to_contain_text("10:00")
    screenshot(page, "05-week")


def test_the_demo_clinics_day_and_week(open_page, screenshot, clinic_data):
    ensure_roles()
    demo.build_demo_clinic(therapists=4, weeks=2, appointments=70, site_url="http://testserver")
    staff_user("rosa", "Receptionist")
    today = timezone.localdate(timezone.now(), ClinicSettings.load().tz)
    busiest = (
        Appointment.objects.active().filter(start__gte=at(today, 0)).order_by("start").values_list("start", flat=True)
    )
    day = weekday_on_or_after(today + timedelta(days=1))
    if busiest:
        day = max(
            (start.astimezone(ClinicSettings.load().tz).date() for start in busiest[:40]), key=lambda d: d.weekday() < 5
        )
    page = open_page(**DESKTOP, **TOKYO)
    log_in(page, "rosa")
    go_to(page, day)
    expect(page.locator(".ec-event.appointment").first).to_be_visible()
    screenshot(page, "demo-day")
    page.get_by_role("button", name="Week").click()
    expect(page.locator(".ec-event.appointment").first).to_be_visible()
    screenshot(page, "demo-week")

    phone = open_page(**PHONE, **TOKYO)
    log_in(phone, "rosa")
    go_to(phone, day)
    expect(phone.locator(".ec-event.appointment").first).to_be_visible()
    screenshot(phone, "demo-phone")


def test_a_slow_answer_for_the_day_just_left_never_replaces_the_day_shown(open_page, calendar_day):
    """The receptionist jumps to another day while the first day is still loading: the old answer is dropped."""
    staff_user("rosa", "Receptionist")
    page = open_page(**DESKTOP)
    log_in(page, "rosa")
    expect(page.locator("#cal-title")).not_to_have_text("Calendar")
    held = []

    def hold_the_past_day(route):
        if f"start={calendar_day['past'].isoformat()}" in route.request.url and not held:
            held.append(route)  # answered only once the next day has loaded
        else:
            route.continue_()

    page.route("**/frontdesk/events/*", hold_the_past_day)
    page.get_by_label("Go to date").fill(calendar_day["past"].isoformat())
    page.get_by_label("Go to date").dispatch_event("change")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the past day's events were never asked for"

    go_to(page, calendar_day["coming"])
    expect(event(page, "Mira Patel")).to_be_visible()
    with contextlib.suppress(Exception):  # the page has already dropped that request: as it should
        held[0].continue_()
    page.wait_for_timeout(500)
    expect(event(page, "Mira Patel")).to_be_visible()
    expect(event(page, "Iris Chen")).to_have_count(0)
