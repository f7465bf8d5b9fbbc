"""Reminders before a session: queued when due, each exactly once per appointment, reminder, start and channel,
whether the job runs twice, late or on two workers at once; none for cancelled, started or opted-out
appointments; a moved appointment is reminded of its new time and never of the old one.

The clock: a session on Wednesday 9 December 2026 at 10:00 in Toronto (15:00 UTC), booked on Monday 7 December
at 08:00 (tests.conftest.NOW). Its 24-hour reminder is due on Tuesday at 10:00, a 2-hour one on Wednesday at 8:00.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from booking import services
from booking.actors import Actor
from booking.models import Appointment, Patient
from notifications import delivery, reminders, sms, tasks
from notifications.models import OutboundMessage
from tests.conftest import NOW
from tests.factories import AppointmentFactory, PatientFactory, TherapistFactory

TORONTO = ZoneInfo("America/Toronto")
SESSION = datetime(2026, 12, 9, 10, 0, tzinfo=TORONTO)
DAY_BEFORE = SESSION - timedelta(hours=24)
Status = OutboundMessage.Status
SYSTEM = Actor.system("tests")


@pytest.fixture(autouse=True)
def texts():
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def two_reminders(clinic):
    clinic.second_reminder_hours = 2
    clinic.save()
    return clinic


def book(option, therapist, *, start=SESSION, at=NOW, text=False, email="jordan@example.com") -> Appointment:
    """A booking made through the booking service at `at` (no confirmation email, to count reminders alone)."""
    details = services.PatientDetails(name="Jordan Lee", email=email, phone="416-555-0199", text_reminders=text)
    return services.appointment_book(
        option=option, therapist=therapist, start=start, patient=details, now=at, actor=SYSTEM, notify=False
    )


def run_job(at: datetime) -> reminders.ReminderRun:
    """What the worker's periodic job does at `at`: queue the due reminders, then send what is due."""
    with time_machine.travel(at, tick=False):
        now = timezone.now()
        run = reminders.queue_due_reminders(now)
        delivery.deliver_due(now)
    return run


def queue_only(at: datetime) -> reminders.ReminderRun:
    with time_machine.travel(at, tick=False):
        return reminders.queue_due_reminders(timezone.now())


def deliver(at: datetime) -> dict[str, int]:
    with time_machine.travel(at, tick=False):
        return delivery.deliver_due(timezone.now())


def reminder_emails(mailoutbox) -> list:
    return [email for email in mailoutbox if email.subject.startswith("Reminder:")]


def reminder_rows():
    return list(OutboundMessage.objects.filter(kind=OutboundMessage.Kind.REMINDER).order_by("pk"))


# --- the rule, as a pure function -------------------------------------------------------------------------------

H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("hours_before", "announced_hours_before", "expected"),
    [
        (25, None, None),  # no reminder due yet
        (24, None, 24),  # the first one, on time
        (3, None, 24),  # late, and the 2-hour one is not due yet: the 24-hour one still goes
        (2, None, 2),  # both have passed: only the latest
        (0.5, None, 2),  # very late, before the start
        (0, None, None),  # the session has started
        (-1, None, None),
        (20, 48, 24),  # booked two days ahead
        (20, 22, None),  # booked inside the 24-hour window: the confirmation said it
        (2, 22, 2),  # ...but the 2-hour reminder still goes
        (1, 1.5, None),  # moved to 90 minutes from now: the change email said it
    ],
)
def test_which_reminder_is_due(hours_before, announced_hours_before, expected):
    announced = None if announced_hours_before is None else SESSION - announced_hours_before * H
    offset = reminders.offset_due(
        start=SESSION, offsets=[24 * H, 2 * H], announced_at=announced, now=SESSION - hours_before * H
    )
    assert offset == (None if expected is None else expected * H)


