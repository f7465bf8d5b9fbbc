"""The message log at /frontdesk/messages/: who may see it, its filters, a message's page, "Try again", the
failed count in the menu, an appointment's messages in its panel, and the queries each page makes."""

from datetime import datetime, timedelta
from smtplib import SMTPRecipientsRefused
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import services
from booking.actors import Actor
from booking.services import PatientDetails
from notifications import delivery
from notifications.models import OutboundMessage
from tests.conftest import NOW, staff_user
from tests.factories import AppointmentFactory, PatientFactory

TORONTO = ZoneInfo("America/Toronto")
Status = OutboundMessage.Status
Kind = OutboundMessage.Kind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):  # Monday 7 December, 08:00 in Toronto
        yield


@pytest.fixture
def appointment(therapist, service):
    return AppointmentFactory(
        therapist=therapist,
        service=service,
        start=datetime(2026, 12, 8, 10, tzinfo=TORONTO),
        patient=PatientFactory(name="Jordan Lee", email="jordan@example.com"),
    )


def message(appointment=None, **fields) -> OutboundMessage:
    defaults = {
        "kind": Kind.CONFIRMATION,
        "recipient": appointment.patient.email if appointment else "someone@example.com",
        "subject": "Your appointment is booked – Mo Therapy",
        "body_text": "Hello,\nSee, move or cancel: http://127.0.0.1:8000/appointments/abcdefghijklmnopqrstuvwxyz012345/\n",
        "appointment": appointment,
        "patient": appointment.patient if appointment else None,
        "created_at": NOW,
        "send_after": NOW,
    }
    return OutboundMessage.objects.create(**{**defaults, **fields})


def failed(appointment, reason="SMTPRecipientsRefused: 550 mailbox unavailable", **fields) -> OutboundMessage:
    return message(appointment, status=Status.FAILED, attempts=5, last_error=reason, **fields)


def log(client, **query):
    return client.get(reverse("frontdesk:messages"), query)


def listed(response) -> list[OutboundMessage]:
    return list(response.context["page"].object_list)


# --- who may see it ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["messages", "message", "message_retry"])
def test_anonymous_visitors_are_sent_to_log_in(client, appointment, name):
    sent = failed(appointment)
    url = reverse(f"frontdesk:{name}", args=[] if name == "messages" else [sent.pk])

    response = client.post(url) if name == "message_retry" else client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert OutboundMessage.objects.get().status == Status.FAILED


@pytest.mark.parametrize("name", ["messages", "message", "message_retry"])
def test_a_therapist_is_refused(client, appointment, name):
    client.force_login(staff_user("tina", "Therapist"))
    sent = failed(appointment)
    url = reverse(f"frontdesk:{name}", args=[] if name == "messages" else [sent.pk])

    response = client.post(url) if name == "message_retry" else client.get(url)

    assert response.status_code == 403
    assert OutboundMessage.objects.get().status == Status.FAILED


# --- the list -------------------------------------------------------------------------------------------------


def test_the_log_lists_newest_first_with_status_attempts_and_the_reason(desk_client, appointment):
    older = message(appointment, status=Status.SENT, attempts=1, sent_at=NOW, created_at=NOW - timedelta(days=1))
    newer = failed(appointment, reason="SMTPRecipientsRefused: 550 no such mailbox")

    response = log(desk_client)

    assert response.status_code == 200
    assert listed(response) == [newer, older]
    page = response.content.decode()
    assert "550 no such mailbox" in page
    assert "5 attempts" in page
    assert "Sun 6 Dec 2026, 08:00" in page  # the clinic's clock, not UTC (13:00)
    assert "Try again" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "failed"}, ["failed-one"]),
        ({"kind": "reminder"}, ["reminder"]),
        ({"channel": "sms"}, ["text"]),
        ({"q": "SAM@clinic"}, ["notice"]),  # part of a recipient's address, any case
        ({"q": "jordan lee"}, ["notice", "text", "reminder", "failed-one"]),  # the patient's name, notices too
        ({"q": "nobody"}, []),
        ({"status": "sent", "kind": "reminder"}, ["reminder"]),
    ],
)
def test_filters(desk_client, appointment, query, expected):
    other = AppointmentFactory(
        therapist=appointment.therapist,
        service=appointment.service,
        start=appointment.start + timedelta(days=2),
        patient=PatientFactory(name="Ana Silva", email="ana@example.com"),
    )
    rows = {
        "failed-one": failed(appointment, created_at=NOW - timedelta(minutes=4)),
        "reminder": message(appointment, kind=Kind.REMINDER, status=Status.SENT, created_at=NOW - timedelta(minutes=3)),
        "text": message(
            appointment,
            channel=OutboundMessage.Channel.SMS,
            recipient="+14165550199",
            status=Status.SENT,
            created_at=NOW - timedelta(minutes=2),
        ),
        "notice": message(
            appointment, kind=Kind.STAFF_NOTICE, recipient="sam@clinic.example", patient=None, created_at=NOW
        ),
        "ana": message(other, created_at=NOW - timedelta(minutes=10)),
    }
    names = {row.pk: name for name, row in rows.items()}

    response = log(desk_client, **query)

    assert response.status_code == 200
    assert [names[row.pk] for row in listed(response)] == expected


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"status": "lost"}, "Choose a status from the list."),
        ({"kind": "<script>"}, "Choose a kind of message from the list."),
        ({"channel": "fax"}, "Choose email or text message."),
        ({"q": "x" * 101}, "at most 100 characters"),
        ({"page": "two"}, "The page is a whole number."),
        ({"page": "0"}, "Pages start at 1."),
    ],
)
def test_bad_filters_are_a_400_with_a_message(desk_client, appointment, query, shown):
    failed(appointment)

    response = log(desk_client, **query)

    assert response.status_code == 400
    assert shown in response.content.decode()


