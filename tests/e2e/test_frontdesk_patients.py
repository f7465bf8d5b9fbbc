"""The front desk's patient pages in a real Chromium: find a patient as you type, edit them, merge a duplicate.

The live server runs on the real clock, so appointments are placed on coming and past weekdays.
"""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from booking.models import Appointment, AppointmentEvent, Patient
from clinic.models import ClinicSettings
from tests.conftest import staff_user
from tests.e2e.conftest import DESKTOP, NO_JAVASCRIPT, PHONE
from tests.e2e.test_accessibility import serious_violations
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.e2e


def weekday_on_or_after(day: date) -> date:
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
    expect(page).to_have_url(re.compile(r"/frontdesk/"))


def fits_the_screen(page: Page) -> None:
    """Nothing sticks out sideways, measured once the styles have loaded (a click does not wait for them)."""
    page.wait_for_load_state("load")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


@pytest.fixture
def patients(clinic_data):
    """Ana Silva twice (booked online once with another email and phone), and a few other patients."""
    service, (alex, sam) = clinic_data["service"], clinic_data["therapists"]
    staff_user("rosa", "Receptionist")
    today = timezone.localdate(timezone.now(), ClinicSettings.load().tz)
    coming = weekday_on_or_after(today + timedelta(days=2))
    past = weekday_on_or_after(today - timedelta(days=9))
    for name, phone in [
        ("Ben Okafor", "647-555-0133"),
        ("Chloé Martin", "905-555-0177"),
        ("Dev Ramsay", "416-555-0190"),
    ]:
        PatientFactory(name=name, email=f"{name.split()[0].lower()}@example.com", phone=phone)
    ana = PatientFactory(name="Ana Silva", email="ana.silva@example.org", phone="416-555-0108")
    twin = PatientFactory(
        name="Ana Silva", email="ana.s@example.com", phone="647-555-0199", date_of_birth=date(1988, 3, 14)
    )
    AppointmentFactory(patient=ana, therapist=alex, service=service, start=at(coming, 10))
    AppointmentFactory(
        patient=ana, therapist=sam, service=service, start=at(past, 14), status=Appointment.Status.COMPLETED
    )
    moving = AppointmentFactory(patient=twin, therapist=sam, service=service, start=at(coming + timedelta(days=7), 11))
    return {"ana": ana, "twin": twin, "moving": moving, "coming": coming}


def test_receptionist_finds_edits_and_merges_a_patient_on_a_desktop(open_page, screenshot, patients):
    ana, twin = patients["ana"], patients["twin"]
    page = open_page(**DESKTOP)
    log_in(page, "rosa")

    page.get_by_role("navigation", name="Front desk").get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", name="Patients", exact=True)).to_be_visible()
    rows = page.locator(".patient-table tbody tr")
    expect(rows).to_have_count(5)
    screenshot(page, "01-directory")
    assert serious_violations(page) == []

    page.get_by_label("Find a patient").press_sequentially("555-0108", delay=30)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ana Silva")
    expect(rows.first).to_contain_text("(416) 555-0108")
    expect(page).to_have_url(re.compile(r"\?q=555-0108$"))  # the search can be bookmarked or reloaded
    screenshot(page, "02-search-by-phone")

    rows.first.get_by_role("link", name="Ana Silva").click()
    expect(page.get_by_role("heading", name="Ana Silva", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Upcoming appointments").get_by_role("listitem")).to_have_count(1)
    expect(page.get_by_role("region", name="Past appointments")).to_contain_text("Completed")
    screenshot(page, "03-patient")
    assert serious_violations(page) == []

    phone = page.get_by_label("Phone")
    expect(phone).to_have_value("(416) 555-0108")
    phone.fill("416.555.0142")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("alert")).to_contain_text("Saved Ana Silva's details.")
    expect(page.get_by_label("Phone")).to_have_value("(416) 555-0142")
    ana.refresh_from_db()
    assert ana.phone.as_e164 == "+14165550142"
    changes = page.get_by_role("list", name="Changes to this record")
    expect(changes).to_contain_text("Changed phone +14165550108 → +14165550142.")
    screenshot(page, "03-changes")

    open_page.expect_refusal(400, rf"/frontdesk/patients/{ana.pk}/$")
    phone = page.get_by_label("Phone")
    phone.fill("555-12")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Enter a phone number that can be dialled")).to_be_visible()
    screenshot(page, "04-bad-phone")
    ana.refresh_from_db()
    assert ana.phone.as_e164 == "+14165550142"
    page.goto(f"/frontdesk/patients/{ana.pk}/")

    merge = page.get_by_role("region", name="Merge a duplicate record into this one")
    merge.get_by_label("Find the other record").press_sequentially("647 555 0199", delay=30)
    candidates = merge.locator(".merge-candidates li")
    expect(candidates).to_have_count(1)
    expect(candidates.first).to_contain_text("ana.s@example.com")
    candidates.first.get_by_role("link", name=re.compile("would move")).click()

    expect(page.get_by_role("heading", name="What moves over")).to_be_visible()
    expect(page.get_by_text("This record has no date of birth")).to_be_visible()
    screenshot(page, "05-merge-preview")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Merge Ana Silva into this record").click()

    expect(page.get_by_role("alert")).to_contain_text("1 appointment moved over")
    expect(page.get_by_role("region", name="Upcoming appointments").get_by_role("listitem")).to_have_count(2)
    screenshot(page, "06-merged")
    assert not Patient.objects.filter(pk=twin.pk).exists()
    patients["moving"].refresh_from_db()
    assert patients["moving"].patient_id == ana.pk
    event = AppointmentEvent.objects.get(appointment=patients["moving"], kind=AppointmentEvent.Kind.PATIENT_MERGED)
    assert event.actor_user.username == "rosa"

    page.get_by_role("region", name="Upcoming appointments").get_by_role("link").last.click()
    expect(page.get_by_text("Patient record merged: Ana Silva → Ana Silva")).to_be_visible()
    page.get_by_role("link", name="Ana Silva", exact=True).first.click()
    expect(page).to_have_url(re.compile(rf"/frontdesk/patients/{ana.pk}/$"))


def test_receptionist_searches_and_opens_a_patient_on_a_phone(open_page, screenshot, patients):
    page = open_page(**PHONE)
    log_in(page, "rosa")
    page.get_by_role("button", name="Show menu").click()
    page.get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", name="Patients", exact=True)).to_be_visible()
    fits_the_screen(page)
    screenshot(page, "01-directory")

    page.get_by_label("Find a patient").press_sequentially("silva", delay=30)
    expect(page.locator(".patient-table tbody tr")).to_have_count(2)
    fits_the_screen(page)
    screenshot(page, "02-search")

    page.get_by_role("link", name="Ana Silva").first.click()
    expect(page.get_by_role("heading", name="Ana Silva", level=1)).to_be_visible()
    fits_the_screen(page)
    screenshot(page, "03-patient")

    page.get_by_role("link", name=re.compile("would move")).first.click()
    expect(page.get_by_role("heading", name="What moves over")).to_be_visible()
    fits_the_screen(page)
    screenshot(page, "04-merge-preview")


def test_patient_search_works_without_javascript(open_page, screenshot, patients):
    page = open_page(**NO_JAVASCRIPT)
    log_in(page, "rosa")
    page.goto("/frontdesk/patients/")

    page.get_by_label("Find a patient").fill("(416) 555-0108")
    page.get_by_role("button", name="Search").click()

    rows = page.locator(".patient-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ana Silva")
    screenshot(page, "01-results")
