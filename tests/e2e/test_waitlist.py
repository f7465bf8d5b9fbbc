"""The waitlist in a real Chromium on a phone: a patient finds no morning free with Alex on the day they want, joins
the waitlist from the booking flow, another patient cancels that morning from their private link, the first gets
the offer by email and books it from the link.

The live server runs on the real clock; Alex and Sam work weekdays 9–12 and 13–17 Toronto time.
"""

import re
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from booking import services, waitlist, waitlist_services
from booking.actors import Actor, Via
from booking.models import Appointment, WaitlistEntry, WaitlistOffer
from booking.services import PatientDetails
from clinic.models import ClinicSettings
from tests.conftest import staff_user
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_accessibility import serious_violations
from tests.e2e.test_booking_e2e import clinic_today, day_with_free_times, fits_the_screen, heading
from tests.e2e.test_frontdesk_time import log_in

pytestmark = pytest.mark.e2e

OFFER_LINK = re.compile(r"https?://\S+(/waitlist/offers/[\w-]{22,}/)")


def target_day() -> date:
    """A weekday at least three days out: outside the 24-hour cancellation window, inside the first two weeks."""
    day = clinic_today() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def book_the_morning(therapist, option, day: date) -> Appointment:
    """Someone else holds Alex's only 60-minute morning that day: 10:00 leaves no hour free before or after."""
    tz = ClinicSettings.load().tz
    return services.appointment_book(
        option=option,
        therapist=therapist,
        start=datetime.combine(day, time(10), tzinfo=tz),
        patient=PatientDetails(name="Morgan Blake", email="morgan@example.com", phone="416-555-0177"),
        now=timezone.now(),
        actor=Actor.patient(Via.ONLINE_BOOKING),
    )


def show_email(page: Page, html: str) -> None:
    """Draw an HTML email in the browser as a mail program would, to look at it."""
    page.set_content(html)


