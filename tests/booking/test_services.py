"""The only door for writes: booking, cancelling, moving and status changes, asserted by error code."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from booking import selectors, services
from booking.actors import Actor, Via
from booking.errors import BookingError, SlotTaken
from booking.lifecycle import Action
from booking.models import Appointment, Patient, ServiceOption
from booking.selectors import SlotSearch
from booking.services import PatientDetails
from tests.conftest import weekday_therapist
from tests.factories import (
    PatientFactory,
    ServiceFactory,
    TherapistFactory,
    TimeOffFactory,
    UserFactory,
    WorkingHoursFactory,
)

TORONTO = ZoneInfo("America/Toronto")
MONDAY = date(2026, 12, 7)  # NOW is Monday 08:00; notice 2 hours, horizon 60 days, cancellation window 24 hours
TUESDAY = date(2026, 12, 8)
WEDNESDAY = date(2026, 12, 9)
SATURDAY = date(2026, 12, 12)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def details(email: str = "ana@example.com", name: str = "Ana Silva") -> PatientDetails:
    return PatientDetails(name=name, email=email, phone="416-555-0199")


PATIENT = Actor.patient()
ONLINE = Actor.patient(Via.ONLINE_BOOKING)
SYSTEM = Actor.system("tests")


def as_actor(by_patient: bool) -> Actor:
    return PATIENT if by_patient else SYSTEM


def book(option, therapist, start, now, **kwargs) -> Appointment:
    """Book as a patient online, or as the staff member given as `actor`."""
    kwargs.setdefault("patient", details())
    actor = kwargs.pop("actor", None)
    kwargs["actor"] = ONLINE if actor is None else actor if isinstance(actor, Actor) else Actor.staff(actor)
    return services.appointment_book(option=option, therapist=therapist, start=start, now=now, **kwargs)


def offered_starts(option, therapists, day, clinic, now) -> set[datetime]:
    search = SlotSearch(option=option, therapists=therapists, first_day=day, days=1)
    return {slot.start for slot in selectors.free_slots(search, clinic, now)}


@pytest.fixture
def staff(db):
    """A receptionist's login."""
    user = UserFactory(username="reception")
    user.groups.add(Group.objects.get(name="Receptionist"))
    return user


# --- appointment_book ---------------------------------------------------------------------------


def test_book_creates_the_patient_and_the_appointment(option, therapist, clinic, now):
    appointment = book(option, therapist, at(TUESDAY, 10), now, note="  Left leg, worse when sitting.  ")

    appointment.refresh_from_db()
    assert appointment.therapist == therapist
    assert appointment.service == option.service
    assert appointment.duration_minutes == 60
    assert appointment.price == Decimal("125.00")
    assert appointment.start == at(TUESDAY, 10)
    assert appointment.end == at(TUESDAY, 11)
    assert appointment.blocked_until == at(TUESDAY, 11, 15)
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.channel == Appointment.Channel.ONLINE
    assert appointment.booked_by is None
    assert appointment.patient_note == "Left leg, worse when sitting."
    assert len(appointment.manage_token) >= 22  # at least 128 random bits
    patient = appointment.patient
    assert (patient.name, patient.email, patient.phone) == ("Ana Silva", "ana@example.com", "416-555-0199")


def test_book_reuses_the_patient_with_the_same_email_and_name_whatever_their_case(option, therapist, now):
    existing = PatientFactory(name="Ana Silva", email="ana@example.com", phone="416-555-0000")

    appointment = book(
        option, therapist, at(TUESDAY, 10), now, patient=details(name=" ana  SILVA ", email="  ANA@Example.COM ")
    )

    assert appointment.patient == existing
    assert Patient.objects.count() == 1
    existing.refresh_from_db()
    assert (existing.name, existing.phone) == ("Ana Silva", "416-555-0000")  # never overwritten from a public form


def test_book_for_another_person_sharing_an_email_makes_their_own_record(option, therapist, now):
    parent = PatientFactory(name="Ana Silva", email="family@example.com")

    appointment = book(
        option, therapist, at(TUESDAY, 10), now, patient=details(name="Leo Silva", email="family@example.com")
    )

    assert appointment.patient != parent
    assert appointment.patient.name == "Leo Silva"
    assert Patient.objects.filter(email="family@example.com").count() == 2


