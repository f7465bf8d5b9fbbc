"""A short note to a therapist when their schedule changes soon: booked, moved, cancelled or restored within
the clinic's notice window (ClinicSettings.therapist_notice_hours, default 48) of the session.

Called by booking.services inside the transaction of the change, like every other message. The note names
the patient by first name and last initial only, and carries no contact details and no notes: it is an email,
and the schedule page behind its link is where the therapist sees more, after logging in. Nobody is told of a
change they made themselves, and a therapist without a login email is not told at all.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from django.urls import reverse
from django.utils.dateformat import format as date_format

from booking.actors import Actor
from booking.models import Appointment
from clinic.models import ClinicSettings
from notifications import outbox
from notifications.models import OutboundMessage
from therapists.models import Therapist


class Change(StrEnum):
    BOOKED = "booked"
    MOVED = "moved"
    CANCELLED = "cancelled"
    RESTORED = "restored"


def patient_label(name: str) -> str:
    """ "Jordan Lee" → "Jordan L.": enough for a therapist to know who, little enough for an email."""
    parts = name.split()
    if not parts:
        return "A patient"
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0].upper()}."


def _is_soon(moment: datetime, clinic: ClinicSettings, now: datetime) -> bool:
    return now <= moment <= now + clinic.therapist_notice_window


def _address(therapist: Therapist, actor: Actor) -> str:
    """Where to tell `therapist`, or "" when they have no login email or made the change themselves."""
    user = therapist.user
    if user is None or not user.is_active or not user.email:
        return ""
    if actor.therapist_id == therapist.pk or (actor.user is not None and actor.user.pk == user.pk):
        return ""
    return user.email


def _when(moment: datetime) -> str:
    return date_format(moment, "D j M") + " at " + date_format(moment, "H:i")


def queue_therapist_notice(
    *,
    change: Change,
    appointment: Appointment,
    now: datetime,
    actor: Actor,
    before_start: datetime | None = None,
    before_therapist: Therapist | None = None,
) -> list[OutboundMessage]:
    """Queue the notes `change` calls for (none, one, or two for a move between therapists); return them.

    For a move, pass where the appointment was: `before_start` and `before_therapist`. Each therapist is told
    when their own part of the change is soon: the one losing the session when its old time was, the one
    gaining it when its new time is; for a move within one schedule, when either time is.
    """
    clinic = ClinicSettings.load()
    if not clinic.therapist_notice_hours:
        return []
    tz = clinic.tz
    therapist = appointment.therapist
    label = patient_label(appointment.patient.name)
    start = appointment.start.astimezone(tz)
    context = {
        "patient_label": label,
        "service_name": appointment.service.name,
        "duration_minutes": appointment.duration_minutes,
        "local_start": start,
        "local_end": appointment.end.astimezone(tz),
        "before_start": None,
        "before_therapist": "",
        "after_therapist": "",
        "struck": change == Change.CANCELLED,
    }
    appointment_url = outbox.site_url(reverse("schedule:appointment", args=[appointment.pk]))
    # (therapist, headline, link, link label, extra context) for each therapist to tell.
    notes: list[tuple[Therapist, str, str, str, dict]] = []
    open_it = "Open it in your schedule"
    if change == Change.MOVED:
        if before_start is None or before_therapist is None:
            raise ValueError("a move needs before_start and before_therapist")
        old = before_start.astimezone(tz)
        moved = {"before_start": old}
        if before_therapist.pk != therapist.pk:
            if _is_soon(before_start, clinic, now):
                day_url = outbox.site_url(reverse("schedule:today") + f"?date={old.date().isoformat()}")
                notes.append(
                    (
                        before_therapist,
                        f"Moved to {therapist.name}: {label}, {_when(old)}",
                        day_url,
                        "See your day",
                        {**moved, "before_therapist": "you", "after_therapist": therapist.name},
                    )
                )
            if _is_soon(appointment.start, clinic, now):
                notes.append(
                    (
                        therapist,
                        f"New in your schedule: {label}, {_when(start)}",
                        appointment_url,
                        open_it,
                        {**moved, "before_therapist": before_therapist.name, "after_therapist": "you"},
                    )
                )
        elif before_start != appointment.start and (
            _is_soon(before_start, clinic, now) or _is_soon(appointment.start, clinic, now)
        ):
            notes.append((therapist, f"Moved: {label}, now {_when(start)}", appointment_url, open_it, moved))
    elif _is_soon(appointment.start, clinic, now):
        headline = {
            Change.BOOKED: f"New booking: {label}, {_when(start)}",
            Change.CANCELLED: f"Cancelled: {label}, {_when(start)}",
            Change.RESTORED: f"Back in your schedule: {label}, {_when(start)}",
        }[change]
        notes.append((therapist, headline, appointment_url, open_it, {}))

    queued = []
    for recipient, headline, link, link_label, extra in notes:
        address = _address(recipient, actor)
        if not address:
            continue
        subject = f"{headline} – {clinic.name}"[:200]
        message = outbox.queue(
            kind=OutboundMessage.Kind.STAFF_NOTICE,
            recipient=address,
            subject=subject,
            template="notifications/email/therapist_notice",
            context={
                **context,
                **extra,
                "therapist_name": recipient.name,
                "headline": headline,
                "subject": subject,
                "schedule_url": link,
                "link_label": link_label,
            },
            now=now,
            appointment=appointment,
        )
        if message is not None:
            queued.append(message)
    return queued
