"""The waitlist's writes: joining, freed time offered in order of joining through the outbox, offers that lapse,
claims that book through the usual service, and the changes of hours and time off that free time.

The clock is Monday 7 Dec 2026, 08:00 in Toronto; notice 2 hours, offers held 2 hours. Alex and Sam work
weekdays 9–12 and 13–17. On Wednesday Alex is booked 9:00–10:00, 10:15–11:15 (the one that gets cancelled) and
11:30–12:00, so its cancellation frees exactly one 60-minute session: 10:15 (10:15–11:15, buffer to 11:30).
"""

import contextlib
import threading
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction

from booking import services, waitlist, waitlist_services
from booking.actors import Actor, Via
from booking.errors import BookingError, SlotTaken
from booking.models import (
    Appointment,
    AppointmentEvent,
    Patient,
    Service,
    ServiceOption,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.services import PatientDetails
from booking.tasks import expire_waitlist_offers
from booking.waitlist import ANY_TIME, Part
from booking.waitlist_services import WaitlistError
from notifications.models import OutboundMessage
from tests.booking.test_concurrency import race
from tests.conftest import NOW
from tests.factories import (
    AppointmentFactory,
    PatientFactory,
    ServiceFactory,
    ServiceOptionFactory,
    TimeOffFactory,
)
from therapists import services as therapist_services
from therapists.models import TimeOff

TORONTO = ZoneInfo("America/Toronto")
WEDNESDAY = date(2026, 12, 9)
THURSDAY = date(2026, 12, 10)
SATURDAY = date(2026, 12, 12)
SYSTEM = Actor.system("tests")
Status = WaitlistOffer.Status
OFFER = OutboundMessage.Kind.WAITLIST_OFFER


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def slug(name: str) -> str:
    return name.lower().replace(" ", ".")


def join(name: str, minutes: int = 60, *, service=None, therapist=None, suits=ANY_TIME, joined=None) -> WaitlistEntry:
    """`name` joins the waitlist (at `joined`, by default an hour before the clock) by the public service."""
    option = ServiceOption.objects.select_related("service").get(
        service=service or Service.objects.get(slug="myofascial-release"),
        duration_minutes=minutes,
    )
    return waitlist_services.waitlist_join(
        option=option,
        therapist=therapist,
        patient=PatientDetails(name=name, email=f"{slug(name)}@example.com", phone="416-555-0100"),
        suits=suits,
        note="",
        now=joined or NOW - timedelta(hours=1),
    ).entry


def minutes_before(minutes: int) -> datetime:
    return NOW - timedelta(minutes=minutes)


def offers_to(entry: WaitlistEntry) -> list[WaitlistOffer]:
    return list(WaitlistOffer.objects.filter(entry=entry).order_by("sent_at", "pk"))


def offer_emails() -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(kind=OFFER, subject__startswith="A time opened up").order_by("pk"))


@pytest.fixture
def wednesday(service, therapist, second_therapist):
    """Alex's Wednesday morning, full: the appointment at 10:15 is the one the tests free."""
    AppointmentFactory(therapist=therapist, service=service, start=at(WEDNESDAY, 9))
    AppointmentFactory(therapist=therapist, service=service, start=at(WEDNESDAY, 11, 30), duration_minutes=30)
    return AppointmentFactory(
        therapist=therapist, service=service, start=at(WEDNESDAY, 10, 15), patient=PatientFactory(name="Cancels")
    )


def cancel(appointment: Appointment, now: datetime = NOW) -> Appointment:
    return services.appointment_cancel(appointment=appointment, now=now, actor=Actor.patient())


# --- joining ---------------------------------------------------------------------------------------------------


def test_joining_finds_the_patient_record_as_the_booking_flow_does_and_emails_the_link(option, therapist, now):
    known = PatientFactory(name="Ana Silva", email="ana.silva@example.com")

    entry = join("Ana Silva", therapist=therapist, suits=waitlist.mask_of([(2, Part.MORNING)]))

    assert entry.patient == known
    assert Patient.objects.count() == 1
    assert (entry.service, entry.duration_minutes, entry.therapist, entry.status) == (
        option.service,
        60,
        therapist,
        WaitlistEntry.Status.WAITING,
    )
    [message] = OutboundMessage.objects.filter(recipient="ana.silva@example.com")
    assert message.subject.startswith("You're on the waitlist")
    assert f"/waitlist/{entry.token}/" in message.body_text
    assert "Wed: mornings" in message.body_text
    assert "Alex Moreau" in message.body_text
    assert len(entry.token) >= 32  # 192 random bits


def test_a_new_name_and_email_makes_a_new_patient_record(option, now):
    entry = join("Ben Carter")
    assert entry.patient.email == "ben.carter@example.com"
    assert entry.patient.phone.as_e164 == "+14165550100"