def test_book_accepts_a_patient_record(option, therapist, now, staff):
    patient = PatientFactory()

    appointment = book(
        option, therapist, at(TUESDAY, 10), now, patient=patient, actor=staff, channel=Appointment.Channel.PHONE
    )

    assert appointment.patient == patient
    assert appointment.booked_by == staff
    assert appointment.channel == Appointment.Channel.PHONE


def test_book_refuses_invalid_patient_details_and_writes_nothing(option, therapist, now):
    with pytest.raises(BookingError) as excinfo:
        book(option, therapist, at(TUESDAY, 10), now, patient=details(email="not-an-email"))

    assert excinfo.value.code == "invalid"
    assert not Patient.objects.exists()
    assert not Appointment.objects.exists()


def test_book_refuses_naive_datetimes(option, therapist, now):
    with pytest.raises(ValueError, match="aware"):
        book(option, therapist, datetime(2026, 12, 8, 10), now)


@pytest.fixture
def ordered_therapists(service):
    """Adam is created first (lower pk, earlier name), but Zoe comes first in display order."""
    adam = weekday_therapist(service, "adam", "Adam", order=1)
    zoe = weekday_therapist(service, "zoe", "Zoe", order=0)
    return zoe, adam


def test_book_without_therapist_picks_the_first_free_therapist_in_display_order(option, ordered_therapists, now):
    zoe, adam = ordered_therapists

    first = book(option, None, at(TUESDAY, 10), now, patient=details("one@example.com"))
    second = book(option, None, at(TUESDAY, 10), now, patient=details("two@example.com"))

    assert first.therapist == zoe
    assert second.therapist == adam
    with pytest.raises(SlotTaken) as excinfo:
        book(option, None, at(TUESDAY, 10), now, patient=details("three@example.com"))
    assert excinfo.value.code == "slot_taken"


def test_book_without_therapist_skips_one_on_time_off(option, ordered_therapists, now):
    zoe, adam = ordered_therapists
    TimeOffFactory(therapist=zoe, start=at(TUESDAY, 0), end=at(WEDNESDAY, 0))

    appointment = book(option, None, at(TUESDAY, 10), now)

    assert appointment.therapist == adam


def test_book_without_therapist_skips_one_who_does_not_offer_the_service(option, ordered_therapists, now):
    zoe, adam = ordered_therapists
    zoe.services.clear()

    assert book(option, None, at(TUESDAY, 10), now).therapist == adam


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(at(TUESDAY, 10, 5), id="not-on-the-grid"),
        pytest.param(at(TUESDAY, 10, 0) + timedelta(seconds=30), id="seconds-off-the-grid"),
        pytest.param(at(MONDAY, 9, 30), id="inside-the-minimum-notice"),
        pytest.param(at(MONDAY, 7), id="in-the-past"),
        pytest.param(at(date(2027, 2, 8), 10), id="past-the-horizon"),
        pytest.param(at(TUESDAY, 18), id="after-hours"),
        pytest.param(at(TUESDAY, 8, 30), id="before-hours"),
        pytest.param(at(TUESDAY, 12), id="in-the-lunch-break"),
        pytest.param(at(TUESDAY, 11, 30), id="running-into-the-lunch-break"),
        pytest.param(at(TUESDAY, 16, 30), id="running-past-the-end-of-the-day"),
        pytest.param(at(SATURDAY, 10), id="on-a-day-off"),
    ],
)
def test_book_refuses_a_time_that_is_not_offered(option, therapist, now, start):
    with pytest.raises(BookingError) as excinfo:
        book(option, therapist, start, now)

    assert excinfo.value.code == "not_available"
    assert not Appointment.objects.exists()
    assert not Patient.objects.exists()


def test_book_accepts_the_first_time_after_the_notice_and_the_last_day_of_the_horizon(option, therapist, now):
    # Two hours after Monday 08:00, and Friday 2027-02-05 is the 60th day after Monday 2026-12-07.
    assert book(option, therapist, at(MONDAY, 10), now, patient=details("one@example.com")).pk
    assert book(option, therapist, at(date(2027, 2, 5), 16), now, patient=details("two@example.com")).pk


def test_book_accepts_a_start_given_in_utc(option, therapist, now):
    appointment = book(option, therapist, datetime(2026, 12, 8, 15, 0, tzinfo=UTC), now)

    assert appointment.start == at(TUESDAY, 10)