def test_pages_keep_the_filters_and_a_page_past_the_end_shows_the_last(desk_client, appointment):
    for minute in range(30):
        failed(appointment, created_at=NOW - timedelta(minutes=minute))
    message(appointment, status=Status.SENT)

    first = log(desk_client, status="failed")
    beyond = log(desk_client, status="failed", page=99)

    assert len(listed(first)) == 25
    assert "?status=failed&amp;page=2" in first.content.decode()
    assert beyond.status_code == 200
    assert beyond.context["page"].number == 2
    assert len(listed(beyond)) == 5


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_log_makes_the_same_few_queries_for_3_or_40_messages(desk_client, appointment, therapist, service):
    url = reverse("frontdesk:messages") + "?q=e"
    for number in range(3):
        failed(appointment, created_at=NOW - timedelta(minutes=number))
    few = queries_for(desk_client, url)

    for number in range(37):
        other = AppointmentFactory(
            therapist=therapist, service=service, start=appointment.start + timedelta(days=number + 1)
        )
        message(other, kind=Kind.STAFF_NOTICE, patient=None, recipient=f"t{number}@clinic.example")
    many = queries_for(desk_client, url)

    assert few == many
    # session, user, role check ×2, menu counts ×2 (time off, failed messages), the page's count and its rows
    assert many <= 9


# --- one message ------------------------------------------------------------------------------------------------


