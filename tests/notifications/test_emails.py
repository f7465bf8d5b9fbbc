"""What the booking services put in the outbox, and what the emails say: both parts, the calendar file, and the
therapist's short notice when their schedule changes within the notice window."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from icalendar import Calendar

from booking import services
from booking.actors import Actor, Via
from booking.models import Appointment
from booking.services import PatientDetails
from clinic.models import ClinicSettings
from notifications import notices
from notifications.models import OutboundMessage
from tests.conftest import ensure_roles
from tests.factories import UserFactory

TORONTO = ZoneInfo("America/Toronto")
MONDAY = date(2026, 12, 7)  # NOW is Monday 08:00 in Toronto
TUESDAY = date(2026, 12, 8)  # Tuesday 10:00 is 26 hours away: inside the 48-hour notice window
WEDNESDAY = date(2026, 12, 9)  # Wednesday 10:00 is 50 hours away: outside it
NEXT_MONDAY = date(2026, 12, 14)

ONLINE = Actor.patient(Via.ONLINE_BOOKING)
PATIENT = Actor.patient()
SYSTEM = Actor.system("tests")

Kind = OutboundMessage.Kind
POLICY = "Cancel or move online up to 24 hours before your appointment; after that, please call us at 416-555-0134."


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def ana(name: str = "Ana María Silva") -> PatientDetails:
    return PatientDetails(name=name, email="ana@example.com", phone="416-555-0199")


def login_for(therapist, username: str):
    """Give `therapist` a staff login with an email, in the Therapist group."""
    ensure_roles()
    user: Any = UserFactory(username=username, email=f"{username}@clinic.example", first_name=username.title())
    user.groups.add(Group.objects.get(name="Therapist"))
    therapist.user = user
    therapist.save(update_fields=["user"])
    return user


@pytest.fixture
def alex(therapist):
    login_for(therapist, "alex")
    return therapist


@pytest.fixture
def sam(second_therapist):
    login_for(second_therapist, "sam")
    return second_therapist


@pytest.fixture
def desk_actor(receptionist):
    return Actor.staff(receptionist)


def book(option, therapist, start, now, actor=ONLINE, patient=None) -> Appointment:
    return services.appointment_book(
        option=option, therapist=therapist, start=start, patient=patient or ana(), now=now, actor=actor
    )


def queued(kind=None) -> list[OutboundMessage]:
    rows = OutboundMessage.objects.order_by("pk")
    return list(rows.filter(kind=kind) if kind else rows)


def html_of(email) -> str:
    [(content, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    return content


def calendar_of(email) -> Calendar:
    [(filename, content, mimetype)] = email.attachments
    assert filename.endswith(".ics")
    assert mimetype == "text/calendar"
    return Calendar.from_ical(content)


# --- what is queued ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_booking_rolled_back_after_its_confirmation_was_written_leaves_no_message(option, alex, now):
    """Real transactions: the confirmation row is written, then the transaction fails and takes it along."""
    written = []
    real_queue = services.outbox.queue_appointment_email

    def queue_then_fail(*args, **kwargs):
        written.append(real_queue(*args, **kwargs))
        raise RuntimeError("the change fails after its message was written")

    with (
        mock.patch.object(services.outbox, "queue_appointment_email", queue_then_fail),
        pytest.raises(RuntimeError),
    ):
        book(option, alex, at(TUESDAY, 10), now)

    assert len(written) == 1 and written[0].pk is not None  # it was in the outbox inside the transaction...
    assert not Appointment.objects.exists()
    assert not OutboundMessage.objects.exists()  # ...and went with the rollback


def test_a_booking_far_ahead_queues_only_the_patients_confirmation(option, alex, now):
    appointment = book(option, alex, at(WEDNESDAY, 10), now)

    [confirmation] = queued()
    assert (confirmation.kind, confirmation.recipient, confirmation.appointment) == (
        Kind.CONFIRMATION,
        "ana@example.com",
        appointment,
    )
    assert confirmation.patient == appointment.patient
    assert confirmation.status == OutboundMessage.Status.PENDING


def test_a_booking_within_48_hours_also_tells_the_therapist(option, alex, now):
    appointment = book(option, alex, at(TUESDAY, 10), now)

    confirmation, notice = queued()
    assert confirmation.kind == Kind.CONFIRMATION
    assert (notice.kind, notice.recipient, notice.appointment) == (
        Kind.STAFF_NOTICE,
        "alex@clinic.example",
        appointment,
    )
    assert notice.patient is None  # the notice was not sent to the patient


def test_the_notice_window_is_the_clinics_policy(option, alex, now, clinic):
    clinic.therapist_notice_hours = 24
    clinic.save()

    book(option, alex, at(TUESDAY, 10), now)  # 26 hours away

    assert [message.kind for message in queued()] == [Kind.CONFIRMATION]


def test_a_therapist_without_a_login_email_gets_no_notice(option, therapist, now):
    book(option, therapist, at(TUESDAY, 10), now)  # no login at all
    login_for(therapist, "alex")
    therapist.user.email = ""
    therapist.user.save()
    therapist.refresh_from_db()

    services.appointment_cancel(appointment=Appointment.objects.get(), now=now, actor=PATIENT)

    assert [message.kind for message in queued()] == [Kind.CONFIRMATION, Kind.CANCELLATION]


def test_a_booking_without_the_patients_email_still_tells_the_therapist(option, alex, now, desk_actor):
    services.appointment_book(
        option=option, therapist=alex, start=at(TUESDAY, 10), patient=ana(), now=now, actor=desk_actor, notify=False
    )

    [notice] = queued()
    assert notice.kind == Kind.STAFF_NOTICE


def test_cancel_and_restore_within_48_hours_tell_the_therapist(option, alex, now, desk_actor):
    appointment = book(option, alex, at(WEDNESDAY, 10), now)  # 50 hours away: no notice for the booking
    later = now + timedelta(hours=4)  # now 46 hours away

    services.appointment_cancel(appointment=appointment, now=later, actor=PATIENT)
    services.appointment_undo(appointment=appointment, now=later, actor=desk_actor)

    notices_sent = queued(Kind.STAFF_NOTICE)
    assert [notice.subject.split(":")[0] for notice in notices_sent] == ["Cancelled", "Back in your schedule"]
    assert [message.kind for message in queued()] == [
        Kind.CONFIRMATION,
        Kind.CANCELLATION,
        Kind.STAFF_NOTICE,
        Kind.CONFIRMATION,
        Kind.STAFF_NOTICE,
    ]


def test_a_series_tells_the_therapist_only_about_sessions_within_48_hours(option, alex, now, desk_actor):
    starts = [at(TUESDAY, 10) + timedelta(weeks=week) for week in range(3)]

    services.appointment_book_series(
        option=option, therapist=alex, starts=starts, patient=ana(), now=now, actor=desk_actor
    )

    series, notice = queued()
    assert series.kind == Kind.SERIES_CONFIRMATION
    assert notice.kind == Kind.STAFF_NOTICE
    assert notice.appointment.start == at(TUESDAY, 10)


def test_a_move_between_therapists_within_48_hours_tells_both(option, alex, sam, now, desk_actor):
    appointment = book(option, alex, at(TUESDAY, 10), now)
    OutboundMessage.objects.all().delete()  # the booking's own messages

    services.appointment_move(appointment=appointment, start=at(TUESDAY, 14), therapist=sam, now=now, actor=desk_actor)

    change, to_alex, to_sam = queued()
    assert change.kind == Kind.CHANGE
    assert (to_alex.kind, to_alex.recipient) == (Kind.STAFF_NOTICE, "alex@clinic.example")
    assert to_alex.subject.startswith("Moved to Sam Okafor: Ana S., Tue 8 Dec at 10:00")
    assert "/schedule/?date=2026-12-08" in to_alex.body_text  # her day: the appointment is no longer hers to open
    assert (to_sam.kind, to_sam.recipient) == (Kind.STAFF_NOTICE, "sam@clinic.example")
    assert to_sam.subject.startswith("New in your schedule: Ana S., Tue 8 Dec at 14:00")
    assert f"/schedule/appointments/{appointment.pk}/" in to_sam.body_text
    for notice in (to_alex, to_sam):
        for part in (notice.body_text, notice.body_html):
            assert "Tue 8 Dec, 10:00" in part and "Tue 8 Dec, 14:00" in part
    assert "with Sam Okafor" in to_alex.body_text
    assert "with Alex Moreau" in to_sam.body_text


def test_a_move_from_far_ahead_into_the_window_tells_only_the_new_therapist(option, alex, sam, now, desk_actor):
    appointment = book(option, alex, at(WEDNESDAY, 10), now)  # 50 hours away

    services.appointment_move(appointment=appointment, start=at(TUESDAY, 14), therapist=sam, now=now, actor=desk_actor)

    assert [notice.recipient for notice in queued(Kind.STAFF_NOTICE)] == ["sam@clinic.example"]


def test_a_move_tells_only_the_therapist_whose_part_is_soon(option, alex, sam, now, desk_actor):
    appointment = book(option, alex, at(TUESDAY, 10), now)  # the booking's notice to Alex
    services.appointment_move(
        appointment=appointment, start=at(NEXT_MONDAY, 10), therapist=sam, now=now, actor=desk_actor
    )

    assert [notice.recipient for notice in queued(Kind.STAFF_NOTICE)] == ["alex@clinic.example"] * 2


def test_a_move_within_one_schedule_tells_the_therapist_once(option, alex, now, desk_actor):
    appointment = book(option, alex, at(WEDNESDAY, 10), now)

    services.appointment_move(appointment=appointment, start=at(TUESDAY, 15), now=now, actor=desk_actor)

    [notice] = queued(Kind.STAFF_NOTICE)
    assert notice.subject.startswith("Moved: Ana S., now Tue 8 Dec at 15:00")


def test_a_therapist_is_not_told_of_their_own_change(option, alex, sam, now):
    """A manager who is also a therapist moves a patient from a colleague into their own day."""
    manager = alex.user
    manager.groups.add(Group.objects.get(name="Manager"))
    own = Actor.staff(manager)
    assert own.role == "front_desk"
    appointment = book(option, sam, at(TUESDAY, 10), now)  # notice to Sam

    services.appointment_move(appointment=appointment, start=at(TUESDAY, 10), therapist=alex, now=now, actor=own)
    services.appointment_cancel(appointment=appointment, now=now, actor=own)

    recipients = [notice.recipient for notice in queued(Kind.STAFF_NOTICE)]
    assert recipients == ["sam@clinic.example", "sam@clinic.example"]  # the booking, then the move away


def test_the_notice_names_the_patient_briefly_and_carries_no_contact_details(option, alex, now):
    appointment = book(option, alex, at(TUESDAY, 10), now)
    appointment.patient_note = "Private: left hip"
    appointment.save()

    [notice] = queued(Kind.STAFF_NOTICE)
    for part in (notice.body_text, notice.body_html, notice.subject):
        assert "Ana S." in part
        assert "Silva" not in part
        assert "ana@example.com" not in part
        assert "555-0199" not in part and "5550199" not in part
        assert appointment.manage_token not in part
    assert "Myofascial release, 60 minutes" in notice.body_text
    assert "Tue 8 Dec, 10:00–11:00" in notice.body_text
    assert "Cancel or move online" not in notice.body_text  # the patients' policy is not for staff
    assert notice.attachment == ""


def test_patient_label_is_first_name_and_last_initial():
    assert notices.patient_label("Ana María Silva") == "Ana S."
    assert notices.patient_label("  jordan  lee ") == "jordan L."
    assert notices.patient_label("Cher") == "Cher"
    assert notices.patient_label("") == "A patient"


# --- what the emails say ----------------------------------------------------------------------------------------


def assert_clinic_details(text: str, html: str, manage_url: str) -> None:
    clinic = ClinicSettings.load()
    for part in (text, html):
        assert clinic.name in part
        assert clinic.address in part
        assert clinic.phone in part
        assert manage_url in part
    assert POLICY in text
    assert POLICY in html
    assert 'href="tel:4165550134"' in html
    assert f'href="{manage_url}"' in html


def test_the_confirmation_has_both_parts_and_the_calendar_file(
    option, alex, now, deliver_outbox, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(option, alex, at(WEDNESDAY, 10), now, patient=ana("Ana O'Brien & Silva"))

    [email] = deliver_outbox()
    manage_url = settings.SITE_URL + appointment.private_link_path()
    html = html_of(email)
    assert email.to == ["ana@example.com"]
    assert email.subject == "Your appointment is booked – Mo Therapy"
    assert_clinic_details(email.body, html, manage_url)
    assert "Hello Ana O'Brien & Silva" in email.body  # the text part is not HTML-escaped...
    assert "Hello Ana O&#x27;Brien &amp; Silva" in html  # ...and the HTML part is
    for part in (email.body, html):
        assert "Wednesday 9 December 2026" in part
        assert "10:00 AM to 11:00 AM" in part
        assert "Myofascial release, 60 minutes" in part
        assert "Alex Moreau" in part
    [event] = calendar_of(email).walk("VEVENT")
    assert event.decoded("dtstart") == at(WEDNESDAY, 10)
    assert event.decoded("dtend") == at(WEDNESDAY, 11)
    assert str(event["summary"]) == "Myofascial release with Alex Moreau"
    assert str(event["status"]) == "CONFIRMED"


def test_the_moved_email_has_the_new_time_and_a_calendar_file_that_replaces_the_old(
    option, alex, now, deliver_outbox, settings, desk_actor
):
    appointment = book(option, alex, at(WEDNESDAY, 10), now)
    services.appointment_move(appointment=appointment, start=at(NEXT_MONDAY, 14, 30), now=now, actor=desk_actor)

    confirmation, moved = deliver_outbox()
    assert moved.subject == "Your appointment has moved – Mo Therapy"
    html = html_of(moved)
    assert_clinic_details(moved.body, html, settings.SITE_URL + appointment.private_link_path())
    for part in (moved.body, html):
        assert "Monday 14 December 2026" in part
        assert "2:30 PM to 3:30 PM" in part
    [old] = calendar_of(confirmation).walk("VEVENT")
    [new] = calendar_of(moved).walk("VEVENT")
    assert new["uid"] == old["uid"]
    assert new.decoded("dtstart") == at(NEXT_MONDAY, 14, 30)
    assert new.decoded("sequence") > old.decoded("sequence")


def test_the_cancelled_email_says_which_time_and_offers_another(option, alex, now, deliver_outbox, settings):
    appointment = book(option, alex, at(WEDNESDAY, 10), now)
    services.appointment_cancel(appointment=appointment, now=now, actor=PATIENT)

    _, cancelled = deliver_outbox()
    assert cancelled.subject == "Your appointment is cancelled – Mo Therapy"
    assert cancelled.attachments == []
    html = html_of(cancelled)
    assert_clinic_details(cancelled.body, html, settings.SITE_URL + appointment.private_link_path())
    for part in (cancelled.body, html):
        assert "Wednesday 9 December 2026" in part and "10:00 AM" in part
        assert settings.SITE_URL + "/book/" in part


def test_the_series_email_lists_each_session_with_its_own_link(option, alex, now, deliver_outbox, desk_actor):
    starts = [at(WEDNESDAY, 10) + timedelta(weeks=week) for week in range(3)]
    booked = services.appointment_book_series(
        option=option, therapist=alex, starts=starts, patient=ana(), now=now, actor=desk_actor
    )

    [email] = deliver_outbox()
    html = html_of(email)
    assert email.subject == "Your 3 appointments are booked – Mo Therapy"
    clinic = ClinicSettings.load()
    for part in (email.body, html):
        for detail in (
            clinic.name,
            clinic.address,
            clinic.phone,
            "Wednesday 16 December 2026",
            "Wednesday 23 December",
        ):
            assert detail in part
        for appointment in booked:
            assert appointment.private_link_path() in part
    assert POLICY in email.body and POLICY in html
    assert len(calendar_of(email).walk("VEVENT")) == 3


def test_emails_show_the_clinics_clock_whoever_queues_them(option, alex, now, clinic):
    """A command or the worker runs without the clinic's time zone active: the email still uses it."""
    clinic.time_zone = "America/Vancouver"
    clinic.save()

    with timezone.override(UTC):
        book(option, alex, at(WEDNESDAY, 13), now)  # 13:00 in Toronto is 10:00 in Vancouver

    [confirmation] = queued()
    assert "10:00 AM to 11:00 AM" in confirmation.body_text
    assert "10:00 AM to 11:00 AM" in confirmation.body_html


def test_the_therapist_notice_has_both_parts_and_the_schedule_link(
    option, alex, now, deliver_outbox, settings, desk_actor
):
    appointment = book(option, alex, at(TUESDAY, 10), now, actor=desk_actor)

    _, notice = deliver_outbox()
    assert notice.to == ["alex@clinic.example"]
    assert notice.subject == "New booking: Ana S., Tue 8 Dec at 10:00 – Mo Therapy"
    link = f"{settings.SITE_URL}/schedule/appointments/{appointment.pk}/"
    html = html_of(notice)
    for part in (notice.body, html):
        assert link in part
        assert "Myofascial release, 60 minutes" in part
        assert "Mo Therapy" in part
    assert notice.attachments == []