def test_book_refuses_a_time_during_time_off(option, therapist, now):
    TimeOffFactory(therapist=therapist, start=at(TUESDAY, 9), end=at(TUESDAY, 12))

    with pytest.raises(BookingError) as excinfo:
        book(option, therapist, at(TUESDAY, 10), now)

    assert excinfo.value.code == "not_available"


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(at(TUESDAY, 10), id="same-start"),
        pytest.param(at(TUESDAY, 10, 30), id="inside-the-session"),
        pytest.param(at(TUESDAY, 11), id="inside-the-buffer"),
        pytest.param(at(TUESDAY, 9), id="session-and-buffer-run-into-it"),
    ],
)
def test_book_refuses_a_taken_time_with_slot_taken(option, therapist, now, start):
    book(option, therapist, at(TUESDAY, 10), now, patient=details("first@example.com"))

    with pytest.raises(SlotTaken) as excinfo:
        book(option, therapist, start, now, patient=details("second@example.com"))

    assert excinfo.value.code == "slot_taken"
    assert Appointment.objects.count() == 1
    assert not Patient.objects.filter(email="second@example.com").exists()


def test_book_right_after_the_buffer_is_allowed(option, therapist, now):
    book(option, therapist, at(TUESDAY, 9), now, patient=details("first@example.com"))

    appointment = book(option, therapist, at(TUESDAY, 10, 15), now, patient=details("second@example.com"))

    assert appointment.start == at(TUESDAY, 10, 15)


def test_staff_may_book_off_the_grid_and_at_short_notice_inside_working_hours(option, therapist, now, staff):
    appointment = book(option, therapist, at(MONDAY, 9, 5), now, actor=staff, channel=Appointment.Channel.FRONT_DESK)

    assert appointment.start == at(MONDAY, 9, 5)
    assert appointment.booked_by == staff


def test_staff_may_not_book_outside_working_hours(option, therapist, now, staff):
    with pytest.raises(BookingError) as excinfo:
        book(option, therapist, at(TUESDAY, 18), now, actor=staff)

    assert excinfo.value.code == "outside_hours"


def test_staff_booking_a_taken_time_gets_slot_taken(option, therapist, now, staff):
    book(option, therapist, at(TUESDAY, 10), now, patient=details("first@example.com"))

    with pytest.raises(SlotTaken):
        book(option, therapist, at(TUESDAY, 10, 20), now, actor=staff, patient=details("second@example.com"))


def test_book_refuses_an_inactive_length(option, therapist, now):
    option.active = False
    option.save()

    with pytest.raises(BookingError) as excinfo:
        book(option, therapist, at(TUESDAY, 10), now)

    assert excinfo.value.code == "service_unavailable"


def test_book_refuses_an_inactive_service(option, therapist, now):
    option.service.active = False
    option.service.save()

    with pytest.raises(BookingError) as excinfo:
        book(option, therapist, at(TUESDAY, 10), now)

    assert excinfo.value.code == "service_unavailable"


def test_book_refuses_a_therapist_who_does_not_offer_the_service(option, now):
    other = ServiceFactory(slug="trigger-point-therapy")
    specialist = weekday_therapist(other, "specialist", "Specialist")

    with pytest.raises(BookingError) as excinfo:
        book(option, specialist, at(TUESDAY, 10), now)

    assert excinfo.value.code == "therapist_unavailable"


def test_book_refuses_an_inactive_therapist(option, therapist, now):
    therapist.active = False
    therapist.save()

    with pytest.raises(BookingError) as excinfo:
        book(option, therapist, at(TUESDAY, 10), now)

    assert excinfo.value.code == "therapist_unavailable"


def test_book_without_therapist_when_nobody_offers_the_service(option, now):
    with pytest.raises(BookingError) as excinfo:
        book(option, None, at(TUESDAY, 10), now)

    assert excinfo.value.code == "therapist_unavailable"