def test_joining_again_for_the_same_thing_keeps_one_place_and_sends_the_link_again(option, now):
    first = join("Ana Silva")

    again = waitlist_services.waitlist_join(
        option=option,
        therapist=None,
        patient=PatientDetails(name="Ana Silva", email="ana.silva@example.com", phone="416-555-0100"),
        suits=waitlist.mask_of([(0, Part.EVENING)]),
        note="changed my mind",
        now=now,
    )

    assert (again.entry, again.created) == (first, False)
    first.refresh_from_db()
    assert first.suits == ANY_TIME  # a public form changes nothing of an existing place
    assert WaitlistEntry.objects.count() == 1
    assert OutboundMessage.objects.filter(recipient="ana.silva@example.com").count() == 2


def test_a_form_sent_twice_joins_once(option, now):
    details = PatientDetails(name="Ana Silva", email="ana@example.com", phone="416-555-0100")
    kwargs = {"option": option, "therapist": None, "patient": details, "suits": ANY_TIME, "note": "", "now": now}

    first = waitlist_services.waitlist_join(**kwargs, request_key="key-1")
    second = waitlist_services.waitlist_join(**kwargs, request_key="key-1")

    assert second.entry == first.entry
    assert WaitlistEntry.objects.count() == 1
    assert OutboundMessage.objects.count() == 1


def test_joining_for_a_therapist_who_does_not_give_the_service_is_refused(option, now):
    other = ServiceFactory(name="Hot stones", slug="hot-stones")
    ServiceOptionFactory(service=other, duration_minutes=60)
    from tests.conftest import weekday_therapist

    stones_only = weekday_therapist(other, "stone-person", "Stone Person")

    with pytest.raises(BookingError) as refused:
        join("Ana Silva", therapist=stones_only)

    assert refused.value.code == "therapist_unavailable"
    assert not WaitlistEntry.objects.exists()


def test_joining_with_bad_details_is_refused_and_writes_nothing(option, now):
    with pytest.raises(BookingError) as refused:
        waitlist_services.waitlist_join(
            option=option,
            therapist=None,
            patient=PatientDetails(name="Ana", email="not an email", phone="12"),
            suits=ANY_TIME,
            note="",
            now=now,
        )
    assert refused.value.code == "invalid"
    assert not Patient.objects.exists()
    assert not OutboundMessage.objects.exists()


@pytest.mark.parametrize("suits", [0, waitlist.ANY_TIME + 1])
def test_a_mask_outside_the_week_is_refused(option, now, suits):
    details = PatientDetails(name="Ana Silva", email="ana@example.com", phone="416-555-0100")
    with pytest.raises(BookingError):
        waitlist_services.waitlist_join(option=option, therapist=None, patient=details, suits=suits, note="", now=now)


# --- a cancellation offers its time ----------------------------------------------------------------------------


def test_a_cancellation_offers_the_time_to_the_first_patient_waiting_through_the_outbox(wednesday, therapist, now):
    ana = join("Ana Silva", joined=minutes_before(180))
    ben = join("Ben Carter", joined=minutes_before(120))

    cancel(wednesday)

    [offer] = WaitlistOffer.objects.all()
    assert (offer.entry, offer.therapist, offer.start, offer.status) == (ana, therapist, at(WEDNESDAY, 10, 15), "open")
    assert (offer.end, offer.blocked_until) == (at(WEDNESDAY, 11, 15), at(WEDNESDAY, 11, 30))
    assert (offer.sent_at, offer.expires_at) == (now, now + timedelta(hours=2))
    assert offer.offered_by is None
    assert len(offer.token) >= 32
    ana.refresh_from_db()
    ben.refresh_from_db()
    assert (ana.status, ben.status) == ("offered", "waiting")

    [email] = offer_emails()
    assert email.recipient == "ana.silva@example.com"
    assert email.patient == ana.patient
    body = email.body_text
    assert "Wednesday 9 December 2026, 10:15 AM to 11:15 AM" in body
    assert "Alex Moreau" in body
    assert "held for you until 10:00 AM on Monday 7 December (America/Toronto time)" in body
    assert f"/waitlist/offers/{offer.token}/" in body
    assert f"/waitlist/{ana.token}/" in body
    assert f"/waitlist/offers/{offer.token}/" in email.body_html


def test_a_rolled_back_cancellation_offers_nothing(wednesday, monkeypatch):
    ana = join("Ana Silva")
    queued = waitlist_services._queue_offer

    def queue_then_fail(*args, **kwargs):
        queued(*args, **kwargs)
        raise RuntimeError("the cancellation fails after its offer was written")

    monkeypatch.setattr(waitlist_services, "_queue_offer", queue_then_fail)

    with pytest.raises(RuntimeError):
        cancel(wednesday)

    wednesday.refresh_from_db()
    ana.refresh_from_db()
    assert wednesday.status == Appointment.Status.BOOKED
    assert not WaitlistOffer.objects.exists()
    assert ana.status == WaitlistEntry.Status.WAITING
    assert not offer_emails()


def test_the_offer_is_written_by_the_cancellations_own_transaction(wednesday, monkeypatch):
    join("Ana Silva")
    seen = []
    offer = waitlist_services.offer_freed_time

    def watch(**kwargs):
        seen.append(connection.in_atomic_block)
        return offer(**kwargs)

    monkeypatch.setattr(waitlist_services, "offer_freed_time", watch)
    cancel(wednesday)
    assert seen == [True]
    assert WaitlistOffer.objects.count() == 1


