"""Queue messages: called by booking.services inside the transaction that makes the change.

Each function renders the message now (so it says what was true when the change was made) and writes it as
an OutboundMessage row. Nothing here talks to a mail server: the worker (notifications.tasks) sends the rows
after the transaction commits, and a rolled-back change takes its messages with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from icalendar import Calendar

from booking.ics import appointment_calendar
from booking.models import Appointment
from clinic.models import ClinicSettings
from notifications.models import OutboundMessage

Kind = OutboundMessage.Kind

# What each message about one appointment says, and whether the calendar file goes with it.
APPOINTMENT_MESSAGES: dict[str, tuple[str, str, bool]] = {
    Kind.CONFIRMATION: ("notifications/email/confirmation.txt", "Your appointment is booked", True),
    Kind.CHANGE: ("notifications/email/rescheduled.txt", "Your appointment has moved", True),
    Kind.CANCELLATION: ("notifications/email/cancelled.txt", "Your appointment is cancelled", False),
}


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("Messages are queued inside the transaction of the change that causes them.")


def wake_worker_after_commit() -> None:
    """Ask the worker to look at the outbox as soon as this transaction commits (it also looks every minute)."""
    from notifications import tasks

    transaction.on_commit(lambda: tasks.deliver_due_messages_now())


def appointment_context(appointment: Appointment, clinic: ClinicSettings) -> dict:
    return {
        "appointment": appointment,
        "clinic": clinic,
        "manage_url": site_url(appointment.private_link_path()),
        "book_url": site_url(reverse("book")),
        "local_start": appointment.start.astimezone(clinic.tz),
        "local_end": appointment.end.astimezone(clinic.tz),
    }


def queue_appointment_email(kind: str, appointment: Appointment, now: datetime) -> OutboundMessage:
    """The patient's email about one appointment (booked, moved or cancelled)."""
    _require_transaction()
    clinic = ClinicSettings.load()
    template, subject, with_calendar = APPOINTMENT_MESSAGES[kind]
    context = appointment_context(appointment, clinic)
    attachment = ""
    if with_calendar:
        attachment = appointment_calendar(
            appointment, clinic_name=clinic.name, address=clinic.address, manage_url=context["manage_url"]
        ).decode()
    message = OutboundMessage.objects.create(
        kind=kind,
        channel=OutboundMessage.Channel.EMAIL,
        recipient=appointment.patient.email,
        subject=f"{subject} – {clinic.name}",
        body_text=render_to_string(template, context),
        attachment_name="appointment.ics" if attachment else "",
        attachment=attachment,
        appointment=appointment,
        patient=appointment.patient,
        created_at=now,
        send_after=now,
    )
    wake_worker_after_commit()
    return message


def queue_series_confirmation(appointments: Sequence[Appointment], now: datetime) -> OutboundMessage:
    """One email for a treatment plan booked at once: every session with its own private link, one calendar file."""
    _require_transaction()
    clinic = ClinicSettings.load()
    ordered = sorted(appointments, key=lambda appointment: (appointment.start, appointment.pk))
    sessions = []
    calendar = Calendar()
    for appointment in ordered:
        manage_url = site_url(appointment.private_link_path())
        sessions.append(
            {
                "appointment": appointment,
                "local_start": appointment.start.astimezone(clinic.tz),
                "local_end": appointment.end.astimezone(clinic.tz),
                "manage_url": manage_url,
            }
        )
        file = Calendar.from_ical(
            appointment_calendar(appointment, clinic_name=clinic.name, address=clinic.address, manage_url=manage_url)
        )
        if not calendar.subcomponents:
            calendar = file
        else:
            for event in file.walk("VEVENT"):
                calendar.add_component(event)
    patient = ordered[0].patient
    context = {"patient": patient, "sessions": sessions, "clinic": clinic, "book_url": site_url(reverse("book"))}
    message = OutboundMessage.objects.create(
        kind=Kind.SERIES_CONFIRMATION,
        channel=OutboundMessage.Channel.EMAIL,
        recipient=patient.email,
        subject=f"Your {len(sessions)} appointments are booked – {clinic.name}",
        body_text=render_to_string("notifications/email/series_confirmation.txt", context),
        attachment_name="appointments.ics",
        attachment=calendar.to_ical().decode(),
        appointment=ordered[0],
        patient=patient,
        created_at=now,
        send_after=now,
    )
    wake_worker_after_commit()
    return message
