"""A therapist in the admin panel, in Chromium on a desktop: each section shows their own records only, and
searching for a colleague's patient, or opening a colleague's time off by its address, finds nothing.

Alex treats Iris Chen; Sam (registration R90909, login okafor_staff) treats Omar Haddad and is off to the
dentist. Alex's pages must show none of Sam's.
"""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.models import ClinicSettings
from tests.conftest import staff_user
from tests.e2e.conftest import DESKTOP
from tests.factories import AppointmentFactory, PatientFactory, TimeOffFactory

pytestmark = pytest.mark.e2e

COLLEAGUES = ["Sam Okafor", "R90909", "okafor_staff", "Omar Haddad", "Whiplash", "Dentist"]


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()


def open_section(page: Page, name: str) -> None:
    """Follow a model's link on the admin index (not its app's heading, which may bear the same name)."""
    page.locator("th[scope=row]").get_by_role("link", name=name, exact=True).click()


def shows_nothing_of_sam(page: Page) -> None:
    text = page.locator("body").inner_text()
    assert [secret for secret in COLLEAGUES if secret.lower() in text.lower()] == [], page.url


@pytest.fixture
def two_practices(clinic_data):
    service, (alex, sam) = clinic_data["service"], clinic_data["therapists"]
    alex.registration_number, alex.user = "R10001", staff_user("alex", "Therapist")
    alex.save()
    sam.registration_number, sam.user = "R90909", staff_user("okafor_staff", "Therapist")
    sam.save()
    tz = ClinicSettings.load().tz
    day = timezone.localdate(timezone.now(), tz) + timedelta(days=3)
    at_ten = datetime.combine(day, time(10), tzinfo=tz)
    AppointmentFactory(
        therapist=alex, service=service, start=at_ten, patient=PatientFactory(name="Iris Chen"), patient_note="Left hip"
    )
    AppointmentFactory(
        therapist=sam,
        service=service,
        start=at_ten,
        patient=PatientFactory(name="Omar Haddad"),
        patient_note="Whiplash since the crash",
    )
    week_later = datetime.combine(day + timedelta(days=7), time(9), tzinfo=tz)
    TimeOffFactory(therapist=alex, start=week_later, end=week_later + timedelta(hours=8), reason="Course")
    sams_time_off = TimeOffFactory(
        therapist=sam, start=week_later, end=week_later + timedelta(hours=8), reason="Dentist"
    )
    return {"sams_time_off": sams_time_off}


def test_a_therapist_finds_only_their_own_records_in_each_admin_section(open_page, screenshot, two_practices):
    page = open_page(**DESKTOP)
    log_in(page, "alex")
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Calendar, patients and clinic settings")).to_be_visible()
    shows_nothing_of_sam(page)
    screenshot(page, "01-index")

    sections = [
        ("Appointments", "Iris Chen"),
        ("Patients", "Iris Chen"),
        ("Services", "Myofascial release"),
        ("Therapists", "R10001"),
        ("Working hours", "Alex Moreau"),
        ("Time off", "Course"),
    ]
    for number, (section, own) in enumerate(sections, start=2):
        page.goto("/admin/")
        open_section(page, section)
        expect(page.locator("#result_list")).to_contain_text(own)
        shows_nothing_of_sam(page)
        screenshot(page, f"{number:02d}-{section.lower().replace(' ', '-')}")

    page.goto("/admin/")
    open_section(page, "Patients")
    page.locator("#searchbar").fill("Omar")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text(re.compile(r"0 results"))).to_be_visible()
    shows_nothing_of_sam(page)
    screenshot(page, "08-patients-searched-for-omar")

    page.goto("/admin/")
    open_section(page, "Appointments")
    page.locator("#searchbar").fill("Omar")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text(re.compile(r"0 results"))).to_be_visible()
    shows_nothing_of_sam(page)
    screenshot(page, "09-appointments-searched-for-omar")

    page.goto("/admin/therapists/timeoff/?q=Dentist")
    expect(page.get_by_text(re.compile(r"0 results"))).to_be_visible()
    shows_nothing_of_sam(page)
    screenshot(page, "10-time-off-searched-for-the-reason")

    page.goto(f"/admin/therapists/timeoff/{two_practices['sams_time_off'].pk}/change/")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_text(re.compile("doesn’t exist"))).to_be_visible()
    shows_nothing_of_sam(page)
    screenshot(page, "11-colleagues-time-off-by-address")

    page.goto("/admin/")
    open_section(page, "Appointments")
    page.locator("#result_list tbody th a").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Iris Chen with Alex Moreau"))).to_be_visible()
    expect(page.get_by_text("Left hip")).to_be_visible()
    expect(page.get_by_role("link", name="Open at the front desk")).to_have_count(0)
    shows_nothing_of_sam(page)
    screenshot(page, "12-own-appointment")