def test_a_messages_page_shows_its_text_without_the_private_link_and_links_the_appointment(desk_client, appointment):
    sent = failed(appointment, body_html="<p>Hello <b>raw</b></p>", attachment_name="appointment.ics")

    response = desk_client.get(reverse("frontdesk:message", args=[sent.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "See, move or cancel: [private link]" in page
    assert "abcdefghijklmnopqrstuvwxyz012345" not in page  # the patient's token: staff pages never link to it
    assert "<b>raw</b>" not in page and "&lt;b&gt;" not in page  # the text part, not the HTML
    assert "550 mailbox unavailable" in page
    assert reverse("frontdesk:appointment", args=[appointment.pk]) in page
    assert reverse("frontdesk:patient", args=[appointment.patient_id]) in page
    assert "appointment.ics" in page


def test_an_unknown_message_is_a_404(desk_client, db):
    assert desk_client.get(reverse("frontdesk:message", args=[424242])).status_code == 404
    assert desk_client.post(reverse("frontdesk:message_retry", args=[424242])).status_code == 404


def test_a_messages_page_is_a_fixed_number_of_queries(desk_client, appointment, django_assert_max_num_queries):
    sent = failed(appointment)
    with django_assert_max_num_queries(8):
        desk_client.get(reverse("frontdesk:message", args=[sent.pk]))


# --- try again --------------------------------------------------------------------------------------------------


def fail_for_good(pk: int, error: Exception) -> None:
    """What the worker does to a message whose mail server keeps refusing it: try until it gives up (at once for a
    refusal for good, such as a 5xx to the address)."""
    with mock.patch("notifications.channels.send", side_effect=error):
        for attempt in range(delivery.MAX_ATTEMPTS):
            delivery.deliver(pk, NOW + timedelta(hours=attempt))


def test_try_again_puts_a_failed_message_back_and_the_worker_sends_it(
    desk_client, option, therapist, mailoutbox, django_capture_on_commit_callbacks
):
    patient = PatientDetails(name="Ana Silva", email="ana@example.com", phone="416-555-0199")
    booked = services.appointment_book(
        option=option,
        therapist=therapist,
        start=datetime(2026, 12, 9, 10, tzinfo=TORONTO),
        patient=patient,
        now=NOW,
        actor=Actor.system("tests"),
    )
    [confirmation] = OutboundMessage.objects.all()
    fail_for_good(confirmation.pk, SMTPRecipientsRefused({"ana@example.com": (550, b"mailbox unavailable")}))
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts) == (Status.FAILED, 1)
    assert "mailbox unavailable" in confirmation.last_error
    assert "1 failed" in log(desk_client).content.decode()  # the menu says so on every front desk page

    back = reverse("frontdesk:messages") + "?status=failed"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = desk_client.post(reverse("frontdesk:message_retry", args=[confirmation.pk]), {"next": back})

    assert response.status_code == 302
    assert response.url == back
    assert len(callbacks) == 1  # the worker is asked to look at the outbox; the page sends nothing itself
    assert mailoutbox == []
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts) == (Status.PENDING, 0)

    delivery.deliver_due(NOW + timedelta(minutes=1))  # the worker's turn

    confirmation.refresh_from_db()
    assert confirmation.status == Status.SENT
    [email] = mailoutbox
    assert email.to == ["ana@example.com"]
    assert booked.manage_token in email.body
    follow = desk_client.get(back)
    assert listed(follow) == []
    assert "No message matches these filters." in follow.content.decode()
    assert "failed</span>" not in follow.content.decode()


def test_try_again_on_a_skipped_message_too(desk_client, appointment):
    skipped = message(appointment, status=Status.SKIPPED, last_error="The appointment was cancelled.")

    desk_client.post(reverse("frontdesk:message_retry", args=[skipped.pk]))

    skipped.refresh_from_db()
    assert skipped.status == Status.PENDING


def test_try_again_on_a_sent_message_changes_nothing_and_says_why(desk_client, appointment):
    sent = message(appointment, status=Status.SENT, attempts=1, sent_at=NOW)

    response = desk_client.post(reverse("frontdesk:message_retry", args=[sent.pk]), follow=True)

    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == (Status.SENT, 1)
    assert "Only a failed or unsent message can be tried again" in response.content.decode()


def test_try_again_only_goes_back_to_our_own_pages_and_only_by_post(desk_client, appointment):
    sent = failed(appointment)
    url = reverse("frontdesk:message_retry", args=[sent.pk])

    assert desk_client.get(url).status_code == 405
    response = desk_client.post(url, {"next": "https://evil.example/"})
    assert response.url == reverse("frontdesk:message", args=[sent.pk])


def test_the_failed_count_in_the_menu_is_one_query_whatever_the_number(desk_client, appointment):
    url = reverse("frontdesk:day_sheet")
    none_failed = queries_for(desk_client, url)
    assert "failed</span>" not in desk_client.get(url).content.decode()
    for _ in range(5):
        failed(appointment)
    message(appointment, status=Status.SKIPPED)

    assert queries_for(desk_client, url) == none_failed
    assert "5 failed</span>" in desk_client.get(url).content.decode()


# --- the appointment panel ------------------------------------------------------------------------------------


def test_the_panel_lists_the_appointments_messages_with_a_retry_for_failures(desk_client, appointment):
    message(appointment, status=Status.SENT, sent_at=NOW, created_at=NOW - timedelta(hours=1))
    broken = failed(appointment, kind=Kind.CHANGE, reason="TimeoutError: timed out")
    message(kind=Kind.CONFIRMATION, recipient="someone.else@example.com")  # another appointment's: not listed

    response = desk_client.get(reverse("frontdesk:appointment", args=[appointment.pk]), HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert [m.pk for m in response.context["outbound_messages"]] == [broken.pk, broken.pk - 1]
    assert "TimeoutError: timed out" in page
    assert reverse("frontdesk:message_retry", args=[broken.pk]) in page
    assert reverse("frontdesk:message", args=[broken.pk]) in page
    assert "someone.else@example.com" not in page


def test_the_panel_makes_the_same_queries_for_1_or_15_messages(desk_client, appointment):
    url = reverse("frontdesk:appointment", args=[appointment.pk])
    message(appointment)
    one = queries_for(desk_client, url)
    for _ in range(14):
        failed(appointment)

    assert queries_for(desk_client, url) == one
    assert one <= 15