def test_offering_outside_a_transaction_is_refused(transactional_db, therapist, now):
    with pytest.raises(RuntimeError):
        waitlist_services.offer_freed_time(therapist=therapist, start=at(WEDNESDAY, 10), end=at(WEDNESDAY, 11), now=now)


def test_patients_are_matched_by_service_length_therapist_weekday_and_time_of_day(
    wednesday, service, therapist, second_therapist, now
):
    other = ServiceFactory(name="Hot stones", slug="hot-stones")
    ServiceOptionFactory(service=other, duration_minutes=30)
    join("Too long", 90, joined=minutes_before(70))
    join("Wants Sam", therapist=second_therapist, joined=minutes_before(60))
    join("Mondays only", suits=waitlist.mask_of([(0, Part.MORNING)]), joined=minutes_before(50))
    join("Afternoons only", suits=waitlist.mask_of([(2, Part.AFTERNOON)]), joined=minutes_before(40))
    join("Hot stones", 30, service=other, joined=minutes_before(30))
    fits = join("Fits", 30, therapist=therapist, suits=waitlist.mask_of([(2, Part.MORNING)]), joined=minutes_before(20))
    join("Also fits but later", joined=minutes_before(10))

    cancel(wednesday)

    # 10:15–10:45 (buffer to 11:00) leaves no room for another 60 minutes before 11:30.
    [offer] = WaitlistOffer.objects.all()
    assert (offer.entry, offer.start, offer.end) == (fits, at(WEDNESDAY, 10, 15), at(WEDNESDAY, 10, 45))
    assert [email.recipient for email in offer_emails()] == ["fits@example.com"]


def test_patients_are_offered_times_in_the_order_they_joined_not_the_order_they_were_written(wednesday):
    later = join("Joined later", joined=minutes_before(10))
    earlier = join("Joined earlier", joined=minutes_before(200))

    cancel(wednesday)

    assert [offer.entry for offer in WaitlistOffer.objects.all()] == [earlier]
    assert later.pk < earlier.pk


def test_a_freed_stretch_is_shared_out_without_overlaps(service, therapist, now):
    # Thursday morning, all three hours freed at once: 9:00, then 10:15 (after the first one's buffer).
    ana = join("Ana Silva", joined=minutes_before(30))
    ben = join("Ben Carter", joined=minutes_before(20))
    cy = join("Cy Dee", 90, joined=minutes_before(10))
    with transaction.atomic():
        waitlist_services.offer_freed_time(therapist=therapist, start=at(THURSDAY, 9), end=at(THURSDAY, 12), now=now)

    starts = {offer.entry: offer.start for offer in WaitlistOffer.objects.all()}
    assert starts == {ana: at(THURSDAY, 9), ben: at(THURSDAY, 10, 15)}
    assert cy not in starts  # 11:30 leaves 30 minutes before lunch


def test_nobody_waiting_costs_one_query(therapist, now, django_assert_num_queries):
    with transaction.atomic(), django_assert_num_queries(1):
        assert (
            waitlist_services.offer_freed_time(
                therapist=therapist, start=at(THURSDAY, 9), end=at(THURSDAY, 12), now=now
            )
            == []
        )


def test_offering_reads_a_fixed_number_of_queries_whatever_the_number_waiting(
    service, therapist, now, django_assert_max_num_queries
):
    for number in range(12):
        join(f"Patient {number}", suits=waitlist.mask_of([(0, Part.EVENING)]), joined=minutes_before(100 - number))
    ana = join("Ana Silva", joined=minutes_before(1))
    # Whether anyone waits, the therapist's lock, the entries' locks, the clinic, the lengths, the hours, the busy
    # times, the offers around: 8 (and the lock timeout set before each of the two locks, on PostgreSQL). Then
    # each offer: the offer, its entry's status, the email (one spare for the outbox's own reads).
    locks = 2 if connection.vendor == "postgresql" else 0
    with transaction.atomic(), django_assert_max_num_queries(8 + locks + 4):
        offers = waitlist_services.offer_freed_time(
            therapist=therapist, start=at(THURSDAY, 9), end=at(THURSDAY, 10, 15), now=now
        )
    assert [offer.entry for offer in offers] == [ana]


def test_a_time_starting_too_soon_to_answer_is_not_offered(service, therapist, now):
    join("Ana Silva")
    # Monday 10:00 is exactly the notice away: nothing left to answer in.
    with transaction.atomic():
        offered = waitlist_services.offer_freed_time(
            therapist=therapist, start=at(date(2026, 12, 7), 10), end=at(date(2026, 12, 7), 12), now=now
        )
    assert [offer.start for offer in offered] == [at(date(2026, 12, 7), 10, 15)]
    assert offered[0].expires_at == at(date(2026, 12, 7), 8, 15)