def test_a_patient_joins_the_waitlist_on_a_phone_and_books_a_cancelled_time_from_the_offer(
    open_page, screenshot, live_server, therapist, service, deliver_outbox, mailoutbox
):
    day = target_day()
    option = service.options.get(duration_minutes=60)
    taken = book_the_morning(therapist, option, day)

    # Jamie looks for a 60-minute session with Alex that morning: only afternoon times are free.
    page = open_page(**PHONE)
    page.goto(f"/book/?service=myofascial-release&duration=60&therapist=alex-moreau&date={day.isoformat()}")
    expect(heading(page, "Pick a day and time")).to_be_visible()
    day_link = page.get_by_role("navigation", name="Choose a day").get_by_role("link", name=day_with_free_times(day))
    expect(day_link).to_have_attribute("aria-current", "date")
    expect(heading(page, f"{day:%A, %B} {day.day}")).to_be_visible()
    times = page.get_by_role("list", name=re.compile(r"^Free times on "))
    expect(times.get_by_role("link").first).to_have_text("1:00 PM")
    nudge = page.locator("#waitlist-nudge")
    expect(nudge).to_contain_text("None of these times work?")
    nudge.scroll_into_view_if_needed()
    fits_the_screen(page)
    screenshot(page, "01-time-step")
    nudge.get_by_role("link", name="Join the waitlist").tap()

    # The form carries the choices made, and asks when suits.
    expect(heading(page, "Join the waitlist")).to_be_visible()
    expect(page.get_by_label("Treatment and length")).to_have_value(str(option.pk))
    expect(page.get_by_label("Therapist")).to_have_value("alex-moreau")
    fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot(page, "02-join-form")
    weekday = day.weekday()
    page.locator(f'label[for="suits-{weekday}-0"]').tap()
    expect(page.locator(f"#suits-{weekday}-0")).to_be_checked()
    page.get_by_label("Full name").fill("Jamie Fox")
    page.get_by_label("Email").fill("jamie@example.com")
    page.get_by_label("Phone").fill("416-555-0123")
    page.get_by_label("Anything we should know?").fill("Mornings are easiest with work.")
    fits_the_screen(page)
    screenshot(page, "03-join-filled")
    page.get_by_role("button", name="Join the waitlist").tap()

    expect(heading(page, "You're on the waitlist")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"{day:%a}: mornings")
    expect(page.get_by_role("main")).to_contain_text("with Alex Moreau")
    fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot(page, "04-joined")
    entry = WaitlistEntry.objects.get()
    assert (entry.patient.name, entry.therapist, entry.duration_minutes) == ("Jamie Fox", therapist, 60)

    # Morgan cancels that morning from the private link in their confirmation.
    other = open_page(**PHONE)
    other.goto(taken.private_link_path())
    other.get_by_role("link", name="Cancel appointment").tap()
    other.get_by_role("button", name="Yes, cancel it").tap()
    expect(other.get_by_role("alert")).to_contain_text("Your appointment is cancelled")
    screenshot(other, "05-other-patient-cancelled")

    # The worker sends the outbox: Jamie's offer arrives.
    sent = deliver_outbox()
    [offer_email] = [message for message in sent if message.subject.startswith("A time opened up")]
    assert offer_email.to == ["jamie@example.com"]
    assert "Alex Moreau" in offer_email.body
    assert f"{day:%A} {day.day} {day:%B} {day.year}, 9:00 AM to 10:00 AM" in offer_email.body
    [(html, _)] = offer_email.alternatives
    mail = open_page(**PHONE)
    show_email(mail, html)
    screenshot(mail, "06-offer-email")
    link = OFFER_LINK.search(offer_email.body).group(1)

    # Jamie opens the link and books it.
    page.goto(link)
    expect(heading(page, "A time opened up for you")).to_be_visible()
    expect(page.locator("#offer-time")).to_have_text(f"{day:%A, %B} {day.day}, {day.year} at 9:00 AM")
    expect(page.get_by_role("main")).to_contain_text("Held for you until")
    fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot(page, "07-offer")
    page.get_by_role("button", name="Book this time").tap()

    expect(heading(page, "You're booked!")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("9:00 AM")
    expect(page.get_by_role("main")).to_contain_text("with Alex Moreau")
    fits_the_screen(page)
    screenshot(page, "08-booked")

    booked = Appointment.objects.get(patient__email="jamie@example.com")
    assert booked.therapist == therapist
    assert timezone.localtime(booked.start, ClinicSettings.load().tz) == datetime.combine(
        day, time(9), tzinfo=ClinicSettings.load().tz
    )
    assert WaitlistOffer.objects.get().status == WaitlistOffer.Status.CLAIMED
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.BOOKED

    # The same link later says it is booked, and leads to the appointment.
    page.goto(link)
    expect(heading(page, "You booked this time")).to_be_visible()
    screenshot(page, "09-offer-used")
    assert urlsplit(page.get_by_role("link", name="See my appointment").get_attribute("href")).path == (
        booked.private_link_path()
    )


def test_a_second_patient_tapping_a_time_already_booked_is_told_it_was_just_taken(
    open_page, screenshot, live_server, therapist, service
):
    """Two patients holding an offer of one time (one made by hand at the front desk): the slower one is told."""
    day = target_day()
    option = service.options.get(duration_minutes=60)
    tz = ClinicSettings.load().tz
    start = datetime.combine(day, time(14), tzinfo=tz)
    offers = []
    for name in ("Ana Silva", "Ben Carter"):
        entry = services_join(option, name)
        offers.append(
            WaitlistOffer.objects.create(
                entry=entry,
                therapist=therapist,
                start=start,
                end=start + timedelta(hours=1),
                blocked_until=start + timedelta(hours=1, minutes=15),
                sent_at=timezone.now(),
                expires_at=timezone.now() + timedelta(hours=2),
            )
        )
    services.appointment_book(
        option=option,
        therapist=therapist,
        start=start,
        patient=offers[0].entry.patient,
        now=timezone.now(),
        actor=Actor.patient(Via.WAITLIST),
    )

    page = open_page(**PHONE)
    open_page.expect_refusal(409, r"/waitlist/offers/")
    page.goto(offers[1].private_link_path())
    page.get_by_role("button", name="Book this time").tap()

    expect(heading(page, "That time was just taken")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("You're still on the waitlist")
    expect(page.get_by_role("link", name="See other free times")).to_be_visible()
    expect(page.get_by_role("link", name="Stay on the waitlist")).to_be_visible()
    fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot(page, "01-just-taken")


def services_join(option, name: str) -> WaitlistEntry:
    return waitlist_services.waitlist_join(
        option=option,
        therapist=None,
        patient=PatientDetails(name=name, email=f"{name.split()[0].lower()}@example.com", phone="416-555-0100"),
        suits=waitlist.ANY_TIME,
        note="",
        now=timezone.now(),
    ).entry


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_front_desk_sees_the_waitlist_offers_a_time_by_hand_and_removes_an_entry(
    open_page, screenshot, live_server, therapist, service, device
):
    staff_user("rosa", "Receptionist")
    option = service.options.get(duration_minutes=60)
    ana = services_join(option, "Ana Silva")
    ben = waitlist_services.waitlist_join(
        option=service.options.get(duration_minutes=90),
        therapist=therapist,
        patient=PatientDetails(name="Ben Carter", email="ben@example.com", phone="416-555-0101"),
        suits=waitlist.mask_of([(day, waitlist.Part.MORNING) for day in range(5)]),
        note="Left hip, mornings only",
        now=timezone.now(),
    ).entry

    page = open_page(**(DESKTOP if device == "desktop" else PHONE))
    log_in(page, "rosa")
    page.goto("/frontdesk/waitlist/")
    if device == "phone":
        page.get_by_role("button", name="Show menu").tap()
        expect(page.get_by_role("link", name="Waitlist")).to_have_attribute("aria-current", "page")
        page.get_by_role("button", name="Show menu").tap()
    else:
        expect(page.get_by_role("link", name="Waitlist")).to_have_attribute("aria-current", "page")
    waiting = page.get_by_role("list", name="Patients waiting, in order of joining")
    expect(waiting.get_by_role("listitem").first).to_contain_text("Ana Silva")
    expect(waiting).to_contain_text("Mon–Fri: mornings")
    expect(waiting).to_contain_text("Left hip, mornings only")
    fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot(page, "01-list")

    page.get_by_role("link", name="Offer a time to Ben Carter").click()
    expect(heading(page, "Offer a time to Ben Carter")).to_be_visible()
    first_row = page.locator(".hand-offer-row").first
    expect(first_row.get_by_role("button").first).to_have_text(re.compile(r"^09:00 "))
    fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot(page, "02-times")
    first_row.get_by_role("button").first.click()

    expect(page.get_by_role("alert")).to_contain_text("we've emailed them the link")
    expect(page.locator(f"#entry-{ben.pk}")).to_contain_text("Awaiting answer")
    screenshot(page, "03-offered")
    offer = WaitlistOffer.objects.get()
    assert (offer.entry, offer.therapist, offer.offered_by.username) == (ben, therapist, "rosa")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove Ana Silva from the waitlist").click()
    expect(page.get_by_role("alert")).to_contain_text("Took Ana Silva off the waitlist")
    expect(page.get_by_role("heading", name="Recently off the waitlist")).to_be_visible()
    fits_the_screen(page)
    screenshot(page, "04-removed")
    ana.refresh_from_db()
    assert ana.status == WaitlistEntry.Status.REMOVED
