"""Therapists' time in a real Chromium: time off over a booked appointment, confirmed; the day sheet, on
screen and as printed; the same on a phone; and the manager's admin refusing a change until "Save anyway".

The browser runs in Tokyo's time zone: every time shown is still the clinic's (Toronto).
"""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.models import ClinicSettings
from tests.conftest import staff_user
from tests.e2e.conftest import DESKTOP, PHONE, pass_second_step
from tests.factories import AppointmentFactory, PatientFactory
from therapists.models import TimeOff

pytestmark = pytest.mark.e2e

TOKYO = {"timezone_id": "Asia/Tokyo"}


def next_weekday_after(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ClinicSettings.load().tz)


def log_in(page: Page, username: str, landing: str = r"/frontdesk/") -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    pass_second_step(page, username)
    expect(page).to_have_url(re.compile(landing))


def fits_the_screen(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


@pytest.fixture
def booked_day(clinic_data):
    """A coming weekday with Jordan Lee booked with Alex at 10:00 and Robin Roe with Sam at 14:00."""
    alex, sam = clinic_data["therapists"]
    service = clinic_data["service"]
    day = next_weekday_after(timezone.localdate(timezone.now(), ClinicSettings.load().tz))
    AppointmentFactory(
        therapist=alex,
        service=service,
        start=at(day, 10),
        patient=PatientFactory(name="Jordan Lee", phone="416-555-0199"),
        patient_note="Pain down the left leg when sitting.",
        staff_note="Prefers the ground-floor room.",
    )
    AppointmentFactory(
        therapist=sam, service=service, start=at(day, 14), patient=PatientFactory(name="Robin Roe", phone="6475550123")
    )
    return day


def test_a_receptionist_adds_time_off_over_a_booking_then_prints_the_day(open_page, screenshot, booked_day):
    staff_user("rosa", "Receptionist")
    page = open_page(**DESKTOP, **TOKYO)
    log_in(page, "rosa")

    page.get_by_role("navigation", name="Front desk").get_by_role("link", name="Time off").click()
    expect(page.get_by_role("heading", name="Time off", exact=True)).to_be_visible()
    screenshot(page, "01-time-off")

    page.get_by_label("Therapist").select_option(label="Alex Moreau")
    page.get_by_label("First day").fill(booked_day.isoformat())
    page.get_by_label("Start time").fill("09:00")
    page.get_by_label("End time").fill("12:00")
    page.get_by_label("Reason").fill("Course")
    page.get_by_role("button", name="Add time off").click()

    warning = page.get_by_role("region", name=re.compile("Not saved yet"))
    expect(warning).to_contain_text("1 booked appointment falls in this time off")
    expect(warning).to_contain_text("Jordan Lee")
    expect(warning).to_contain_text("10:00–11:00")
    expect(warning.get_by_role("link", name="Jordan Lee")).to_have_attribute(
        "href", re.compile(r"/frontdesk/appointments/\d+/$")
    )
    assert not TimeOff.objects.exists()
    screenshot(page, "02-asks-first")

    page.get_by_role("button", name="Save the time off anyway; I will move or cancel these").click()

    expect(page.get_by_role("alert").filter(has_text="Time off added for Alex Moreau")).to_be_visible()
    listed = page.locator(".time-off-item", has_text="Alex Moreau")
    expect(listed).to_contain_text("09:00–12:00")
    expect(listed).to_contain_text("Still booked during this time off")
    expect(listed.get_by_role("link", name="Jordan Lee")).to_be_visible()
    assert TimeOff.objects.get().start == at(booked_day, 9)
    screenshot(page, "03-saved")

    page.get_by_role("navigation", name="Front desk").get_by_role("link", name="Day sheet").click()
    page.get_by_label("Day", exact=True).fill(booked_day.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Day sheet: "))).to_contain_text(f"{booked_day.day}")
    alex = page.get_by_role("region", name=re.compile("^Alex Moreau"))
    expect(alex).to_contain_text("10:00–11:00")
    expect(alex).to_contain_text("Jordan Lee")
    expect(alex).to_contain_text("First visit")
    expect(alex).to_contain_text("Pain down the left leg when sitting.")
    expect(alex).to_contain_text("Time off 09:00–12:00")
    expect(page.get_by_role("region", name=re.compile("^Sam Okafor"))).to_contain_text("14:00–15:00")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    screenshot(page, "04-day-sheet")

    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.locator(".staff-nav")).to_be_hidden()
    printed = screenshot(page, "05-day-sheet-print")
    page.pdf(path=str(printed.with_suffix(".pdf")), format="Letter")  # to look at the page breaks


def test_time_off_and_the_day_sheet_fit_a_phone(open_page, screenshot, booked_day):
    staff_user("rosa", "Receptionist")
    page = open_page(**PHONE, **TOKYO)
    log_in(page, "rosa")

    page.goto("/frontdesk/time-off/")
    page.get_by_label("Therapist").select_option(label="Alex Moreau")
    page.get_by_label("First day").fill(booked_day.isoformat())
    page.get_by_role("button", name="Add time off").click()
    expect(page.get_by_role("region", name=re.compile("Not saved yet"))).to_contain_text("Jordan Lee")
    fits_the_screen(page)
    screenshot(page, "01-time-off-asks")

    page.goto(f"/frontdesk/day-sheet/?date={booked_day.isoformat()}")
    expect(page.get_by_role("region", name=re.compile("^Alex Moreau"))).to_contain_text("Jordan Lee")
    fits_the_screen(page)
    screenshot(page, "02-day-sheet")


def test_the_admin_refuses_time_off_over_a_booking_until_save_anyway(open_page, screenshot, booked_day, clinic_data):
    staff_user("maria", "Manager")
    page = open_page(**DESKTOP, **TOKYO)
    log_in(page, "maria")

    alex = clinic_data["therapists"][0]
    page.goto("/admin/therapists/timeoff/add/")
    page.locator("select[name=therapist]").select_option(str(alex.pk))
    page.locator("input[name=start_0]").fill(booked_day.isoformat())
    page.locator("input[name=start_1]").fill("09:00")
    page.locator("input[name=end_0]").fill(booked_day.isoformat())
    page.locator("input[name=end_1]").fill("17:00")
    page.locator("input[name=reason]").fill("Course")
    page.locator("input[name=_save]").click()

    message = page.locator(".errorlist.nonfield")
    expect(message).to_contain_text("Not saved yet: this change would leave 1 booked appointment with Alex Moreau")
    expect(message.get_by_role("link", name="Jordan Lee")).to_be_visible()
    expect(message).to_contain_text("10:00")
    assert not TimeOff.objects.exists()
    screenshot(page, "01-refused")

    page.get_by_label("Save anyway").check()
    page.locator("input[name=_save]").click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert TimeOff.objects.get().start == at(booked_day, 9)
    screenshot(page, "02-saved")