def test_same_request_key_twice_returns_one_appointment(
    option, therapist, now, mailoutbox, deliver_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = book(option, therapist, at(TUESDAY, 10), now, request_key="form-1234")
    with django_capture_on_commit_callbacks(execute=True):
        again = book(option, therapist, at(TUESDAY, 10), now, request_key="form-1234")

    assert again.pk == first.pk
    assert Appointment.objects.count() == 1
    deliver_outbox()
    assert len(mailoutbox) == 1


def test_same_request_key_returns_the_first_booking_even_if_the_form_changed(option, therapist, now):
    first = book(option, therapist, at(TUESDAY, 10), now, request_key="form-1234")

    again = book(option, therapist, at(TUESDAY, 14), now, request_key="form-1234")

    assert again.pk == first.pk
    assert again.start == at(TUESDAY, 10)


def test_different_request_keys_make_different_bookings(option, therapist, now):
    first = book(option, therapist, at(TUESDAY, 10), now, request_key="form-1")
    second = book(option, therapist, at(TUESDAY, 14), now, request_key="form-2")

    assert first.pk != second.pk
    assert Appointment.objects.count() == 2


def test_booking_sends_the_confirmation_with_a_calendar_file_after_commit(
    option, therapist, now, mailoutbox, deliver_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        appointment = book(option, therapist, at(TUESDAY, 10), now)

    assert len(callbacks) == 1
    deliver_outbox()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ana@example.com"]
    assert "booked" in message.subject
    assert appointment.manage_token in message.body
    [(filename, content, mimetype)] = message.attachments
    assert filename == "appointment.ics"
    assert mimetype == "text/calendar"
    content = content.decode() if isinstance(content, bytes) else content
    assert "BEGIN:VCALENDAR" in content
    assert "BEGIN:VEVENT" in content
    assert "DTSTART" in content
    assert "20261208T150000Z" in content or "20261208T100000" in content


def test_booking_queues_its_confirmation_and_sends_nothing_itself_and_a_refused_one_queues_nothing(
    option, therapist, now, mailoutbox, django_capture_on_commit_callbacks
):
    from notifications.models import OutboundMessage

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        appointment = book(option, therapist, at(TUESDAY, 10), now)
    assert len(callbacks) == 1  # after commit, the worker is told to look at the outbox: nothing more
    assert mailoutbox == []
    [queued] = OutboundMessage.objects.all()
    assert (queued.kind, queued.appointment, queued.status) == ("confirmation", appointment, "pending")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(SlotTaken):
        book(option, therapist, at(TUESDAY, 10), now, patient=details("second@example.com"))
    assert callbacks == []
    assert OutboundMessage.objects.count() == 1


# --- appointment_cancel -------------------------------------------------------------------------


@pytest.fixture
def tuesday_booking(option, therapist, now):
    """Tuesday 10:00: 26 hours away, outside the 24 hour cancellation window."""
    return book(option, therapist, at(TUESDAY, 10), now, patient=details("tuesday@example.com"))


@pytest.fixture
def this_afternoon_booking(option, therapist, now):
    """Monday 14:00: six hours away, inside the cancellation window."""
    return book(option, therapist, at(MONDAY, 14), now, patient=details("today@example.com"))


def test_staff_cancel_keeps_the_record_with_who_when_and_why(tuesday_booking, now, staff):
    cancelled = services.appointment_cancel(
        appointment=tuesday_booking, now=now, actor=Actor.staff(staff), reason="  Patient called: flu.  "
    )

    cancelled.refresh_from_db()
    assert cancelled.pk == tuesday_booking.pk
    assert cancelled.status == Appointment.Status.CANCELLED
    assert cancelled.cancelled_at == now
    assert cancelled.cancelled_by_role == Appointment.CancelledBy.STAFF
    assert cancelled.cancelled_by == staff
    assert cancelled.cancellation_reason == "Patient called: flu."
    assert Appointment.objects.count() == 1


def test_patient_cancel_outside_the_window_is_recorded_as_the_patients(tuesday_booking, now):
    cancelled = services.appointment_cancel(
        appointment=tuesday_booking, now=now, actor=PATIENT, reason="Feeling better"
    )

    cancelled.refresh_from_db()
    assert cancelled.status == Appointment.Status.CANCELLED
    assert cancelled.cancelled_by_role == Appointment.CancelledBy.PATIENT
    assert cancelled.cancelled_by is None
    assert cancelled.cancellation_reason == "Feeling better"


def test_patient_cannot_cancel_inside_the_cancellation_window(this_afternoon_booking, now):
    with pytest.raises(BookingError) as excinfo:
        services.appointment_cancel(appointment=this_afternoon_booking, now=now, actor=PATIENT)

    assert excinfo.value.code == "too_late_to_change"
    this_afternoon_booking.refresh_from_db()
    assert this_afternoon_booking.status == Appointment.Status.BOOKED
    assert this_afternoon_booking.cancelled_at is None


def test_patient_cannot_cancel_an_appointment_that_has_started(tuesday_booking):
    with pytest.raises(BookingError) as excinfo:
        services.appointment_cancel(appointment=tuesday_booking, now=at(TUESDAY, 10, 5), actor=PATIENT)

    assert excinfo.value.code == "in_past"


def test_staff_may_cancel_inside_the_cancellation_window(this_afternoon_booking, now, staff):
    cancelled = services.appointment_cancel(appointment=this_afternoon_booking, now=now, actor=Actor.staff(staff))

    assert cancelled.status == Appointment.Status.CANCELLED


@pytest.mark.parametrize("by_patient", [False, True], ids=["staff", "patient"])
def test_cancelling_twice_is_refused_as_not_active(tuesday_booking, now, by_patient):
    services.appointment_cancel(appointment=tuesday_booking, now=now, actor=as_actor(by_patient))

    with pytest.raises(BookingError) as excinfo:
        services.appointment_cancel(appointment=tuesday_booking, now=now, actor=as_actor(by_patient))

    assert excinfo.value.code == "not_active"


def test_cancelled_slot_becomes_free_again(option, therapist, tuesday_booking, clinic, now):
    assert at(TUESDAY, 10) not in offered_starts(option, [therapist], TUESDAY, clinic, now)

    services.appointment_cancel(appointment=tuesday_booking, now=now, actor=PATIENT)

    assert at(TUESDAY, 10) in offered_starts(option, [therapist], TUESDAY, clinic, now)
    rebooked = book(option, therapist, at(TUESDAY, 10), now, patient=details("next@example.com"))
    assert rebooked.pk != tuesday_booking.pk
    assert Appointment.objects.active().get() == rebooked


def test_cancel_sends_the_cancellation_notice(
    tuesday_booking, now, mailoutbox, deliver_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(appointment=tuesday_booking, now=now, actor=PATIENT)

    deliver_outbox()
    booked, cancelled = mailoutbox  # the booking's own confirmation went out first
    assert "booked" in booked.subject
    assert cancelled.to == ["tuesday@example.com"]
    assert "cancelled" in cancelled.subject


# --- appointment_move ---------------------------------------------------------------------------


def test_patient_moves_to_another_offered_time_keeping_the_link(option, therapist, tuesday_booking, clinic, now):
    token = tuesday_booking.manage_token

    moved = services.appointment_move(appointment=tuesday_booking, start=at(WEDNESDAY, 11), now=now, actor=PATIENT)

    moved.refresh_from_db()
    assert moved.pk == tuesday_booking.pk
    assert moved.manage_token == token
    assert (moved.start, moved.end, moved.blocked_until) == (
        at(WEDNESDAY, 11),
        at(WEDNESDAY, 12),
        at(WEDNESDAY, 12, 15),
    )
    assert moved.status == Appointment.Status.BOOKED
    assert Appointment.objects.count() == 1
    assert at(TUESDAY, 10) in offered_starts(option, [therapist], TUESDAY, clinic, now)
    assert at(WEDNESDAY, 11) not in offered_starts(option, [therapist], WEDNESDAY, clinic, now)


def test_patient_cannot_move_inside_the_cancellation_window(this_afternoon_booking, now):
    with pytest.raises(BookingError) as excinfo:
        services.appointment_move(appointment=this_afternoon_booking, start=at(WEDNESDAY, 11), now=now, actor=PATIENT)

    assert excinfo.value.code == "too_late_to_change"


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(at(WEDNESDAY, 11, 5), id="not-on-the-grid"),
        pytest.param(at(WEDNESDAY, 18), id="after-hours"),
        pytest.param(at(date(2027, 2, 8), 10), id="past-the-horizon"),
    ],
)
def test_patient_can_only_move_to_an_offered_time(tuesday_booking, now, start):
    with pytest.raises(BookingError) as excinfo:
        services.appointment_move(appointment=tuesday_booking, start=start, now=now, actor=PATIENT)

    assert excinfo.value.code == "not_available"
    tuesday_booking.refresh_from_db()
    assert tuesday_booking.start == at(TUESDAY, 10)


def test_staff_may_move_off_the_grid_inside_working_hours(tuesday_booking, now, staff):
    moved = services.appointment_move(
        appointment=tuesday_booking, start=at(WEDNESDAY, 10, 5), now=now, actor=Actor.staff(staff)
    )

    assert moved.start == at(WEDNESDAY, 10, 5)


def test_staff_may_not_move_outside_working_hours(tuesday_booking, now, staff):
    with pytest.raises(BookingError) as excinfo:
        services.appointment_move(
            appointment=tuesday_booking, start=at(WEDNESDAY, 18), now=now, actor=Actor.staff(staff)
        )

    assert excinfo.value.code == "outside_hours"


@pytest.mark.parametrize("by_patient", [False, True], ids=["staff", "patient"])
def test_move_onto_another_appointment_is_refused_with_slot_taken(option, therapist, tuesday_booking, now, by_patient):
    other = book(option, therapist, at(TUESDAY, 14), now, patient=details("other@example.com"))

    with pytest.raises(SlotTaken) as excinfo:
        services.appointment_move(appointment=other, start=at(TUESDAY, 10, 30), now=now, actor=as_actor(by_patient))

    assert excinfo.value.code == "slot_taken"
    other.refresh_from_db()
    assert other.start == at(TUESDAY, 14)


@pytest.mark.parametrize("by_patient", [False, True], ids=["staff", "patient"])
def test_move_overlapping_its_own_old_time_is_allowed(tuesday_booking, now, by_patient):
    moved = services.appointment_move(
        appointment=tuesday_booking, start=at(TUESDAY, 10, 30), now=now, actor=as_actor(by_patient)
    )

    moved.refresh_from_db()
    assert (moved.start, moved.end) == (at(TUESDAY, 10, 30), at(TUESDAY, 11, 30))


def test_staff_moves_an_appointment_to_another_therapist(tuesday_booking, second_therapist, now, staff):
    moved = services.appointment_move(
        appointment=tuesday_booking,
        start=at(TUESDAY, 10),
        now=now,
        therapist=second_therapist,
        actor=Actor.staff(staff),
    )

    moved.refresh_from_db()
    assert moved.therapist == second_therapist
    assert moved.start == at(TUESDAY, 10)


def test_move_to_a_therapist_who_does_not_offer_the_service_is_refused(tuesday_booking, now, staff):
    outsider = TherapistFactory(slug="outsider")
    WorkingHoursFactory(therapist=outsider, weekday=1)

    with pytest.raises(BookingError) as excinfo:
        services.appointment_move(
            appointment=tuesday_booking, start=at(TUESDAY, 10), now=now, therapist=outsider, actor=Actor.staff(staff)
        )

    assert excinfo.value.code == "therapist_unavailable"


@pytest.mark.parametrize("by_patient", [False, True], ids=["staff", "patient"])
def test_cancelled_appointment_cannot_be_moved(tuesday_booking, now, by_patient):
    services.appointment_cancel(appointment=tuesday_booking, now=now, actor=SYSTEM)

    with pytest.raises(BookingError) as excinfo:
        services.appointment_move(
            appointment=tuesday_booking, start=at(WEDNESDAY, 11), now=now, actor=as_actor(by_patient)
        )

    assert excinfo.value.code == "not_active"


def test_move_refuses_a_naive_start(tuesday_booking, now):
    with pytest.raises(ValueError, match="aware"):
        services.appointment_move(appointment=tuesday_booking, start=datetime(2026, 12, 9, 11), now=now, actor=SYSTEM)


def test_move_sends_the_reschedule_notice(
    tuesday_booking, now, mailoutbox, deliver_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_move(appointment=tuesday_booking, start=at(WEDNESDAY, 11), now=now, actor=PATIENT)

    deliver_outbox()
    booked, moved = mailoutbox
    assert "booked" in booked.subject
    assert "moved" in moved.subject
    assert tuesday_booking.manage_token in moved.body


# --- status changes ----------------------------------------------------------------------------


def test_check_in_then_complete_on_the_day(tuesday_booking, staff):
    desk = Actor.staff(staff)
    checked_in = services.appointment_change_status(
        appointment=tuesday_booking, action=Action.CHECK_IN, now=at(TUESDAY, 9, 50), actor=desk
    )
    completed = services.appointment_change_status(
        appointment=checked_in, action=Action.COMPLETE, now=at(TUESDAY, 11), actor=desk
    )

    completed.refresh_from_db()
    assert completed.status == Appointment.Status.COMPLETED
    assert completed.cancelled_at is None


def test_no_show_once_the_start_has_passed(tuesday_booking, staff):
    marked = services.appointment_change_status(
        appointment=tuesday_booking, action=Action.NO_SHOW, now=at(TUESDAY, 10, 15), actor=Actor.staff(staff)
    )

    marked.refresh_from_db()
    assert marked.status == Appointment.Status.NO_SHOW


def test_change_status_refuses_what_is_not_a_status_change(tuesday_booking, now, staff):
    with pytest.raises(ValueError, match="not a status change"):
        services.appointment_change_status(
            appointment=tuesday_booking, action=Action.CANCEL, now=now, actor=Actor.staff(staff)
        )


def test_status_of_a_cancelled_appointment_is_refused(tuesday_booking, staff):
    desk = Actor.staff(staff)
    services.appointment_cancel(appointment=tuesday_booking, now=at(MONDAY, 9), actor=desk)

    with pytest.raises(BookingError) as excinfo:
        services.appointment_change_status(
            appointment=tuesday_booking, action=Action.CHECK_IN, now=at(TUESDAY, 9, 50), actor=desk
        )

    assert excinfo.value.code == "not_active"


# --- clock changes ------------------------------------------------------------------------------


@pytest.fixture
def night_therapist(service):
    therapist = TherapistFactory(slug="night-owl", services=[service])
    WorkingHoursFactory(therapist=therapist, weekday=6, start=time(0), end=time(5))
    return therapist


@pytest.fixture
def long_option(service):
    return ServiceOption.objects.select_related("service").get(service=service, duration_minutes=90)


def test_book_across_fall_back_lasts_the_real_session_length_when_start_is_utc(long_option, night_therapist):
    # 00:45 EDT on 2026-11-01; 90 real minutes later it is 01:15 EST.
    start = datetime(2026, 11, 1, 4, 45, tzinfo=UTC)

    appointment = book(long_option, night_therapist, start, datetime(2026, 10, 25, 12, tzinfo=UTC))

    appointment.refresh_from_db()
    assert appointment.end - appointment.start == timedelta(minutes=90)  # both in UTC from the database
    assert appointment.end == datetime(2026, 11, 1, 6, 15, tzinfo=UTC)
    assert appointment.blocked_until == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def test_book_across_fall_back_lasts_the_real_session_length_when_start_is_local(long_option, night_therapist):
    start = datetime(2026, 11, 1, 0, 45, tzinfo=TORONTO)  # EDT; a form's make_aware gives exactly this

    appointment = book(long_option, night_therapist, start, datetime(2026, 10, 25, 12, tzinfo=UTC))

    appointment.refresh_from_db()
    assert appointment.end - appointment.start == timedelta(minutes=90)  # both in UTC from the database


def test_book_in_the_repeated_hour_with_a_start_given_in_utc(option, night_therapist):
    start = datetime(2026, 11, 1, 5, 15, tzinfo=UTC)  # 01:15 EDT, an offered slot

    appointment = book(option, night_therapist, start, datetime(2026, 10, 25, 12, tzinfo=UTC))

    assert appointment.start == start


def test_move_into_the_repeated_hour_keeps_the_real_session_length(option, night_therapist):
    now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    appointment = book(option, night_therapist, datetime(2026, 11, 1, 3, 0, tzinfo=TORONTO), now)

    moved = services.appointment_move(
        appointment=appointment, start=datetime(2026, 11, 1, 1, 30, tzinfo=TORONTO), now=now, actor=PATIENT
    )

    moved.refresh_from_db()
    assert moved.start == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # the first 01:30, EDT
    assert moved.end == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert moved.blocked_until == datetime(2026, 11, 1, 6, 45, tzinfo=UTC)


def test_option_lookup_by_duration_survives_other_lengths(service, therapist, now):
    # appointment_move finds the option by service and length; another service's 60 minutes must not confuse it.
    other = ServiceFactory(slug="trigger-point")
    ServiceOption.objects.create(service=other, duration_minutes=60, price=Decimal("99.00"))
    option = service.options.get(duration_minutes=60)
    appointment = book(option, therapist, at(TUESDAY, 10), now)

    moved = services.appointment_move(appointment=appointment, start=at(WEDNESDAY, 10), now=now, actor=PATIENT)

    assert moved.service == service
    assert moved.blocked_until == at(WEDNESDAY, 11, 15)
