"""Phone-in booking in a real Chromium running in Tokyo's time zone: the times shown and booked are Toronto's.

A receptionist clicks an empty time on the calendar, finds the caller by part of their phone number and
books; books a course of weekly sessions, settling the one that clashes in the dialog; and finds a free
time from the toolbar, on a desktop and on a phone.
"""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from booking.models import Appointment
from clinic.models import ClinicSettings
from tests.conftest import staff_user
from tests.e2e.conftest import DESKTOP, PHONE
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.e2e

TOKYO = {"timezone_id": "Asia/Tokyo"}
# The calendar shows the span of the therapists' hours: 9:00 to 17:00 for the test clinic.
FIRST_HOUR, LAST_HOUR = 9, 17


def clinic_today() -> date:
    return timezone.localdate(timezone.now(), ClinicSettings.load().tz)


def next_weekday(after: date) -> date:
    day = after + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ClinicSettings.load().tz)


def log_in_and_open_the_day(page: Page, day: date) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("rosa")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/frontdesk/"))
    page.goto(f"/frontdesk/?date={day.isoformat()}&view=day")
    expect(page.locator(".ec-body .ec-day")).to_have_count(2)  # Alex's column and Sam's


def click_empty_time(page: Page, column: int, hour: int, minute: int = 0) -> None:
    """Click the calendar's grid in a therapist's column at a wall-clock time (a few pixels inside the slot)."""
    box = page.locator(".ec-body .ec-day").nth(column).bounding_box()
    assert box is not None
    share = ((hour - FIRST_HOUR) * 60 + minute) / ((LAST_HOUR - FIRST_HOUR) * 60)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * share + 4)


def panel(page: Page):
    return page.locator("#panel")


def panel_open(page: Page, title: str):
    """The side panel, once it has finished sliding in (Bootstrap moves the focus to it at that moment)."""
    expect(page.locator("#panel.show:not(.showing)")).to_be_visible()
    expect(page.locator("#panel-title")).to_have_text(title)
    return panel(page)