def test_a_reminder_is_stale_once_a_shorter_one_is_due():
    key = reminders.ReminderKey(1, 24 * H, SESSION, "email")
    offsets = [24 * H, 2 * H]

    assert reminders.superseded_by(key=key, offsets=offsets, now=SESSION - 3 * H) is None
    assert reminders.superseded_by(key=key, offsets=offsets, now=SESSION - 2 * H) == 2 * H


def test_a_key_names_its_reminder_and_reads_back():
    key = reminders.ReminderKey(42, 24 * H, SESSION, "sms")

    assert str(key) == "reminder:42:24h:2026-12-09T15:00:00+00:00:sms"
    assert reminders.parse_key(str(key)) == key
    assert reminders.parse_key("reminder:42:24h:not-a-time:sms") is None
    assert reminders.parse_key("reminder:42:24h:2026-12-09T15:00:00:sms") is None  # no offset: not ours
    assert reminders.parse_key(None) is None


# --- when a reminder goes, and how often ----------------------------------------------------------------------


def test_reminder_is_queued_when_due_and_delivered_once(option, therapist, mailoutbox):
    appointment = book(option, therapist)

    assert run_job(DAY_BEFORE - timedelta(minutes=1)).queued == 0
    assert run_job(DAY_BEFORE).queued == 1
    assert run_job(DAY_BEFORE + timedelta(minutes=5)).queued == 0

    [email] = mailoutbox
    assert email.to == ["jordan@example.com"]
    assert email.subject == "Reminder: Wednesday 9 December at 10:00 AM – Mo Therapy"
    assert "Wednesday 9 December 2026, 10:00 AM to 11:00 AM" in email.body
    assert "Alex Moreau" in email.body
    assert appointment.manage_token in email.body
    [message] = reminder_rows()
    assert message.status == Status.SENT
    assert message.channel == OutboundMessage.Channel.EMAIL
    assert message.dedupe_key == f"reminder:{appointment.pk}:24h:2026-12-09T15:00:00+00:00:email"


def test_the_periodic_task_queues_and_sends_reminders_every_five_minutes(option, therapist, mailoutbox):
    book(option, therapist)
    schedule = tasks.send_reminders.task_class()
    assert schedule.validate_datetime(datetime(2026, 12, 8, 15, 5))
    assert not schedule.validate_datetime(datetime(2026, 12, 8, 15, 3))

    with time_machine.travel(DAY_BEFORE + timedelta(minutes=2), tick=False):
        tasks.send_reminders.call_local()
        tasks.send_reminders.call_local()

    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject.startswith("Reminder:")


def test_repeated_and_late_runs_queue_one_reminder(option, therapist, mailoutbox):
    book(option, therapist)

    # The worker was down at 10:00 on Tuesday; it comes back at 14:00 and then runs every five minutes.
    runs = [run_job(DAY_BEFORE + timedelta(hours=4, minutes=5 * n)) for n in range(4)]

    assert [run.queued for run in runs] == [1, 0, 0, 0]
    assert [run.already_queued for run in runs] == [0, 1, 1, 1]
    assert len(mailoutbox) == 1


def test_a_run_that_looked_before_another_committed_is_stopped_by_the_unique_key(
    option, therapist, mailoutbox, monkeypatch
):
    """Two runs at the same moment both find nothing queued; the dedupe key lets only the first write."""
    book(option, therapist, text=True)
    assert queue_only(DAY_BEFORE).queued == 2  # the email and the text

    monkeypatch.setattr(reminders, "_already_queued", lambda keys: set())
    second = queue_only(DAY_BEFORE)

    assert (second.queued, second.lost_race) == (0, 2)
    assert len(reminder_rows()) == 2


def test_a_late_run_sends_the_24_hour_reminder_while_the_2_hour_one_is_not_due(
    option, therapist, two_reminders, mailoutbox
):
    book(option, therapist)

    run_job(SESSION - timedelta(hours=3))

    [message] = reminder_rows()
    assert ":24h:" in message.dedupe_key
    assert len(mailoutbox) == 1


