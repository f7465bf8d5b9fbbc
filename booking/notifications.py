"""Emails to patients about their appointments, sent after the booking transaction commits."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from icalendar import Calendar

from booking.ics import appointment_calendar
from booking.models import Appointment
from clinic.models import ClinicSettings

logger = logging.getLogger(__name__)


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _send(appointment_id: int, template: str, subject: str) -> None:
    appointment = Appointment.objects.select_related("patient", "therapist", "service").get(pk=appointment_id)
    clinic = ClinicSettings.load()
    manage_url = site_url(appointment.private_link_path())
    context = {
        "appointment": appointment,
        "clinic": clinic,
        "manage_url": manage_url,
        "book_url": site_url(reverse("book")),
        "local_start": appointment.start.astimezone(clinic.tz),
        "local_end": appointment.end.astimezone(clinic.tz),
    }
    message = EmailMessage(
        subject=f"{subject} – {clinic.name}",
        body=render_to_string(template, context),
        to=[appointment.patient.email],
        reply_to=[clinic.email] if clinic.email else None,
    )
    message.attach(
        "appointment.ics",
        appointment_calendar(appointment, clinic_name=clinic.name, address=clinic.address, manage_url=manage_url),
        "text/calendar",
    )
    try:
        message.send()
    except OSError:
        # The booking stands whatever the mail server does; the manage page has everything.
        logger.exception("Could not send %s email for appointment %s", template, appointment_id)


def send_booking_confirmation(appointment_id: int) -> None:
    _send(appointment_id, "booking/email/confirmation.txt", "Your appointment is booked")


def send_reschedule_notice(appointment_id: int) -> None:
    _send(appointment_id, "booking/email/rescheduled.txt", "Your appointment has moved")


def send_cancellation_notice(appointment_id: int) -> None:
    _send(appointment_id, "booking/email/cancelled.txt", "Your appointment is cancelled")


def send_series_confirmation(appointment_ids: list[int]) -> None:
    """One email for a treatment plan booked at once: every session with its own private link, one calendar file."""
    appointments = list(
        Appointment.objects.select_related("patient", "therapist", "service")
        .filter(pk__in=appointment_ids)
        .order_by("start", "pk")
    )
    if not appointments:
        return
    clinic = ClinicSettings.load()
    sessions = [
        {
            "appointment": appointment,
            "local_start": appointment.start.astimezone(clinic.tz),
            "local_end": appointment.end.astimezone(clinic.tz),
            "manage_url": site_url(appointment.private_link_path()),
        }
        for appointment in appointments
    ]
    patient = appointments[0].patient
    context = {"patient": patient, "sessions": sessions, "clinic": clinic, "book_url": site_url(reverse("book"))}
    message = EmailMessage(
        subject=f"Your {len(sessions)} appointments are booked – {clinic.name}",
        body=render_to_string("booking/email/series_confirmation.txt", context),
        to=[patient.email],
        reply_to=[clinic.email] if clinic.email else None,
    )
    files = [
        Calendar.from_ical(
            appointment_calendar(
                session["appointment"],
                clinic_name=clinic.name,
                address=clinic.address,
                manage_url=session["manage_url"],
            )
        )
        for session in sessions
    ]
    calendar = files[0]
    for other in files[1:]:
        for event in other.walk("VEVENT"):
            calendar.add_component(event)
    message.attach("appointments.ics", calendar.to_ical(), "text/calendar")
    try:
        message.send()
    except OSError:
        logger.exception("Could not send the series confirmation for appointments %s", appointment_ids)
