"""The message log in a real Chromium: a receptionist sees a message that failed, with its reason, and tries it
again; the worker then sends it. And what a patient's email looks like, drawn by Chromium at desktop and phone
widths from the HTML the outbox stored.

The live server runs on the real clock, so the appointment is placed on a coming weekday.
"""

import re
from datetime import date, datetime, time, timedelta
from smtplib import SMTPRecipientsRefused
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from booking import services
from booking.actors import Actor
from booking.services import PatientDetails
from clinic.models import ClinicSettings
from notifications import delivery
from notifications.models import OutboundMessage
from tests.conftest import staff_user
from tests.e2e.conftest import DESKTOP, PHONE, REPO_ROOT
from tests.e2e.test_accessibility import serious_violations

pytestmark = pytest.mark.e2e

EMAILS = REPO_ROOT / "test-output" / "emails"


def weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/frontdesk/"))


def fits_the_screen(page: Page) -> None:
    page.wait_for_load_state("load")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


@pytest.fixture
def booked(clinic_data):
    """Ana Silva booked by the front desk on a coming weekday at 10:00, her confirmation in the outbox."""
    service, (alex, _) = clinic_data["service"], clinic_data["therapists"]
    clinic = ClinicSettings.load()
    now = timezone.now()
    day = weekday_on_or_after(timezone.localdate(now, clinic.tz) + timedelta(days=3))
    appointment = services.appointment_book(
        option=service.options.get(duration_minutes=60),
        therapist=alex,
        start=datetime.combine(day, time(10), tzinfo=clinic.tz),
        patient=PatientDetails(name="Ana Silva", email="ana@example.com", phone="416-555-0199"),
        now=now,
        actor=Actor.system("tests"),
    )
    return appointment


def test_a_receptionist_sees_a_failed_message_with_its_reason_and_tries_it_again(
    open_page, screenshot, booked, mailoutbox
):
    staff_user("rosa", "Receptionist")
    [confirmation] = OutboundMessage.objects.all()
    refused = SMTPRecipientsRefused({"ana@example.com": (550, b"5.1.1 mailbox unavailable")})
    with mock.patch("notifications.channels.send", side_effect=refused):
        for attempt in range(delivery.MAX_ATTEMPTS):
            delivery.deliver(confirmation.pk, timezone.now() + timedelta(hours=attempt))
    confirmation.refresh_from_db()
    # A 550 is a refusal for good: failed at the first attempt, not tried again.
    assert (confirmation.status, confirmation.attempts) == (OutboundMessage.Status.FAILED, 1)

    page = open_page(**DESKTOP)
    log_in(page, "rosa")
    menu = page.get_by_role("navigation", name="Front desk")
    expect(menu.get_by_role("link", name=re.compile(r"Messages\s+1 failed"))).to_be_visible()
    menu.get_by_role("link", name=re.compile("Messages")).click()

    expect(page.get_by_role("heading", name="Messages", exact=True)).to_be_visible()
    row = page.locator(f"tr[data-message='{confirmation.pk}']")
    expect(row).to_contain_text("ana@example.com")
    expect(row).to_contain_text("Ana Silva")
    expect(row).to_contain_text("Booking confirmation")
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("1 attempt")
    expect(row).to_contain_text("5.1.1 mailbox unavailable")
    assert serious_violations(page) == []
    screenshot(page, "failed")

    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(page.get_by_role("status")).to_contain_text("1 message matches.")

    row.get_by_role("link", name="Booking confirmation").click()
    expect(page.get_by_role("alert")).to_contain_text("Reason: SMTPRecipientsRefused")
    expect(page.get_by_text("[private link]")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"Ana Silva, .* with Alex Moreau"))).to_be_visible()
    screenshot(page, "message-page")
    page.go_back()

    row.get_by_role("button", name="Try again").click()
    expect(page).to_have_url(re.compile(r"/frontdesk/messages/\?status=failed"))
    expect(page.get_by_role("alert").first).to_contain_text("will be sent again shortly")
    expect(page.locator(f"tr[data-message='{confirmation.pk}']")).to_have_count(0)  # no longer failed
    expect(page.get_by_role("status")).to_have_text("No message matches these filters.")
    expect(menu.get_by_role("link", name="Messages", exact=True)).to_be_visible()
    screenshot(page, "tried-again")

    delivery.deliver_due(timezone.now())  # the worker's turn
    [email] = mailoutbox
    assert email.to == ["ana@example.com"]

    page.goto(f"/frontdesk/appointments/{booked.pk}/")
    messages = page.get_by_role("region", name="Messages")
    expect(messages).to_contain_text("Booking confirmation to ana@example.com")
    expect(messages).to_contain_text("Sent")
    screenshot(page, "appointment-messages")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_confirmation_email_looks_right(open_page, screenshot, booked, viewport):
    """The stored HTML part, opened as a file: what a mail program shows, images and styles sheets aside."""
    [confirmation] = OutboundMessage.objects.all()
    EMAILS.mkdir(parents=True, exist_ok=True)
    path = EMAILS / "confirmation.html"
    path.write_text(confirmation.body_html, encoding="utf-8")

    page = open_page(**viewport)
    page.goto(path.as_uri())

    expect(page.get_by_role("heading", name="You're booked in")).to_be_visible()
    expect(page.get_by_text("Mo Therapy", exact=True).first).to_be_visible()
    expect(page.get_by_role("link", name="See, move or cancel")).to_have_attribute(
        "href", re.compile(rf"/appointments/{booked.manage_token}/$")
    )
    expect(page.get_by_role("link", name="416-555-0134")).to_have_attribute("href", "tel:4165550134")
    expect(page.get_by_text(re.compile("Cancel or move online up to 24 hours before"))).to_be_visible()
    expect(page.get_by_text("10:00 AM to 11:00 AM")).to_be_visible()
    fits_the_screen(page)
    button = page.get_by_role("link", name="See, move or cancel").bounding_box()
    assert button is not None and button["height"] >= 40  # big enough for a thumb
    screenshot(page, "email")