def test_a_late_run_never_sends_the_24_hour_reminder_after_the_2_hour_one_was_due(
    option, therapist, two_reminders, mailoutbox
):
    book(option, therapist)

    # Down from Tuesday morning until 90 minutes before the session.
    run_job(SESSION - timedelta(minutes=90))
    run_job(SESSION - timedelta(minutes=85))

    [message] = reminder_rows()
    assert ":2h:" in message.dedupe_key
    assert len(mailoutbox) == 1


def test_a_24_hour_reminder_still_waiting_when_the_2_hour_one_is_due_is_not_sent(
    option, therapist, two_reminders, mailoutbox
):
    book(option, therapist)
    queue_only(DAY_BEFORE)  # queued, then the worker stopped before sending it

    run_job(SESSION - timedelta(minutes=90))

    day_before, two_hours = reminder_rows()
    assert day_before.status == Status.SKIPPED
    assert "2 hours reminder was due" in day_before.last_error
    assert two_hours.status == Status.SENT
    assert len(mailoutbox) == 1


def test_the_second_reminder_goes_when_the_clinic_has_one(option, therapist, two_reminders, mailoutbox):
    book(option, therapist)

    for at in (DAY_BEFORE, DAY_BEFORE + timedelta(hours=1), SESSION - timedelta(hours=2), SESSION - timedelta(hours=1)):
        run_job(at)

    assert [":24h:" in m.dedupe_key for m in reminder_rows()] == [True, False]
    assert [":2h:" in m.dedupe_key for m in reminder_rows()] == [False, True]
    assert len(mailoutbox) == 2


def test_no_reminder_right_after_booking_inside_the_reminder_window(option, therapist, two_reminders, mailoutbox):
    """Booked on Tuesday afternoon for Wednesday morning: the confirmation says it all; the 2-hour one still goes."""
    booked_at = DAY_BEFORE + timedelta(hours=6)
    book(option, therapist, at=booked_at)

    assert run_job(booked_at + timedelta(minutes=5)).queued == 0
    assert run_job(SESSION - timedelta(hours=2)).queued == 1
    assert len(mailoutbox) == 1


# --- none for appointments that will not happen, have started, or whose patient said no -------------------------


def test_no_reminder_for_a_cancelled_appointment(option, therapist, mailoutbox):
    appointment = book(option, therapist)
    services.appointment_cancel(appointment=appointment, now=NOW, actor=SYSTEM)

    assert run_job(DAY_BEFORE).queued == 0
    assert reminder_emails(mailoutbox) == []


def test_a_reminder_queued_before_a_cancellation_is_not_sent(option, therapist, mailoutbox):
    appointment = book(option, therapist)
    queue_only(DAY_BEFORE)
    services.appointment_cancel(appointment=appointment, now=DAY_BEFORE, actor=SYSTEM)

    deliver(DAY_BEFORE + timedelta(minutes=1))

    [message] = reminder_rows()
    assert message.status == Status.SKIPPED
    assert message.last_error == "The appointment was cancelled."
    assert reminder_emails(mailoutbox) == []


def test_no_reminder_once_the_session_has_started(option, therapist, mailoutbox):
    started = AppointmentFactory(therapist=therapist, service=option.service, start=NOW - timedelta(minutes=10))

    assert run_job(NOW).queued == 0
    assert not OutboundMessage.objects.filter(appointment=started).exists()


def test_a_reminder_still_waiting_at_the_start_is_not_sent(option, therapist, mailoutbox):
    book(option, therapist)
    queue_only(DAY_BEFORE)

    deliver(SESSION + timedelta(minutes=1))

    [message] = reminder_rows()
    assert (message.status, message.last_error) == (Status.SKIPPED, "The session had already started.")
    assert mailoutbox == []


def test_no_reminder_for_a_completed_or_no_show_appointment(option, therapist, mailoutbox):
    for status in (Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW):
        AppointmentFactory(therapist=TherapistFactory(), service=option.service, start=SESSION, status=status)

    assert run_job(DAY_BEFORE).queued == 0