def test_one_patient_who_joined_twice_holds_one_offer_at_a_time(service, therapist, now):
    join("Ana Silva", joined=minutes_before(30))
    join("Ana Silva", 30, joined=minutes_before(20))
    with transaction.atomic():
        waitlist_services.offer_freed_time(therapist=therapist, start=at(THURSDAY, 9), end=at(THURSDAY, 12), now=now)
    assert WaitlistOffer.objects.count() == 1


def test_an_inactive_therapists_freed_time_is_not_offered(wednesday, therapist):
    join("Ana Silva")
    therapist.active = False
    therapist.save()
    cancel(wednesday)
    assert not WaitlistOffer.objects.exists()


# --- other changes that free time -----------------------------------------------------------------------------


def test_a_move_offers_the_old_time(wednesday, therapist, now):
    ana = join("Ana Silva")

    services.appointment_move(appointment=wednesday, start=at(THURSDAY, 14), now=now, actor=Actor.patient())

    [offer] = WaitlistOffer.objects.all()
    assert (offer.entry, offer.therapist, offer.start) == (ana, therapist, at(WEDNESDAY, 10, 15))


def test_a_move_to_a_colleague_offers_the_time_left_behind(wednesday, therapist, second_therapist, now, receptionist):
    ana = join("Ana Silva", therapist=therapist)

    services.appointment_move(
        appointment=wednesday,
        start=at(WEDNESDAY, 10, 15),
        therapist=second_therapist,
        now=now,
        actor=Actor.staff(receptionist),
    )

    [offer] = WaitlistOffer.objects.all()
    assert (offer.entry, offer.therapist, offer.start) == (ana, therapist, at(WEDNESDAY, 10, 15))


def test_time_off_taken_away_offers_the_time(service, therapist, now, receptionist):
    time_off = TimeOffFactory(therapist=therapist, start=at(THURSDAY, 9), end=at(THURSDAY, 12))
    ana = join("Ana Silva", suits=waitlist.mask_of([(3, Part.MORNING)]))

    therapist_services.time_off_remove(time_off=time_off, now=now, actor=Actor.staff(receptionist))

    [offer] = WaitlistOffer.objects.all()
    assert (offer.entry, offer.start) == (ana, at(THURSDAY, 9))


def test_time_off_ended_early_offers_the_rest(service, therapist, receptionist):
    time_off = TimeOffFactory(therapist=therapist, start=at(THURSDAY, 9), end=at(THURSDAY, 17))
    ana = join("Ana Silva", suits=waitlist.mask_of([(3, Part.AFTERNOON)]))
    later = at(THURSDAY, 10)

    therapist_services.time_off_remove(time_off=time_off, now=later, actor=Actor.staff(receptionist))

    [offer] = WaitlistOffer.objects.all()
    # Two hours' notice from 10:00, and the lunch hour: 13:00 is the first afternoon start.
    assert (offer.entry, offer.start, offer.sent_at) == (ana, at(THURSDAY, 13), later)


def test_approved_time_off_withdrawn_offers_the_time(service, therapist, now):
    time_off = TimeOffFactory(therapist=therapist, start=at(THURSDAY, 9), end=at(THURSDAY, 12))
    ana = join("Ana Silva")

    therapist_services.time_off_withdraw(time_off=time_off, now=now, actor=SYSTEM)

    assert [(offer.entry, offer.start) for offer in WaitlistOffer.objects.all()] == [(ana, at(THURSDAY, 9))]


def test_a_request_withdrawn_or_declined_frees_nothing(service, therapist, now):
    join("Ana Silva")
    waiting = {
        "therapist": therapist,
        "start": at(THURSDAY, 9),
        "end": at(THURSDAY, 12),
        "status": TimeOff.Status.REQUESTED,
    }

    therapist_services.time_off_withdraw(time_off=TimeOffFactory(**waiting), now=now, actor=SYSTEM)
    therapist_services.time_off_decline(time_off=TimeOffFactory(**waiting), reason="Busy week", now=now, actor=SYSTEM)

    assert not WaitlistOffer.objects.exists()


# --- offers that lapse ---------------------------------------------------------------------------------------


def test_an_offer_nobody_claims_moves_to_the_next_patient_when_it_lapses(wednesday, therapist, now):
    ana = join("Ana Silva", joined=minutes_before(180))
    ben = join("Ben Carter", joined=minutes_before(120))
    cancel(wednesday)
    [first] = WaitlistOffer.objects.all()

    with time_machine.travel(now + timedelta(minutes=119), tick=False):
        assert expire_waitlist_offers.call_local() == 0
    lapsed = now + timedelta(hours=2, minutes=1)
    with time_machine.travel(lapsed, tick=False):
        assert expire_waitlist_offers.call_local() == 1

    first.refresh_from_db()
    assert (first.status, first.closed_at) == (Status.EXPIRED, lapsed)
    [second] = offers_to(ben)
    assert (second.start, second.therapist, second.status) == (at(WEDNESDAY, 10, 15), therapist, Status.OPEN)
    assert (second.sent_at, second.expires_at) == (lapsed, lapsed + timedelta(hours=2))
    ana.refresh_from_db()
    ben.refresh_from_db()
    assert (ana.status, ben.status) == ("waiting", "offered")
    assert [email.recipient for email in offer_emails()] == ["ana.silva@example.com", "ben.carter@example.com"]

    # When Ben lets it go too, it is not offered to Ana a second time.
    with time_machine.travel(lapsed + timedelta(hours=2, minutes=1), tick=False):
        assert expire_waitlist_offers.call_local() == 1
    assert WaitlistOffer.objects.filter(status=Status.OPEN).count() == 0
    assert len(offers_to(ana)) == 1


