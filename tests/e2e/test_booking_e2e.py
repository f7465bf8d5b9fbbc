"""A patient books online in a real Chromium: on a desktop, on a phone (then cancels), without JavaScript.

The live server runs on the real clock; the clinic's therapists work weekdays 9–12 and 13–17 Toronto time,
with 2 hours' notice, so the first two weeks always hold free times.
"""

import re
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from booking.models import Appointment
from clinic.models import ClinicSettings
from tests.e2e.conftest import DESKTOP, NO_JAVASCRIPT, PHONE

pytestmark = pytest.mark.e2e

SERVICE = "Myofascial release"
MANAGE_PATH = re.compile(r"/appointments/[\w-]{22,}/$")


def clinic_today() -> date:
    return timezone.localdate(timezone.now(), ClinicSettings.load().tz)


def day_with_free_times(day: date) -> re.Pattern:
    """How the day strip names a day that has free times: its visible text first, e.g. "Wed 9 Dec, free times"."""
    return re.compile(rf"^{day:%a}\s*{day.day}\s*{day:%b}\s*, free times$")


def fits_the_screen(page: Page) -> None:
    """Nothing sticks out sideways: a phone user never has to scroll the page horizontally."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


def heading(page: Page, name: str):
    return page.get_by_role("heading", name=name, exact=True)


def choose_service_length_therapist(page: Page, screenshot, *, length: int, therapist: str, phone: bool = False):
    """From the first step of /book/ to the day and time step."""
    expect(heading(page, "Which treatment would you like?")).to_be_visible()
    expect(page.get_by_role("list", name="Booking steps").locator("[aria-current=step]")).to_contain_text("Treatment")
    screenshot(page, "02-service")
    page.get_by_role("link", name=re.compile(rf"^{SERVICE}")).click()

    expect(heading(page, "How long a session?")).to_be_visible()
    screenshot(page, "03-length")
    page.get_by_role("link", name=re.compile(rf"^{length} minutes")).click()

    expect(heading(page, "Who would you like to see?")).to_be_visible()
    screenshot(page, "04-therapist")
    page.get_by_role("link", name=re.compile(rf"^{therapist}")).click()

    expect(heading(page, "Pick a day and time")).to_be_visible()
    summary = page.get_by_role("region", name="Your booking so far")
    expect(summary).to_contain_text(SERVICE)
    expect(summary).to_contain_text(f"{length} minutes")
    expect(summary).to_contain_text(therapist)
    if phone:
        fits_the_screen(page)


def first_time_of_selected_day(page: Page) -> tuple[Locator, str, datetime]:
    """The link to the first free time of the day shown, its label ("9:00 AM") and the time it books."""
    times = page.get_by_role("list", name=re.compile(r"^Free times on "))
    first = times.get_by_role("link").first
    expect(first).to_be_visible()
    label = first.inner_text().strip()
    start = parse_qs(urlsplit(first.get_attribute("href")).query)["start"][0]
    return first, label, datetime.fromisoformat(start)


def fill_details_review_and_confirm(page: Page, screenshot, *, name: str, email: str, phone_number: str) -> None:
    expect(heading(page, "Your details")).to_be_visible()
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Phone").fill(phone_number)
    page.get_by_label("Anything your therapist should know?").fill("Pain down the left leg when sitting.")
    screenshot(page, "07-details")
    page.get_by_role("button", name="Review booking").click()

    expect(heading(page, "Check and confirm")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(name)
    expect(page.get_by_role("main")).to_contain_text(email)
    expect(page.get_by_role("main")).to_contain_text("paid at the clinic")
    screenshot(page, "08-review")


def expect_booked_page(page: Page, live_server_url: str) -> str:
    """The confirmation page: "You're booked", the private link and the calendar file. Returns the link."""
    expect(heading(page, "You're booked!")).to_be_visible()
    expect(page).to_have_url(re.compile(MANAGE_PATH.pattern.removesuffix("$") + r"\?booked=1$"))
    private_link = page.get_by_label("Your private link")
    expect(private_link).to_have_value(re.compile("^" + re.escape(live_server_url) + MANAGE_PATH.pattern))
    manage_url = private_link.input_value()

    ics_link = page.get_by_role("link", name="Add to my calendar (.ics)")
    expect(ics_link).to_be_visible()
    ics = page.request.get(ics_link.get_attribute("href"))
    assert ics.ok
    assert ics.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VCALENDAR" in ics.text()
    return manage_url


def token_of(manage_url: str) -> str:
    return urlsplit(manage_url).path.rstrip("/").rsplit("/", 1)[-1]


def test_patient_books_on_a_desktop(open_page, screenshot, live_server, therapist):
    page = open_page(**DESKTOP)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "01-home")
    page.get_by_role("main").get_by_role("link", name="Book a session", exact=True).click()

    choose_service_length_therapist(page, screenshot, length=60, therapist="Alex Moreau")
    selected_day = page.get_by_role("navigation", name="Choose a day").locator("[aria-current=date]")
    expect(selected_day).to_have_accessible_name(re.compile(r", free times$"))
    screenshot(page, "05-time")
    time_link, time_label, start = first_time_of_selected_day(page)
    time_link.click()

    expect(page.get_by_role("region", name="Your booking so far")).to_contain_text(f"at {time_label}")
    fill_details_review_and_confirm(
        page, screenshot, name="Dana Whitfield", email="dana@example.com", phone_number="416-555-0111"
    )
    page.get_by_role("button", name="Confirm booking").click()

    manage_url = expect_booked_page(page, live_server.url)
    expect(page.get_by_role("main")).to_contain_text(f"at {time_label}")
    expect(page.get_by_role("main")).to_contain_text("with Alex Moreau")
    screenshot(page, "09-booked")

    appointment = Appointment.objects.select_related("patient").get()
    assert appointment.manage_token == token_of(manage_url)
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.therapist == therapist
    assert appointment.duration_minutes == 60
    assert appointment.start == start
    assert appointment.channel == Appointment.Channel.ONLINE
    assert (appointment.patient.name, appointment.patient.email) == ("Dana Whitfield", "dana@example.com")
    assert appointment.patient_note == "Pain down the left leg when sitting."


def test_patient_books_on_a_phone_then_cancels_from_the_private_link(open_page, screenshot, live_server):
    page = open_page(**PHONE)
    page.goto("/")
    fits_the_screen(page)
    screenshot(page, "01-home")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Book now", exact=True).tap()

    choose_service_length_therapist(page, screenshot, length=90, therapist="No preference", phone=True)
    # Far enough ahead to stay outside the 24-hour cancellation window: the first weekday 3 or more days out.
    day = clinic_today() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    day_link = page.get_by_role("navigation", name="Choose a day").get_by_role("link", name=day_with_free_times(day))
    day_link.tap()
    expect(day_link).to_have_attribute("aria-current", "date")
    expect(heading(page, f"{day:%A, %B} {day.day}")).to_be_visible()
    fits_the_screen(page)
    screenshot(page, "05-time")
    time_link, time_label, start = first_time_of_selected_day(page)
    time_link.tap()
    expect(page.get_by_role("region", name="Your booking so far")).to_contain_text(f"at {time_label}")

    fits_the_screen(page)
    fill_details_review_and_confirm(
        page, screenshot, name="Priya Raman", email="priya@example.com", phone_number="647 555 0122"
    )
    fits_the_screen(page)
    page.get_by_role("button", name="Confirm booking").tap()

    manage_url = expect_booked_page(page, live_server.url)
    fits_the_screen(page)
    screenshot(page, "09-booked")
    appointment = Appointment.objects.get()
    assert appointment.start == start
    assert appointment.duration_minutes == 90
    assert timezone.localtime(appointment.start, ClinicSettings.load().tz).date() == day

    # Later, from the link in the confirmation email.
    page.goto(manage_url)
    expect(heading(page, "Your appointment")).to_be_visible()
    expect(page.get_by_text("Confirmed", exact=True)).to_be_visible()
    fits_the_screen(page)
    screenshot(page, "10-manage")
    page.get_by_role("link", name="Cancel appointment").tap()
    expect(heading(page, "Cancel this appointment?")).to_be_visible()
    page.get_by_label("Reason (optional)").fill("Feeling much better, thank you.")
    screenshot(page, "10b-confirm-cancel")
    page.get_by_role("button", name="Yes, cancel it").tap()

    expect(page.get_by_role("alert")).to_contain_text("Your appointment is cancelled")
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Book another time")).to_be_visible()
    expect(page.get_by_role("link", name="Cancel appointment")).to_have_count(0)
    fits_the_screen(page)
    screenshot(page, "11-cancelled")

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancelled_by_role == Appointment.CancelledBy.PATIENT
    assert appointment.cancelled_at is not None
    assert appointment.cancellation_reason == "Feeling much better, thank you."


def test_booking_works_without_javascript(open_page, screenshot, live_server, second_therapist):
    """No htmx, no Bootstrap script: plain links and forms all the way."""
    page = open_page(**NO_JAVASCRIPT)
    page.goto("/")
    screenshot(page, "01-home")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Book now", exact=True).click()

    choose_service_length_therapist(page, screenshot, length=30, therapist="Sam Okafor")
    screenshot(page, "05-time")
    time_link, time_label, start = first_time_of_selected_day(page)
    time_link.click()

    expect(page.get_by_role("region", name="Your booking so far")).to_contain_text(f"at {time_label}")
    fill_details_review_and_confirm(
        page, screenshot, name="Noah Tremblay", email="noah@example.com", phone_number="+1 416 555 0133"
    )
    page.get_by_role("button", name="Confirm booking").click()

    manage_url = expect_booked_page(page, live_server.url)
    screenshot(page, "09-booked")
    appointment = Appointment.objects.get()
    assert appointment.manage_token == token_of(manage_url)
    assert appointment.therapist == second_therapist
    assert (appointment.duration_minutes, appointment.start) == (30, start)


def reach_the_review_step(page: Page, screenshot, *, email: str) -> None:
    page.goto("/book/?service=myofascial-release&duration=60&therapist=any")
    expect(heading(page, "Pick a day and time")).to_be_visible()
    time_link, _, _ = first_time_of_selected_day(page)
    time_link.click()
    fill_details_review_and_confirm(page, screenshot, name="Eli Hassan", email=email, phone_number="416-555-0144")


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_double_click_on_confirm_books_once(open_page, screenshot, live_server, javascript):
    page = open_page(**(DESKTOP if javascript else NO_JAVASCRIPT))
    reach_the_review_step(page, screenshot, email="eli@example.com")

    page.get_by_role("button", name="Confirm booking").dblclick()

    expect_booked_page(page, live_server.url)
    screenshot(page, "09-booked")
    assert Appointment.objects.count() == 1


# Chromium itself sends one request for a double click (a second submission replaces the first before it
# leaves), so this sends the confirmed form three times at once, as a flaky network or a retrying proxy might.
SUBMIT_THREE_TIMES_AT_ONCE = """async () => {
    const button = [...document.querySelectorAll("button")].find((b) => b.textContent.trim() === "Confirm booking");
    const url = button.form.getAttribute("action");
    const send = () => fetch(url, {method: "POST", body: new FormData(button.form, button)});
    const responses = await Promise.all([send(), send(), send()]);
    return responses.map((response) => [response.status, response.url]);
}"""


def test_confirm_sent_three_times_at_once_books_once(open_page, screenshot, live_server):
    page = open_page(**DESKTOP)
    reach_the_review_step(page, screenshot, email="eli@example.com")

    results = page.evaluate(SUBMIT_THREE_TIMES_AT_ONCE)

    statuses = {status for status, _ in results}
    urls = {url for _, url in results}
    assert statuses == {200}, results
    assert len(urls) == 1, results
    assert Appointment.objects.count() == 1
    page.goto(urls.pop())
    expect_booked_page(page, live_server.url)
