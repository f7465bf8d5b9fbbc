"""The Content Security Policy in a real Chromium: every page of each role loads with the policy's header and
works under it, the admin and the calendars included.

The console watcher in tests/e2e/conftest.py fails a test on anything the policy refused ("Refused to ...",
or a `securitypolicyviolation` event); these tests walk each role through its pages, open the calendars'
side panels and dialogs, and check the header on every page they load.
"""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, Response, expect

from booking import services, waitlist, waitlist_services
from booking.actors import Actor, Via
from booking.models import Appointment, WaitlistEntry
from booking.services import PatientDetails
from clinic.models import ClinicSettings
from notifications import reminders
from notifications.models import OutboundMessage
from tests.conftest import staff_user
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_accessibility import FRONT_DESK_PAGES, PUBLIC_PAGES
from tests.e2e.test_booking_e2e import fill_details_review_and_confirm, heading

pytestmark = pytest.mark.e2e

# The parts of the policy that matter most; the settings hold the whole of it.
REQUIRED = ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]


def assert_policy(response: Response | None, path: str) -> None:
    assert response is not None, f"no response for {path}"
    policy = response.headers.get("content-security-policy", "")
    missing = [directive for directive in REQUIRED if directive not in policy]
    assert not missing, f"{path}: the Content-Security-Policy header lacks {missing} (header: {policy!r})"
    assert "unsafe-eval" not in policy
    script_src = re.search(r"script-src ([^;]*)", policy)
    assert script_src and "unsafe-inline" not in script_src.group(1), policy


def visit(page: Page, path: str) -> Response | None:
    response = page.goto(path)
    assert_policy(response, path)
    page.wait_for_load_state("load")
    return response


