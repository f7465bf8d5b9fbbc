"""Whether a queued message still makes sense when its turn comes: a reminder for a cancelled or moved
appointment, or one whose time has passed, is not sent. The worker marks such a message "not sent" with the
reason returned here, for staff to read in the message log.

Messages of other kinds always go ("" from `why_not_send`); a rule for a kind goes in a function of its own.
"""

from __future__ import annotations

from datetime import datetime

from booking import lifecycle
from booking.models import Appointment
from clinic.models import ClinicSettings
from notifications import reminders
from notifications.models import OutboundMessage


def why_not_send(message: OutboundMessage, now: datetime) -> str:
    """The reason not to send `message` now, or "" to send it."""
    if message.kind == OutboundMessage.Kind.REMINDER:
        return _reminder(message, now)
    return ""


def _hours(hours: int) -> str:
    return f"{hours} hour{'' if hours == 1 else 's'}"


def _reminder(message: OutboundMessage, now: datetime) -> str:
    """A reminder goes only for a live appointment, at the time it was written for, before the session starts,
    to a patient who still takes reminders (and texts, for a text), and only if no later reminder is due."""
    appointment = (
        Appointment.objects.select_related("patient").filter(pk=message.appointment_id).first()
        if message.appointment_id
        else None
    )
    if appointment is None:
        return "The appointment no longer exists."
    if appointment.status == Appointment.Status.CANCELLED:
        return "The appointment was cancelled."
    if appointment.status not in lifecycle.LIVE:
        return f"The appointment is already marked {appointment.get_status_display().lower()}."
    key = reminders.parse_key(message.dedupe_key)
    if key is not None and key.start != appointment.start:
        return "The appointment moved to another time since this reminder was written; its new time has its own."
    if now >= appointment.start:
        return "The session had already started."
    patient = appointment.patient
    if patient.reminders_stopped_at is not None:
        return "The patient stopped reminders."
    if message.channel == OutboundMessage.Channel.SMS and not reminders.text_number(patient):
        return "The patient no longer asks for text reminders."
    if key is not None:
        later = reminders.superseded_by(key=key, offsets=ClinicSettings.load().reminder_offsets, now=now)
        if later is not None:
            hours = int(later.total_seconds() // 3600)
            return f"Too late: the {_hours(hours)} reminder was due by now, not this {_hours(key.hours)} one."
    return ""