def test_no_reminder_for_a_patient_who_stopped_them(option, therapist, mailoutbox, texts):
    appointment = book(option, therapist, text=True)
    Patient.objects.filter(pk=appointment.patient_id).update(reminders_stopped_at=NOW)

    assert run_job(DAY_BEFORE).queued == 0
    assert (mailoutbox, texts) == ([], [])


def test_a_reminder_queued_before_the_patient_stopped_them_is_not_sent(option, therapist, mailoutbox, texts):
    appointment = book(option, therapist, text=True)
    queue_only(DAY_BEFORE)
    reminders.stop_reminders(patient=appointment.patient, now=DAY_BEFORE)

    deliver(DAY_BEFORE + timedelta(minutes=1))

    assert {m.last_error for m in reminder_rows()} == {"The patient stopped reminders."}
    assert (mailoutbox, texts) == ([], [])


# --- a move re-arms reminders ----------------------------------------------------------------------------------


def test_a_move_rearms_reminders_for_the_new_time_and_skips_the_old_one(option, therapist, mailoutbox):
    appointment = book(option, therapist)
    queue_only(DAY_BEFORE)  # the reminder for Wednesday is queued...
    new_start = datetime(2026, 12, 10, 14, 0, tzinfo=TORONTO)
    moved_at = DAY_BEFORE + timedelta(minutes=1)
    services.appointment_move(appointment=appointment, start=new_start, now=moved_at, actor=SYSTEM, notify=False)

    deliver(moved_at + timedelta(minutes=1))  # ...and not sent, for the session is no longer then
    [old] = reminder_rows()
    assert old.status == Status.SKIPPED
    assert "moved" in old.last_error
    assert run_job(moved_at + timedelta(minutes=5)).queued == 0  # Thursday's reminder is not due yet

    assert run_job(new_start - timedelta(hours=24)).queued == 1

    [email] = mailoutbox
    assert "Thursday 10 December 2026, 2:00 PM" in email.body
    new = reminder_rows()[-1]
    assert new.dedupe_key == f"reminder:{appointment.pk}:24h:2026-12-10T19:00:00+00:00:email"
    assert new.status == Status.SENT


# --- texts -------------------------------------------------------------------------------------------------------


def test_a_text_goes_to_patients_who_asked_for_texts_only(option, therapist, second_therapist, mailoutbox, texts):
    book(option, therapist, text=True)
    book(option, second_therapist, text=False, email="sam@example.com")

    run_job(DAY_BEFORE)

    [text] = texts
    assert text.to == "+14165550199"
    assert text.body.strip() == (
        "Mo Therapy: reminder of your appointment with Alex Moreau on Wed 9 Dec at 10:00 AM. "
        "To change it, call 416-555-0134. Reply STOP to stop reminders."
    )
    assert len(text.body) <= 160
    assert sorted(email.to[0] for email in mailoutbox) == ["jordan@example.com", "sam@example.com"]
    assert {m.channel for m in reminder_rows()} == {"email", "sms"}


# --- the unsubscribe link ------------------------------------------------------------------------------------


def test_every_reminder_email_carries_a_working_stop_link(client, option, therapist, mailoutbox):
    appointment = book(option, therapist)
    run_job(DAY_BEFORE)
    [email] = mailoutbox
    url = re.search(r"http://127\.0\.0\.1:8000(/reminders/stop/[^/\s]+/)", email.body)
    assert url is not None
    html = email.alternatives[0][0]
    assert url.group(1) in html

    page = client.get(url.group(1))
    assert page.status_code == 200
    assert b"Stop my reminders" in page.content
    assert client.post(url.group(1)).status_code == 200

    appointment.patient.refresh_from_db()
    assert appointment.patient.reminders_stopped_at is not None
    next_week = SESSION + timedelta(days=7)
    later = AppointmentFactory(
        patient=appointment.patient, therapist=therapist, service=option.service, start=next_week
    )
    assert run_job(later.start - timedelta(hours=24)).queued == 0