def test_a_lapsed_offer_whose_time_was_booked_meanwhile_goes_to_nobody(wednesday, therapist, option, now):
    join("Ana Silva", joined=minutes_before(180))
    ben = join("Ben Carter", joined=minutes_before(120))
    cancel(wednesday)
    services.appointment_book(
        option=option,
        therapist=therapist,
        start=at(WEDNESDAY, 10, 15),
        patient=PatientDetails(name="Walk In", email="walk@example.com", phone="416-555-0100"),
        now=now,
        actor=Actor.patient(Via.ONLINE_BOOKING),
    )

    with time_machine.travel(now + timedelta(hours=3), tick=False):
        assert expire_waitlist_offers.call_local() == 1

    assert offers_to(ben) == []


def test_expiry_runs_twice_without_harm(wednesday, now):
    join("Ana Silva", joined=minutes_before(180))
    join("Ben Carter", joined=minutes_before(120))
    cancel(wednesday)
    later = now + timedelta(hours=2, minutes=5)

    assert waitlist_services.offers_expire(now=later) == 1
    assert waitlist_services.offers_expire(now=later) == 0
    assert WaitlistOffer.objects.filter(status=Status.OPEN).count() == 1


# --- claiming an offer ---------------------------------------------------------------------------------------------


@pytest.fixture
def ana_offer(wednesday) -> WaitlistOffer:
    join("Ana Silva", joined=minutes_before(180))
    cancel(wednesday)
    return WaitlistOffer.objects.get()


def test_a_claim_books_the_time_through_the_booking_service(ana_offer, therapist, now):
    claimed_at = now + timedelta(minutes=10)

    appointment = waitlist_services.offer_claim(offer=ana_offer, now=claimed_at)

    assert (appointment.patient, appointment.therapist, appointment.start) == (
        ana_offer.entry.patient,
        therapist,
        at(WEDNESDAY, 10, 15),
    )
    assert (appointment.duration_minutes, appointment.price, appointment.channel) == (60, Decimal("125.00"), "online")
    [event] = AppointmentEvent.objects.filter(appointment=appointment)
    assert (event.kind, event.actor_role, event.via) == ("booked", "patient", Via.WAITLIST)
    assert OutboundMessage.objects.filter(appointment=appointment, kind=OutboundMessage.Kind.CONFIRMATION).exists()
    ana_offer.refresh_from_db()
    assert (ana_offer.status, ana_offer.appointment, ana_offer.closed_at) == (Status.CLAIMED, appointment, claimed_at)
    entry = WaitlistEntry.objects.get(pk=ana_offer.entry_id)
    assert (entry.status, entry.ended_at) == ("booked", claimed_at)


def test_pressing_book_again_returns_the_same_appointment(ana_offer, now):
    first = waitlist_services.offer_claim(offer=ana_offer, now=now)
    again = waitlist_services.offer_claim(offer=WaitlistOffer.objects.get(pk=ana_offer.pk), now=now)
    assert again == first
    assert Appointment.objects.filter(start=at(WEDNESDAY, 10, 15), status="booked").count() == 1


def test_a_claim_rechecks_the_time_and_says_it_was_just_taken(ana_offer, therapist, option, now):
    services.appointment_book(
        option=option,
        therapist=therapist,
        start=at(WEDNESDAY, 10, 15),
        patient=PatientDetails(name="Quicker", email="quick@example.com", phone="416-555-0100"),
        now=now,
        actor=Actor.patient(Via.ONLINE_BOOKING),
    )

    with pytest.raises(SlotTaken) as refused:
        waitlist_services.offer_claim(offer=ana_offer, now=now)

    assert refused.value.code == "slot_taken"
    ana_offer.refresh_from_db()
    assert ana_offer.status == Status.TAKEN
    assert WaitlistEntry.objects.get(pk=ana_offer.entry_id).status == "waiting"
    assert not Appointment.objects.filter(patient=ana_offer.entry.patient).exists()


def test_a_time_taken_from_under_a_patient_is_offered_to_them_again_when_it_frees_up(ana_offer, therapist, option, now):
    quicker = services.appointment_book(
        option=option,
        therapist=therapist,
        start=at(WEDNESDAY, 10, 15),
        patient=PatientDetails(name="Quicker", email="quick@example.com", phone="416-555-0100"),
        now=now,
        actor=Actor.patient(Via.ONLINE_BOOKING),
    )
    with pytest.raises(SlotTaken):
        waitlist_services.offer_claim(offer=ana_offer, now=now)

    cancel(quicker, now + timedelta(minutes=30))

    again = WaitlistOffer.objects.filter(status=Status.OPEN).get()
    assert (again.entry_id, again.start) == (ana_offer.entry_id, at(WEDNESDAY, 10, 15))


