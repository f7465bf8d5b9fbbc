"""Queue messages: called by booking.services inside the transaction that makes the change.

Each function renders the message now (so it says what was true when the change was made) and writes it as
an OutboundMessage row. Nothing here talks to a mail server: the worker (notifications.tasks) sends the rows
after the transaction commits, and a rolled-back change takes its messages with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from booking.ics import appointment_calendar
from booking.models import Appointment
from clinic.models import ClinicSettings
from notifications.models import OutboundMessage

Kind = OutboundMessage.Kind

# What each message about one appointment says, and whether the calendar file goes with it.
APPOINTMENT_MESSAGES: dict[str, tuple[str, str, bool]] = {
    Kind.CONFIRMATION: ("notifications/email/confirmation", "Your appointment is booked", True),
    Kind.CHANGE: ("notifications/email/rescheduled", "Your appointment has moved", True),
    Kind.CANCELLATION: ("notifications/email/cancelled", "Your appointment is cancelled", False),
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


def render_optional(template: str, context: dict[str, Any]) -> str:
    """Render `template` if it exists (the HTML half of an email is optional), else ""."""
    try:
        get_template(template)
    except TemplateDoesNotExist:
        return ""
    return render_to_string(template, context)


def queue(
    *,
    kind: str,
    channel: str = OutboundMessage.Channel.EMAIL,
    recipient: str,
    template: str,
    context: dict[str, Any],
    now: datetime,
    subject: str = "",
    appointment: Appointment | None = None,
    patient: Any = None,
    attachment_name: str = "",
    attachment: str = "",
    send_after: datetime | None = None,
    dedupe_key: str | None = None,
) -> OutboundMessage | None:
    """Write one message to the outbox, rendered now from `<template>.txt` (and `<template>.html` if there is one).

    With a `dedupe_key`, a second message with the same key is not written and None is returned: that is what
    makes a reminder go at most once however many times, or on however many workers, its job runs.
    """
    _require_transaction()
    # A caller queueing many messages (the reminder job) passes the clinic in, so each costs no query for it.
    clinic = context.get("clinic") or ClinicSettings.load()
    context = {"clinic": clinic, "book_url": site_url(reverse("book")), **context}
    # Dates in the clinic's own time, whoever queues the message (a page, a command, the worker).
    with timezone.override(context["clinic"].tz):
        body_text = render_to_string(f"{template}.txt", context).strip() + "\n"
        is_email = channel == OutboundMessage.Channel.EMAIL
        body_html = render_optional(f"{template}.html", context) if is_email else ""
    message = OutboundMessage(
        kind=kind,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        attachment_name=attachment_name,
        attachment=attachment,
        appointment=appointment,
        patient=patient,
        created_at=now,
        send_after=send_after or now,
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        message.save()
    else:
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            return None
    wake_worker_after_commit()
    return message


def _written(message: OutboundMessage | None) -> OutboundMessage:
    if message is None:  # only a message with a dedupe key can be turned away
        raise RuntimeError("A message without a dedupe key was not written.")
    return message


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
    clinic = ClinicSettings.load()
    template, subject, with_calendar = APPOINTMENT_MESSAGES[kind]
    context = appointment_context(appointment, clinic)
    attachment = ""
    if with_calendar:
        attachment = appointment_calendar(
            appointment, clinic_name=clinic.name, address=clinic.address, manage_url=context["manage_url"]
        ).decode()
    message = queue(
        kind=kind,
        recipient=appointment.patient.email,
        subject=f"{subject} – {clinic.name}",
        template=template,
        context=context,
        now=now,
        appointment=appointment,
        patient=appointment.patient,
        attachment_name="appointment.ics" if attachment else "",
        attachment=attachment,
    )
    return _written(message)


def queue_series_confirmation(appointments: Sequence[Appointment], now: datetime) -> OutboundMessage:
    """One email for a treatment plan booked at once: every session with its own private link, one calendar file."""
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
    message = queue(
        kind=Kind.SERIES_CONFIRMATION,
        recipient=patient.email,
        subject=f"Your {len(sessions)} appointments are booked – {clinic.name}",
        template="notifications/email/series_confirmation",
        context={"patient": patient, "sessions": sessions},
        now=now,
        appointment=ordered[0],
        patient=patient,
        attachment_name="appointments.ics",
        attachment=calendar.to_ical().decode(),
    )
    return _written(message)