def log_in(page: Page, username: str, landing: str) -> None:
    visit(page, "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(landing))


def coming_weekday(days_ahead: int) -> date:
    day = timezone.localdate(timezone.now(), ClinicSettings.load().tz) + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.fixture
def booked(clinic_data) -> Appointment:
    """Ana Silva with Alex at 10:00 on a coming weekday, booked online: a confirmation waits in the outbox."""
    service, (alex, _) = clinic_data["service"], clinic_data["therapists"]
    return services.appointment_book(
        option=service.options.get(duration_minutes=60),
        therapist=alex,
        start=datetime.combine(coming_weekday(3), time(10), tzinfo=ClinicSettings.load().tz),
        patient=PatientDetails(name="Ana Silva", email="ana@example.com", phone="416-555-0110"),
        now=timezone.now(),
        actor=Actor.patient(Via.ONLINE_BOOKING),
    )


@pytest.fixture
def waiting(clinic_data) -> WaitlistEntry:
    """Ben Carter waiting for any 90-minute time, any day."""
    return waitlist_services.waitlist_join(
        option=clinic_data["service"].options.get(duration_minutes=90),
        therapist=None,
        patient=PatientDetails(name="Ben O'Carter", email="ben@example.com", phone="416-555-0111"),
        suits=waitlist.ANY_TIME,
        note="Mornings if possible",
        now=timezone.now(),
    ).entry


def test_public_pages_and_every_booking_step_work_under_the_policy(open_page, clinic_data, live_server, screenshot):
    page = open_page(**DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    for path in [*PUBLIC_PAGES, "/waitlist/join/?service=myofascial-release&duration=60"]:
        visit(page, path)

    # The whole booking, through the boosted (htmx) links and forms.
    visit(page, "/book/?service=myofascial-release&duration=60&therapist=alex-moreau")
    page.get_by_role("list", name=re.compile("^Free times")).get_by_role("link").first.click()
    fill_details_review_and_confirm(
        page, screenshot, name="Cleo Park", email="cleo@example.com", phone_number="416-555-0150"
    )
    page.get_by_role("button", name="Confirm booking").click()
    expect(heading(page, "You're booked!")).to_be_visible()
    # Arrived through a boosted form: the page's own script ran after the swap too.
    expect(page.locator("button[data-copy-target]")).to_be_visible()

    # The private link's pages; the copy button is the page's own script, now a static file.
    appointment = Appointment.objects.get(patient__email="cleo@example.com")
    visit(page, appointment.private_link_path())
    copy = page.locator("button[data-copy-target]")
    expect(copy).to_have_text("Copy link")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == page.get_by_label("Your private link").input_value()
    visit(page, appointment.private_link_path() + "reschedule/")
    days = page.get_by_role("navigation", name="Choose a day")
    days.get_by_role("link", name=re.compile(r", free times$")).first.click()
    expect(page.locator(".time-grid button").first).to_be_visible()
    visit(page, appointment.private_link_path() + "cancel/")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_role("alert")).to_contain_text("cancelled")
    visit(page, reverse_stop_link(appointment))
    screenshot(page, "public-done")


def reverse_stop_link(appointment: Appointment) -> str:
    return f"/reminders/stop/{reminders.stop_token(appointment.patient)}/"


def test_waitlist_pages_and_error_pages_work_under_the_policy(open_page, clinic_data, waiting, receptionist):
    offer = waitlist_services.offer_by_hand(
        entry=waiting,
        therapist=clinic_data["therapists"][0],
        start=datetime.combine(coming_weekday(4), time(9), tzinfo=ClinicSettings.load().tz),
        now=timezone.now(),
        actor=Actor.staff(receptionist, Via.FRONT_DESK),
    )
    page = open_page(**PHONE)
    visit(page, waiting.private_link_path())
    visit(page, offer.private_link_path())
    expect(page.get_by_role("button", name="Book this time")).to_be_visible()

    open_page.expect_refusal(404, r"/no-such-page/$")
    response = visit(page, "/no-such-page/")
    assert response is not None and response.status == 404
    open_page.expect_refusal(404, r"/appointments/not-a-real-token/$")
    visit(page, "/appointments/not-a-real-token/")


def test_front_desk_pages_calendar_and_panels_work_under_the_policy(open_page, booked, waiting, screenshot):
    staff_user("rosa", "Receptionist")
    message = OutboundMessage.objects.filter(appointment=booked).first()
    assert message is not None
    page = open_page(**DESKTOP)
    log_in(page, "rosa", r"/frontdesk/")
    for path in [
        *FRONT_DESK_PAGES,
        f"/frontdesk/appointments/{booked.pk}/",
        f"/frontdesk/patients/{booked.patient_id}/",
        f"/frontdesk/patients/{booked.patient_id}/merge/",
        "/frontdesk/waitlist/",
        f"/frontdesk/waitlist/{waiting.pk}/offer/",
        "/frontdesk/messages/",
        f"/frontdesk/messages/{message.pk}/",
    ]:
        visit(page, path)

    # The calendar: EventCalendar draws the day, an appointment opens its panel (htmx), then a booking dialog.
    visit(page, f"/frontdesk/?date={booked.start.astimezone(ClinicSettings.load().tz).date().isoformat()}")
    event = page.locator(".ec-event.appointment", has_text="Ana Silva")
    expect(event).to_be_visible()
    event.click()
    panel = page.locator("#panel")
    expect(panel).to_contain_text("Ana Silva")
    screenshot(page, "calendar-panel")
    panel.get_by_role("button", name="Close").click()
    page.get_by_role("link", name="New booking").first.click()
    expect(panel.get_by_label("Treatment and length")).to_be_visible()
    # Once the panel has finished sliding in (Bootstrap ignores Escape while it moves), Escape closes it.
    expect(page.locator("#panel.show:not(.showing)")).to_be_visible()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    page.get_by_role("button", name="Week").click()
    expect(page.locator(".ec-event.appointment", has_text="Ana Silva")).to_be_visible()

    # The waitlist's "Remove" asks first (a static script now, not an onsubmit attribute).
    visit(page, "/frontdesk/waitlist/")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Remove Ben O'Carter from the waitlist").click()
    expect(page.get_by_role("button", name="Remove Ben O'Carter from the waitlist")).to_be_visible()
    assert asked == ["Take Ben O'Carter off the waitlist?"]
    waiting.refresh_from_db()
    assert waiting.status == WaitlistEntry.Status.WAITING
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove Ben O'Carter from the waitlist").click()
    expect(page.get_by_role("alert")).to_contain_text("off the waitlist")


def test_a_therapists_schedule_pages_work_under_the_policy(open_page, booked):
    alex = booked.therapist
    alex.user = staff_user("alex", "Therapist")
    alex.save()
    for viewport in (DESKTOP, PHONE):
        page = open_page(**viewport)
        log_in(page, "alex", r"/schedule/")
        for path in [
            "/schedule/",
            f"/schedule/appointments/{booked.pk}/",
            "/schedule/time-off/",
            "/schedule/calendar-feed/",
        ]:
            visit(page, path)
        visit(page, f"/schedule/week/?date={booked.start.astimezone(ClinicSettings.load().tz).date().isoformat()}")
        expect(page.locator(".ec-event", has_text="Ana").first).to_be_visible()
        # Not theirs: the refusal page is under the policy too.
        open_page.expect_refusal(403, r"/frontdesk/$")
        visit(page, "/frontdesk/")


def test_a_managers_admin_pages_work_under_the_policy(open_page, booked, live_server, screenshot):
    manager = staff_user("morgan", "Manager")
    page = open_page(**DESKTOP)
    # A manager's login asks for an authenticator first: that page is under the policy too (its QR code included).
    log_in(page, "morgan", r"/accounts/two-factor/")
    assert_policy(page.reload(), page.url)
    # Then the rest as a manager who has passed the second step (tests/conftest.py's force_login does it).
    client = Client()
    client.force_login(manager)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    visit(page, "/frontdesk/")
    visit(page, "/schedule/?therapist=alex-moreau")
    visit(page, "/admin/")
    # Every page the admin's index links to (lists and add forms), then the first object of each list and its history.
    links = page.locator("#content-main a").evaluate_all("links => links.map((link) => link.getAttribute('href'))")
    lists = sorted({link for link in links if link and not link.endswith("/add/")})
    adds = sorted({link for link in links if link and link.endswith("/add/")})
    assert len(lists) >= 5, lists
    for path in adds:
        visit(page, path)
    for path in lists:
        visit(page, path)
        rows = page.locator("#result_list tbody tr th a, #result_list tbody tr td.field-__str__ a")
        if rows.count():
            change = rows.first.get_attribute("href")
            assert change is not None
            visit(page, change)
            visit(page, change.rstrip("/").removesuffix("/change") + "/history/")
    # The admin's own scripts: the date picker and the time-off form's shortcuts.
    time_off_add = next((path for path in adds if "timeoff" in path), None)
    if time_off_add:
        visit(page, time_off_add)
        page.get_by_role("link", name="Today").first.click()
        page.locator(".calendarbox, .datetimeshortcuts a").first.wait_for(state="attached")
    screenshot(page, "admin")
    visit(page, "/admin/password_change/")