def test_a_claim_with_patient_rules_is_refused_once_the_time_is_too_close(ana_offer):
    # The offer is still open (its holder never expired it) but the session is now within the notice.
    too_close = at(WEDNESDAY, 9)
    WaitlistOffer.objects.filter(pk=ana_offer.pk).update(expires_at=too_close + timedelta(minutes=30))
    ana_offer.refresh_from_db()

    with pytest.raises(BookingError) as refused:
        waitlist_services.offer_claim(offer=ana_offer, now=too_close)

    assert refused.value.code == "not_available"
    ana_offer.refresh_from_db()
    assert ana_offer.status == Status.WITHDRAWN


def test_a_claim_after_the_offer_lapsed_is_refused(ana_offer, now):
    with pytest.raises(WaitlistError) as refused:
        waitlist_services.offer_claim(offer=ana_offer, now=now + timedelta(hours=2))

    assert refused.value.code == "expired"
    assert not Appointment.objects.filter(patient=ana_offer.entry.patient).exists()


@pytest.mark.parametrize("status", [Status.EXPIRED, Status.TAKEN, Status.WITHDRAWN])
def test_a_closed_offer_cannot_be_claimed(ana_offer, now, status):
    WaitlistOffer.objects.filter(pk=ana_offer.pk).update(status=status)
    ana_offer.refresh_from_db()
    with pytest.raises(WaitlistError) as refused:
        waitlist_services.offer_claim(offer=ana_offer, now=now)
    assert refused.value.code == status


def two_offers_of_one_time(therapist) -> tuple[WaitlistOffer, WaitlistOffer]:
    """Ana's offer as the waitlist made it, and Ben's of the same time, as if the front desk had offered it too."""
    ana_offer = WaitlistOffer.objects.get()
    ben = join("Ben Carter", joined=minutes_before(60))
    ben_offer = WaitlistOffer.objects.create(
        entry=ben,
        therapist=therapist,
        start=ana_offer.start,
        end=ana_offer.end,
        blocked_until=ana_offer.blocked_until,
        sent_at=NOW,
        expires_at=NOW + timedelta(hours=2),
    )
    WaitlistEntry.objects.filter(pk=ben.pk).update(status="offered")
    return ana_offer, ben_offer


def test_two_claims_on_one_time_give_one_booking_and_one_slot_taken(ana_offer, therapist, now):
    first, second = two_offers_of_one_time(therapist)

    booked = waitlist_services.offer_claim(offer=first, now=now)
    with pytest.raises(SlotTaken):
        waitlist_services.offer_claim(offer=second, now=now)

    assert Appointment.objects.filter(start=at(WEDNESDAY, 10, 15), status="booked").get() == booked
    second.refresh_from_db()
    assert second.status == Status.TAKEN
    assert WaitlistEntry.objects.get(pk=second.entry_id).status == "waiting"


# --- leaving, removing, merging ----------------------------------------------------------------------------------


def test_leaving_withdraws_the_offer_and_passes_the_time_on(ana_offer, now):
    ben = join("Ben Carter", joined=minutes_before(60))
    later = now + timedelta(minutes=5)

    entry = waitlist_services.waitlist_leave(entry=ana_offer.entry, now=later)

    assert (entry.status, entry.ended_at) == ("left", later)
    ana_offer.refresh_from_db()
    assert ana_offer.status == Status.WITHDRAWN
    [passed_on] = offers_to(ben)
    assert (passed_on.start, passed_on.sent_at) == (ana_offer.start, later)


def test_leaving_twice_is_harmless(option, now):
    entry = join("Ana Silva")
    waitlist_services.waitlist_leave(entry=entry, now=now)
    again = waitlist_services.waitlist_leave(entry=entry, now=now + timedelta(hours=1))
    assert (again.status, again.ended_at) == ("left", now)


def test_the_front_desk_removes_an_entry(ana_offer, now, receptionist):
    entry = waitlist_services.waitlist_remove(entry=ana_offer.entry, now=now, actor=Actor.staff(receptionist))

    assert (entry.status, entry.removed_by) == ("removed", receptionist)
    ana_offer.refresh_from_db()
    assert ana_offer.status == Status.WITHDRAWN


def test_a_patient_cannot_remove_entries_as_staff(option, now):
    entry = join("Ana Silva")
    with pytest.raises(BookingError) as refused:
        waitlist_services.waitlist_remove(entry=entry, now=now, actor=Actor.patient())
    assert refused.value.code == "not_allowed"


def test_merging_patient_records_keeps_their_waitlist_entries(option, receptionist, now):
    entry = join("Ana Silva")
    keep = PatientFactory(name="Ana Silva", email="ana@example.com")

    services.patient_merge(keep=keep, duplicate=entry.patient, now=now, actor=Actor.staff(receptionist))

    entry.refresh_from_db()
    assert entry.patient == keep


# --- the front desk offers a time by hand ------------------------------------------------------------------------