# --- reads stay constant ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("appointments", [2, 12])
def test_a_run_reads_in_a_constant_number_of_queries(appointments, option, mailoutbox, django_assert_num_queries):
    start = datetime(2026, 12, 9, 9, 0, tzinfo=TORONTO)
    for number in range(appointments):
        patient = PatientFactory(text_reminders=number % 2 == 0)
        AppointmentFactory(patient=patient, therapist=TherapistFactory(), service=option.service, start=start)
    first = reminders.queue_due_reminders(start - timedelta(hours=1))
    assert first.queued == appointments + (appointments + 1) // 2

    # settings, the candidates (with their last announcement), the keys already queued: whatever the count
    with django_assert_num_queries(3):
        again = reminders.queue_due_reminders(start - timedelta(minutes=55))
    assert again.already_queued == first.queued


def test_each_new_reminder_costs_only_its_insert(option, django_assert_num_queries):
    start = datetime(2026, 12, 9, 9, 0, tzinfo=TORONTO)
    for _ in range(5):
        AppointmentFactory(therapist=TherapistFactory(), service=option.service, start=start)

    # 3 reads, then per appointment: its transaction's savepoint, the savepoint around the insert, the insert,
    # and their two releases.
    with django_assert_num_queries(3 + 5 * 5):
        assert reminders.queue_due_reminders(start - timedelta(hours=1)).queued == 5


# --- two workers on PostgreSQL -----------------------------------------------------------------------------------


def _in_thread(work, results: list, errors: list):
    def target():
        try:
            results.append(work())
        except BaseException as error:  # reported by the test's thread
            errors.append(error)
        finally:
            connection.close()

    return threading.Thread(target=target)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_reminder_exactly_once(postgres_only, clinic, monkeypatch, mailoutbox, texts):
    """Two workers run the job at the same moment over many due appointments, and each reminder goes once.

    Both workers are made to look for queued reminders before either writes (a barrier after the look-up), so
    the duplicates are really attempted: the unique dedupe key turns away every second write. Both then list
    the same due messages before either sends (a barrier after the listing): the row-locked claim (skip_locked,
    re-checking the status) gives each message to one worker only.
    """
    now = NOW
    count = 12
    start = now + timedelta(hours=20)
    for number in range(count):
        patient = PatientFactory(text_reminders=number % 3 == 0, phone=f"416-555-{1000 + number}")
        AppointmentFactory(patient=patient, start=start + timedelta(minutes=number))
    expected_texts = len(range(0, count, 3))
    expected = count + expected_texts

    looked, listed = threading.Barrier(2, timeout=30), threading.Barrier(2, timeout=30)
    look, list_due, send = reminders._already_queued, delivery.due_ids, delivery.deliver

    def look_then_wait(keys):
        found = look(keys)
        looked.wait()
        return found

    def list_then_wait(at, limit=delivery.BATCH):
        ids = list_due(at, limit)
        listed.wait()
        return ids

    claims_lost = []

    def send_counting(message_id, at):
        status = send(message_id, at)
        if status is None:
            claims_lost.append(message_id)
        return status

    monkeypatch.setattr(reminders, "_already_queued", look_then_wait)
    monkeypatch.setattr(delivery, "due_ids", list_then_wait)
    monkeypatch.setattr(delivery, "deliver", send_counting)

    def worker():
        run = reminders.queue_due_reminders(now)
        delivery.deliver_due(now)
        return run

    results: list = []
    errors: list = []
    threads = [_in_thread(worker, results, errors) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors

    assert len(mailoutbox) == count
    assert len({email.to[0] for email in mailoutbox}) == count
    assert len(texts) == expected_texts
    assert len({text.to for text in texts}) == expected_texts
    assert sorted(OutboundMessage.objects.values_list("attempts", "status")) == [(1, Status.SENT)] * expected
    # Which guard stopped the duplicates: every reminder was written by one worker and refused to the other by the
    # unique key, and every message was claimed by one worker and not by the other.
    assert sum(run.queued for run in results) == expected
    assert sum(run.lost_race for run in results) == expected
    assert len(claims_lost) == expected