def fits_the_screen(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


@pytest.fixture
def receptionist(clinic_data):
    return staff_user("rosa", "Receptionist")


@pytest.fixture
def caller(clinic_data):
    PatientFactory(name="Leo Grant", email="leo@example.com", phone="+16475550100")
    return PatientFactory(name="Ana Silva", email="ana@example.com", phone="+14165550108")


def test_a_receptionist_books_a_phone_caller_into_an_empty_time(
    open_page, screenshot, receptionist, caller, clinic_data
):
    alex = clinic_data["therapists"][0]
    day = next_weekday(clinic_today())
    page = open_page(**DESKTOP, **TOKYO)
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Tokyo"
    log_in_and_open_the_day(page, day)
    screenshot(page, "01-calendar")

    click_empty_time(page, column=0, hour=10)
    dialog = panel_open(page, "New booking")
    expect(dialog.get_by_label("Start")).to_have_value(f"{day.isoformat()}T10:00")  # Toronto's 10:00, not Tokyo's
    expect(dialog.get_by_label("Therapist")).to_have_value(str(alex.pk))
    expect(dialog.get_by_label("Treatment and length")).to_contain_text("Myofascial release, 60 min – $125")

    dialog.get_by_label("Find the patient by name, email or phone").press_sequentially("555 0108", delay=30)
    found = dialog.get_by_role("radio", name=re.compile(r"^Ana Silva"))
    expect(found).to_be_visible()
    expect(dialog.locator("#patient-results")).not_to_contain_text("Leo Grant")
    found.check()
    dialog.get_by_label("Note from the patient").fill("Sciatica, worse when sitting.")
    screenshot(page, "02-dialog")

    dialog.get_by_role("button", name="Book", exact=True).click()
    expect(dialog).to_contain_text(f"Booked Ana Silva for {day:%a} {day.day} {day:%b %Y}, 10:00 with Alex Moreau.")
    expect(dialog).to_contain_text("A confirmation will be emailed to ana@example.com.")
    booked = page.locator(".ec-event.appointment", has_text="Ana Silva")
    expect(booked).to_contain_text("10:00")
    expect(booked).to_contain_text("Note")
    screenshot(page, "03-booked")

    appointment = Appointment.objects.get(patient=caller)
    assert appointment.start == at(day, 10)
    assert (appointment.channel, appointment.booked_by.username) == ("phone", "rosa")

    # Then the caller asks for Sam instead: drag the new appointment into Sam's column at the same time.
    panel(page).get_by_role("button", name="Close").click()
    expect(page.locator("#panel.show")).to_have_count(0)
    box = booked.bounding_box()
    column = page.locator(".ec-body .ec-day").nth(0).bounding_box()
    assert box is not None and column is not None
    page.mouse.move(box["x"] + 20, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(box["x"] + 20 + column["width"] / 2, box["y"] + 8, steps=8)
    page.mouse.move(box["x"] + 20 + column["width"], box["y"] + 8, steps=8)
    page.mouse.up()
    expect(page.locator("#toasts")).to_contain_text(
        f"Moved Ana Silva to {day:%a} {day.day} {day:%b}, 10:00 with Sam Okafor."
    )
    appointment.refresh_from_db()
    assert (appointment.therapist, appointment.start) == (clinic_data["therapists"][1], at(day, 10))
    screenshot(page, "04-dragged-to-sam")


def test_a_repeat_booking_with_a_clash_is_settled_in_the_dialog(
    open_page, screenshot, receptionist, caller, clinic_data
):
    service, (alex, sam) = clinic_data["service"], clinic_data["therapists"]
    day = next_weekday(clinic_today())
    clash = AppointmentFactory(therapist=alex, service=service, start=at(day + timedelta(weeks=2), 11))
    page = open_page(**DESKTOP, **TOKYO)
    log_in_and_open_the_day(page, day)

    click_empty_time(page, column=0, hour=11)
    dialog = panel_open(page, "New booking")
    expect(dialog.get_by_label("Start")).to_have_value(f"{day.isoformat()}T11:00")
    dialog.get_by_label("Repeat").select_option(label="Every week")
    dialog.get_by_label("Sessions in all").fill("6")
    dialog.get_by_label("Find the patient by name, email or phone").press_sequentially("silva", delay=30)
    dialog.get_by_role("radio", name=re.compile(r"^Ana Silva")).check()
    dialog.get_by_label("Email a confirmation to the patient").uncheck()
    dialog.get_by_role("button", name="Book", exact=True).click()

    third = day + timedelta(weeks=2)
    expect(dialog).to_contain_text("Nothing is booked yet: 1 of 6 sessions does not fit.")
    expect(dialog.locator(".session-fits")).to_have_count(5)
    clashing = dialog.locator(".session-clash")
    expect(clashing).to_contain_text(f"{third:%a} {third.day} {third:%b %Y}, 11:00 is taken")
    assert Appointment.objects.count() == 1  # nothing saved until it is settled
    screenshot(page, "01-clash")

    clashing.get_by_label(f"{third:%a} {third.day} {third:%b}, 11:00 · Sam Okafor").check()
    dialog.get_by_role("button", name="Book the sessions").click()
    expect(dialog).to_contain_text("Booked 6 sessions for Ana Silva")
    expect(dialog).to_contain_text("No confirmation will be emailed.")
    expect(page.locator(".ec-event.appointment", has_text="Ana Silva")).to_contain_text("11:00")
    screenshot(page, "02-booked")

    booked = list(Appointment.objects.filter(patient=caller).order_by("start"))
    assert [a.start for a in booked] == [at(day + timedelta(weeks=week), 11) for week in range(6)]
    assert [a.therapist for a in booked] == [alex, alex, sam, alex, alex, alex]
    assert clash.therapist == alex


def test_find_a_free_time_from_the_toolbar_then_book_it_on_a_phone(open_page, screenshot, receptionist, caller):
    page = open_page(**PHONE, **TOKYO)
    log_in_and_open_the_day(page, next_weekday(clinic_today()))
    fits_the_screen(page)
    screenshot(page, "00-calendar")
    page.get_by_role("link", name="Find a free time").click()
    panel_open(page, "Find a free time")
    free = panel(page).locator(".next-free-times a").first
    expect(free).to_be_visible()
    fits_the_screen(page)
    screenshot(page, "01-next-free")

    free.click()
    expect(page.locator("#panel-title")).to_have_text("New booking")
    start = panel(page).get_by_label("Start").input_value()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", start)
    panel(page).get_by_label("A new patient: add their details").check()
    panel(page).get_by_label("Full name").fill("Maya Chen")
    panel(page).get_by_label("Email", exact=True).fill("maya@example.com")
    panel(page).get_by_label("Phone", exact=True).fill("(416) 555-0177")
    panel(page).get_by_label("In person").check()
    fits_the_screen(page)
    screenshot(page, "02-new-patient")
    panel(page).get_by_role("button", name="Book", exact=True).click()
    expect(panel(page)).to_contain_text("Booked Maya Chen")
    screenshot(page, "03-booked")

    appointment = Appointment.objects.get(patient__email="maya@example.com")
    local = appointment.start.astimezone(ClinicSettings.load().tz)
    assert f"{local:%Y-%m-%dT%H:%M}" == start
    assert str(appointment.patient.phone.as_e164) == "+14165550177"
    assert appointment.channel == "front_desk"


def test_the_dialog_works_as_a_page_without_the_calendar(open_page, screenshot, receptionist, caller):
    page = open_page(**PHONE)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("rosa")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.goto("/frontdesk/book/")
    expect(page.get_by_role("heading", name="New booking", level=1)).to_be_visible()
    fits_the_screen(page)
    screenshot(page, "01-page")