def test_the_front_desk_offers_a_free_time_by_hand(service, therapist, now, receptionist):
    entry = join("Ana Silva", suits=waitlist.mask_of([(0, Part.EVENING)]))

    offer = waitlist_services.offer_by_hand(
        entry=entry, therapist=therapist, start=at(THURSDAY, 14), now=now, actor=Actor.staff(receptionist)
    )

    assert (offer.entry, offer.start, offer.offered_by, offer.status) == (entry, at(THURSDAY, 14), receptionist, "open")
    assert [email.recipient for email in offer_emails()] == ["ana.silva@example.com"]


@pytest.mark.parametrize(
    ("start", "code"),
    [
        (at(THURSDAY, 12, 15), "not_free"),  # lunch
        (at(THURSDAY, 14, 5), "not_free"),  # off the grid
        (at(SATURDAY, 10), "not_free"),  # not working
    ],
)
def test_a_time_offered_by_hand_must_be_free(service, therapist, now, receptionist, start, code):
    entry = join("Ana Silva")
    with pytest.raises(BookingError) as refused:
        waitlist_services.offer_by_hand(entry=entry, therapist=therapist, start=start, now=now, actor=SYSTEM)
    assert refused.value.code == code


def test_a_time_offered_to_someone_else_or_a_patient_holding_an_offer_is_refused(ana_offer, therapist, now):
    ben = join("Ben Carter")
    with pytest.raises(WaitlistError) as held:
        waitlist_services.offer_by_hand(entry=ben, therapist=therapist, start=ana_offer.start, now=now, actor=SYSTEM)
    assert held.value.code == "held"

    with pytest.raises(WaitlistError) as holding:
        waitlist_services.offer_by_hand(
            entry=ana_offer.entry, therapist=therapist, start=at(THURSDAY, 14), now=now, actor=SYSTEM
        )
    assert holding.value.code == "holding_offer"


def test_only_the_front_desk_offers_by_hand(option, therapist, now):
    entry = join("Ana Silva")
    with pytest.raises(BookingError) as refused:
        waitlist_services.offer_by_hand(
            entry=entry, therapist=therapist, start=at(THURSDAY, 14), now=now, actor=Actor.patient()
        )
    assert refused.value.code == "not_allowed"


# --- new hours in the admin ------------------------------------------------------------------------------------------


def test_new_working_hours_saved_in_the_admin_offer_the_new_time(admin_client, service, therapist, now):
    ana = join("Ana Silva", suits=waitlist.mask_of([(5, Part.MORNING)]))

    with time_machine.travel(now, tick=False):
        response = admin_client.post(
            "/admin/therapists/workinghours/add/",
            {"therapist": therapist.pk, "weekday": 5, "start": "09:00", "end": "12:00"},
        )

    assert response.status_code == 302
    [offer] = WaitlistOffer.objects.all()
    assert (offer.entry, offer.start) == (ana, at(SATURDAY, 9))


