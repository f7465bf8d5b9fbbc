"""A therapist's own time off in a real Chromium: on a phone, Alex asks for a day off while a patient is booked
that day, so it waits for the front desk; at the desk, a receptionist sees the request in the menu and approves it
after seeing the patient; back on the phone, Alex sees it blocked. Another request is declined with a reason, at
the front desk on a phone.

The browsers run in Tokyo's time zone: every time shown is still the clinic's (Toronto).
"""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.models import ClinicSettings
from tests.conftest import staff_user
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_accessibility import serious_violations
from tests.factories import AppointmentFactory, PatientFactory
from therapists.models import TimeOff

pytestmark = pytest.mark.e2e

TOKYO = {"timezone_id": "Asia/Tokyo"}


def next_weekday_after(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ClinicSettings.load().tz)


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def fits_the_screen(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


@pytest.fixture
def alex_booked(clinic_data):
    """Alex, with a staff login, and Jordan Lee booked with Alex at 10:00 on the next weekday."""
    alex = clinic_data["therapists"][0]
    alex.user = staff_user("alex", "Therapist")
    alex.save()
    day = next_weekday_after(timezone.localdate(timezone.now(), ClinicSettings.load().tz))
    AppointmentFactory(
        therapist=alex,
        service=clinic_data["service"],
        start=at(day, 10),
        patient=PatientFactory(name="Jordan Lee", phone="416-555-0199"),
    )
    return {"therapist": alex, "day": day}


def ask_for_a_day_off(page: Page, day: date, reason: str) -> None:
    page.get_by_label("First day").fill(day.isoformat())
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Add time off").click()


def test_a_therapist_asks_for_a_booked_day_off_and_the_front_desk_approves_it(open_page, screenshot, alex_booked):
    day = alex_booked["day"]
    staff_user("rosa", "Receptionist")

    phone = open_page(**PHONE, **TOKYO)
    log_in(phone, "alex")
    phone.goto("/schedule/time-off/")
    expect(phone.get_by_role("heading", name="My time off")).to_be_visible()
    fits_the_screen(phone)
    screenshot(phone, "01-therapist-empty")

    ask_for_a_day_off(phone, day, "Family wedding")

    expect(phone.get_by_role("alert").filter(has_text="Sent to the front desk for approval")).to_contain_text(
        "Jordan, "
    )
    item = phone.locator(".own-time-off-item").first
    expect(item).to_contain_text("Waiting for approval")
    expect(item).to_contain_text("Family wedding")
    expect(item).to_contain_text("Jordan, ")
    expect(item).to_contain_text("10:00–11:00")
    expect(item).not_to_contain_text("Jordan Lee")
    expect(item.get_by_role("button", name=re.compile("^Withdraw request"))).to_be_visible()
    assert TimeOff.objects.get().status == TimeOff.Status.REQUESTED
    fits_the_screen(phone)
    assert serious_violations(phone) == []
    screenshot(phone, "02-therapist-request-waiting")

    desk = open_page(**DESKTOP, **TOKYO)
    log_in(desk, "rosa")
    menu_link = desk.get_by_role("navigation", name="Front desk").get_by_role("link", name=re.compile("^Time off"))
    expect(menu_link).to_contain_text("1")
    menu_link.click()
    waiting = desk.get_by_role("region", name=re.compile("^Waiting for approval"))
    expect(waiting).to_contain_text("Alex Moreau")
    expect(waiting).to_contain_text("Family wedding")
    expect(waiting.get_by_role("link", name="Jordan Lee")).to_have_attribute(
        "href", re.compile(r"/frontdesk/appointments/\d+/$")
    )
    assert serious_violations(desk) == []
    screenshot(desk, "03-desk-waiting")

    waiting.get_by_role("button", name=re.compile("^Approve; I will move or cancel these")).click()

    expect(desk.get_by_role("alert").filter(has_text="Approved Alex Moreau")).to_be_visible()
    expect(desk.get_by_role("region", name=re.compile("^Waiting for approval"))).to_have_count(0)
    listed = desk.locator(".time-off-item", has_text="Alex Moreau")
    expect(listed).to_contain_text("Still booked during this time off")
    expect(listed.get_by_role("link", name="Jordan Lee")).to_be_visible()
    expect(menu_link).to_have_text("Time off")
    assert TimeOff.objects.get().status == TimeOff.Status.APPROVED
    screenshot(desk, "04-desk-approved")

    phone.reload()
    item = phone.locator(".own-time-off-item").first
    expect(item).to_contain_text("Blocked")
    expect(item).to_contain_text("Approved by the front desk")
    expect(item).to_contain_text("Still booked then")
    expect(item.get_by_role("button")).to_have_count(0)  # patients inside: the front desk's to take away
    fits_the_screen(phone)
    screenshot(phone, "05-therapist-approved")


def test_a_declined_request_tells_the_therapist_why(open_page, screenshot, alex_booked):
    day = alex_booked["day"]
    staff_user("rosa", "Receptionist")
    phone = open_page(**PHONE, **TOKYO)
    log_in(phone, "alex")
    phone.goto("/schedule/time-off/")
    ask_for_a_day_off(phone, day, "Course")
    expect(phone.locator(".own-time-off-item").first).to_contain_text("Waiting for approval")

    desk = open_page(**PHONE, **TOKYO)  # the front desk's page on a phone too
    log_in(desk, "rosa")
    desk.goto("/frontdesk/time-off/")
    waiting = desk.get_by_role("region", name=re.compile("^Waiting for approval"))
    open_page.expect_refusal(400, r"/frontdesk/time-off/\d+/decline/$")
    waiting.get_by_role("button", name=re.compile("^Decline")).click()
    expect(desk.get_by_text("Say in a few words why, so the therapist knows.")).to_be_visible()
    expect(desk.get_by_label("Why not")).to_be_focused()
    fits_the_screen(desk)
    assert serious_violations(desk) == []
    screenshot(desk, "01-desk-decline-needs-a-reason")

    desk.get_by_label("Why not").fill("Two colleagues are away that day.")
    desk.get_by_role("button", name=re.compile("^Decline")).click()
    expect(desk.get_by_role("alert").filter(has_text="Declined Alex Moreau")).to_be_visible()
    assert TimeOff.objects.get().status == TimeOff.Status.DECLINED

    phone.reload()
    item = phone.locator(".own-time-off-item").first
    expect(item).to_contain_text("Declined")
    expect(item).to_contain_text("Two colleagues are away that day.")
    fits_the_screen(phone)
    screenshot(phone, "02-therapist-declined")
