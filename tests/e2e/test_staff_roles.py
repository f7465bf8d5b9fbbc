"""Each staff role in Chromium: where it lands after logging in and what the admin panel shows it.

The manager lands at the front desk and finds appointments read only in the admin, on the clinic's clock,
with a link back to the front desk; a therapist lands on their schedule and sees only their own appointments
in the admin.
"""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.models import ClinicSettings
from tests.conftest import staff_user
from tests.e2e.conftest import DESKTOP, PHONE, pass_second_step
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.e2e


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    pass_second_step(page, username)


@pytest.fixture
def two_appointments(clinic_data):
    service, (alex, sam) = clinic_data["service"], clinic_data["therapists"]
    tz = ClinicSettings.load().tz
    day = timezone.localdate(timezone.now(), tz) + timedelta(days=3)
    at_ten = datetime.combine(day, time(10), tzinfo=tz)
    return {
        "alex": AppointmentFactory(
            therapist=alex, service=service, start=at_ten, patient=PatientFactory(name="Iris Chen")
        ),
        "sam": AppointmentFactory(
            therapist=sam, service=service, start=at_ten, patient=PatientFactory(name="Omar Haddad")
        ),
        "day": day,
    }


def test_the_manager_lands_at_the_front_desk_and_sees_appointments_read_only_in_the_admin(
    open_page, screenshot, two_appointments
):
    staff_user("morgan", "Manager")
    page = open_page(**DESKTOP, timezone_id="Asia/Tokyo")
    log_in(page, "morgan")
    expect(page).to_have_url(re.compile(r"/frontdesk/(\?|$)"))  # the calendar may already have added ?date=

    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Appointments").first.click()
    day = two_appointments["day"]
    row = page.get_by_role("row", name=re.compile("Iris Chen"))
    expect(row).to_contain_text(f"{day:%a} {day.day} {day:%b %Y}, 10:00")
    expect(page.get_by_role("link", name=re.compile("Add appointment"))).to_have_count(0)
    screenshot(page, "01-admin-appointments")

    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Iris Chen with Alex Moreau,"))).to_contain_text(" 10:00")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_text("View on site")).to_have_count(0)
    screenshot(page, "02-admin-appointment")
    page.get_by_role("link", name="Open at the front desk").click()
    expect(page).to_have_url(re.compile(rf"/frontdesk/appointments/{two_appointments['alex'].pk}/$"))
    expect(page.get_by_role("heading", name="Iris Chen")).to_be_visible()
    screenshot(page, "03-front-desk-page")


def test_a_therapist_lands_on_their_schedule_and_sees_only_their_own_appointments_in_the_admin(
    open_page, screenshot, two_appointments
):
    alex = two_appointments["alex"].therapist
    alex.user = staff_user("alex", "Therapist")
    alex.save()
    page = open_page(**PHONE)
    log_in(page, "alex")
    expect(page).to_have_url(re.compile(r"/schedule/$"))
    page.goto("/admin/")
    page.get_by_role("link", name="Appointments").first.click()
    expect(page.get_by_text("Iris Chen")).to_be_visible()
    expect(page.get_by_text("Omar Haddad")).to_have_count(0)
    screenshot(page, "01-own-appointments")
    open_page.expect_refusal(403, r"/frontdesk/$")
    page.goto("/frontdesk/")
    expect(page.get_by_role("heading", name="This page is not open to you")).to_be_visible()
    screenshot(page, "02-front-desk-refused")
    page.get_by_role("link", name="Go to my start page").click()
    expect(page).to_have_url(re.compile(r"/schedule/$"))