def test_time_off_deleted_in_the_admin_offers_the_time(admin_client, service, therapist, now):
    time_off = TimeOffFactory(therapist=therapist, start=at(THURSDAY, 9), end=at(THURSDAY, 12))
    ana = join("Ana Silva")

    with time_machine.travel(now, tick=False):
        response = admin_client.post(f"/admin/therapists/timeoff/{time_off.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert [(offer.entry, offer.start) for offer in WaitlistOffer.objects.all()] == [(ana, at(THURSDAY, 9))]


def test_hours_made_shorter_in_the_admin_offer_nothing(admin_client, service, therapist, now):
    join("Ana Silva")
    hours = therapist.working_hours.get(weekday=3, start=time(9))
    with time_machine.travel(now, tick=False):
        admin_client.post(
            f"/admin/therapists/workinghours/{hours.pk}/change/",
            {"therapist": therapist.pk, "weekday": 3, "start": "10:00", "end": "12:00"},
        )
    hours.refresh_from_db()
    assert hours.start == time(10)
    assert not WaitlistOffer.objects.exists()


def test_a_therapist_made_active_again_in_the_admin_offers_their_time(admin_client, service, therapist, now):
    therapist.active = False
    therapist.save()
    ana = join("Ana Silva", suits=waitlist.mask_of([(1, Part.MORNING)]))
    data = {
        "name": therapist.name,
        "slug": therapist.slug,
        "title": therapist.title,
        "registration_number": therapist.registration_number,
        "bio": "",
        "services": [service.pk],
        "active": "on",
        "order": 0,
        "user": "",
    }
    hours = list(therapist.working_hours.all())
    data.update(
        {
            "working_hours-TOTAL_FORMS": len(hours),
            "working_hours-INITIAL_FORMS": len(hours),
            "working_hours-MIN_NUM_FORMS": 0,
            "working_hours-MAX_NUM_FORMS": 1000,
            "time_off-TOTAL_FORMS": 0,
            "time_off-INITIAL_FORMS": 0,
            "time_off-MIN_NUM_FORMS": 0,
            "time_off-MAX_NUM_FORMS": 1000,
        }
    )
    for number, row in enumerate(hours):
        data.update(
            {
                f"working_hours-{number}-id": row.pk,
                f"working_hours-{number}-therapist": therapist.pk,
                f"working_hours-{number}-weekday": row.weekday,
                f"working_hours-{number}-start": row.start.strftime("%H:%M"),
                f"working_hours-{number}-end": row.end.strftime("%H:%M"),
            }
        )
    with time_machine.travel(now, tick=False):
        response = admin_client.post(f"/admin/therapists/therapist/{therapist.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    therapist.refresh_from_db()
    assert therapist.active
    [offer] = WaitlistOffer.objects.all()
    assert (offer.entry, offer.start) == (ana, at(date(2026, 12, 8), 9))


# --- races on PostgreSQL: real threads, real commits ---------------------------------------------------------------


def test_two_patients_racing_for_one_time_get_one_booking_and_one_slot_taken(
    postgres_only, transactional_db, wednesday, therapist, now
):
    join("Ana Silva", joined=minutes_before(180))
    cancel(wednesday)
    offers = two_offers_of_one_time(therapist)

    results = race(2, lambda index: waitlist_services.offer_claim(offer=offers[index], now=now))

    booked = [result for result in results if isinstance(result, Appointment)]
    refused = [result for result in results if isinstance(result, BookingError)]
    assert len(booked) == 1, results
    assert [error.code for error in refused] == ["slot_taken"]
    assert Appointment.objects.filter(start=at(WEDNESDAY, 10, 15), status="booked").count() == 1
    statuses = sorted(WaitlistOffer.objects.values_list("status", flat=True))
    assert statuses == [Status.CLAIMED, Status.TAKEN]


def test_one_offer_claimed_from_two_tabs_at_once_books_once(postgres_only, transactional_db, wednesday, now):
    join("Ana Silva", joined=minutes_before(180))
    cancel(wednesday)
    offer = WaitlistOffer.objects.get()

    def claim(index: int) -> Appointment:
        return waitlist_services.offer_claim(offer=WaitlistOffer.objects.get(pk=offer.pk), now=now)

    results = race(4, claim)

    assert all(isinstance(result, Appointment) for result in results), results
    assert len({result.pk for result in results}) == 1
    assert Appointment.objects.filter(start=at(WEDNESDAY, 10, 15), status="booked").count() == 1
    offer.refresh_from_db()
    assert offer.status == Status.CLAIMED


def test_a_claim_racing_a_public_booking_of_the_same_time_gives_one_booking(
    postgres_only, transactional_db, wednesday, therapist, option, now
):
    join("Ana Silva", joined=minutes_before(180))
    cancel(wednesday)
    offer = WaitlistOffer.objects.get()

    def attempt(index: int):
        if index == 0:
            return waitlist_services.offer_claim(offer=offer, now=now)
        return services.appointment_book(
            option=option,
            therapist=therapist,
            start=at(WEDNESDAY, 10, 15),
            patient=PatientDetails(name="Walk In", email="walk@example.com", phone="416-555-0100"),
            now=now,
            actor=Actor.patient(Via.ONLINE_BOOKING),
        )

    results = race(2, attempt)

    assert sum(isinstance(result, Appointment) for result in results) == 1, results
    assert [result.code for result in results if isinstance(result, BookingError)] == ["slot_taken"]
    assert Appointment.objects.filter(start=at(WEDNESDAY, 10, 15), status="booked").count() == 1


def test_two_moves_across_therapists_at_once_do_not_deadlock_over_the_freed_time(
    postgres_only, transactional_db, service, therapist, second_therapist, now, receptionist, monkeypatch
):
    """Each move offers the time it leaves, which needs the row of the therapist it leaves: that row is locked with
    the others, in key order, before the availability check, so two crossing moves wait instead of deadlocking."""
    join("Ana Silva")
    to_sam = AppointmentFactory(therapist=therapist, service=service, start=at(WEDNESDAY, 10))
    to_alex = AppointmentFactory(therapist=second_therapist, service=service, start=at(THURSDAY, 10))
    # Both hold the locks they took first before either goes on: the worst interleaving, when it can happen.
    checked = threading.Barrier(2)
    check = services._free_therapist_at

    def check_then_wait(**kwargs):
        chosen = check(**kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            checked.wait(timeout=2)
        return chosen

    monkeypatch.setattr(services, "_free_therapist_at", check_then_wait)
    moves = [(to_sam, second_therapist, at(WEDNESDAY, 14)), (to_alex, therapist, at(THURSDAY, 14))]

    def move(index: int) -> Appointment:
        appointment, colleague, start = moves[index]
        return services.appointment_move(
            appointment=appointment, start=start, therapist=colleague, now=now, actor=Actor.staff(receptionist)
        )

    results = race(2, move)

    assert all(isinstance(result, Appointment) for result in results), results
    # Ana holds one time at a time: the first time left behind that suits her.
    [offer] = WaitlistOffer.objects.all()
    assert (offer.therapist, offer.start.astimezone(TORONTO).date()) in {
        (therapist, WEDNESDAY),
        (second_therapist, THURSDAY),
    }
