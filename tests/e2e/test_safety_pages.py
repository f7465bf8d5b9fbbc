"""The safety pages as people meet them in Chromium: too many bookings (429), the online booking cap, the page shown
while the database is away (503), and a superuser's own admin pages, all under the Content Security Policy."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from booking.models import Appointment
from clinic.models import ClinicSettings
from tests.clinic.test_faults import outage  # noqa: F401 - the fixture
from tests.conftest import staff_user
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_booking_e2e import fill_details_review_and_confirm, heading
from tests.e2e.test_csp import assert_policy

pytestmark = pytest.mark.e2e

BOOK = "/book/?service=myofascial-release&duration=60&therapist=alex-moreau"


def book_first_free_time(page: Page, screenshot, *, name: str, email: str, phone: str) -> None:
    page.goto(BOOK)
    page.get_by_role("list", name=re.compile("^Free times")).get_by_role("link").first.click()
    fill_details_review_and_confirm(page, screenshot, name=name, email=email, phone_number=phone)
    page.get_by_role("button", name="Confirm booking").click()


def test_a_client_over_the_booking_limit_gets_the_429_page(open_page, clinic_data, settings, screenshot):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "book_address": "1/h"}
    page = open_page(**PHONE)
    book_first_free_time(page, screenshot, name="Cleo Park", email="cleo@example.com", phone="416-555-0150")
    expect(heading(page, "You're booked!")).to_be_visible()

    open_page.expect_refusal(429, r"/book/$")
    book_first_free_time(page, screenshot, name="Dana Wu", email="dana@example.com", phone="416-555-0151")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Too many")
    expect(page.get_by_role("main")).to_contain_text("This last try didn't book or change anything")
    expect(page.get_by_role("main")).to_contain_text(ClinicSettings.load().phone)
    screenshot(page, "429")
    assert Appointment.objects.filter(patient__email="dana@example.com").count() == 0


def test_a_patient_at_the_online_booking_cap_is_told_to_call(open_page, clinic_data, screenshot):
    clinic = ClinicSettings.load()
    clinic.online_booking_cap = 1
    clinic.save()
    page = open_page(**DESKTOP)
    book_first_free_time(page, screenshot, name="Cleo Park", email="cleo@example.com", phone="416-555-0150")
    expect(heading(page, "You're booked!")).to_be_visible()

    open_page.expect_refusal(409, r"/book/$")
    book_first_free_time(page, screenshot, name="Cleo Park", email="CLEO@example.com", phone="416-555-0150")
    expect(page.get_by_role("main")).to_contain_text("You already have 1 upcoming appointment booked online")
    expect(page.get_by_role("main")).to_contain_text(clinic.phone)
    screenshot(page, "cap")
    assert Appointment.objects.filter(patient__email__iexact="cleo@example.com").count() == 1


def test_while_the_database_is_away_pages_say_so_and_the_site_recovers(open_page, clinic_data, outage, screenshot):  # noqa: F811
    page = open_page(**PHONE)
    page.goto("/services/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    outage.start()
    open_page.expect_refusal(503, r"/book/")
    response = page.goto(BOOK)
    assert response is not None and response.status == 503
    assert_policy(response, BOOK)
    expect(page.get_by_role("main")).to_contain_text("will be back in a moment")
    expect(page.get_by_role("main")).to_contain_text(settings.CLINIC_PHONE)
    screenshot(page, "503")
    outage.end()

    page.goto(BOOK)
    expect(page.get_by_role("list", name=re.compile("^Free times"))).to_be_visible()


def test_a_superusers_admin_pages_work_under_the_policy(open_page, clinic_data, live_server, screenshot):
    root = staff_user("ada", "Manager")
    root.is_superuser = True
    root.save()
    staff_user("rosa", "Receptionist")
    client = Client()
    client.force_login(root)
    page = open_page(**DESKTOP)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    for path in [
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/auth/group/",
        "/admin/axes/accessattempt/",
        "/admin/otp_totp/totpdevice/",
        "/frontdesk/staff/",
        "/accounts/two-factor/",
    ]:
        response = page.goto(path)
        assert_policy(response, path)
        assert response is not None and response.status == 200, path
    page.goto("/admin/auth/user/")
    page.get_by_role("link", name="rosa").click()
    expect(page.get_by_label("Superuser status")).to_be_visible()
    screenshot(page, "user-admin")
    page.goto("/admin/auth/group/")
    page.get_by_role("link", name="Manager").click()
    expect(page.locator("#id_permissions_to")).to_be_attached()
    screenshot(page, "group-admin")
