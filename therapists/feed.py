"""A therapist's private calendar feed: their appointments as an iCalendar file a phone's calendar subscribes to.

The link opens without a login and its copies end up in phone calendars and cloud accounts, so each entry
shows as little as a therapist needs to plan the day: the patient's first name and last initial, the service
and the length. Never notes, contact details or the patient's private link (booking.selectors.feed_appointments
does not even load them).

Times carry the clinic's zone (a VTIMEZONE and DTSTART;TZID=...), so a phone shows the clinic's wall clock on
clock-change days too. UIDs are the appointment's number and the site's host: stable between fetches, and no
secret in them. SEQUENCE is the appointment's own counter, which booking.services raises on a move, a
cancellation and a restored cancellation, so calendar apps replace what they hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from icalendar import Calendar, Event, Timezone, vDuration

from booking import availability
from booking.models import Appointment
from clinic.models import ClinicSettings
from therapists.models import Therapist

DAYS_BACK = 7
# How often calendar apps that honour the hint fetch the feed again (many decide for themselves).
REFRESH = timedelta(hours=1)
SEPARATOR = " · "


def feed_window(now: datetime, clinic: ClinicSettings) -> tuple[datetime, datetime]:
    """From the local midnight 7 days back to the end of the last day patients may book (the horizon)."""
    today = now.astimezone(clinic.tz).date()
    first = availability.local_midnight(today - timedelta(days=DAYS_BACK), clinic.tz)
    _, last = availability.booking_window(now=now, notice=timedelta(0), horizon_days=clinic.horizon_days, tz=clinic.tz)
    return first, last


def short_name(full_name: str) -> str:
    """First name and last initial: "Jordan Lee" gives "Jordan L."; a single name stays as it is."""
    parts = full_name.split()
    if not parts:
        return "Patient"
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0].upper()}."


def summary(appointment: Appointment) -> str:
    """ "Jordan L. · Myofascial release · 60 min"; a cancelled one says so, for apps that ignore STATUS."""
    text = SEPARATOR.join(
        [short_name(appointment.patient.name), appointment.service.name, f"{appointment.duration_minutes} min"]
    )
    return f"Cancelled: {text}" if appointment.status == Appointment.Status.CANCELLED else text


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "clinic-booking"


def event_uid(appointment: Appointment, host: str) -> str:
    return f"appointment-{appointment.pk}@{host}"


def _vtimezone(clinic: ClinicSettings, first: datetime, last: datetime) -> Timezone:
    # Whole years either side, so every clock change near the window is described, not only those inside it.
    return Timezone.from_tzid(
        clinic.time_zone, first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 2, 1, 1)
    )


def _event(appointment: Appointment, clinic: ClinicSettings, host: str) -> Event:
    cancelled = appointment.status == Appointment.Status.CANCELLED
    event = Event()
    event.add("uid", event_uid(appointment, host))
    # When the entry last changed, so two fetches of an unchanged appointment are identical.
    event.add("dtstamp", appointment.updated_at)
    event.add("created", appointment.created_at)
    event.add("last-modified", appointment.updated_at)
    event.add("sequence", appointment.sequence)
    event.add("dtstart", appointment.start.astimezone(clinic.tz))
    event.add("dtend", appointment.end.astimezone(clinic.tz))
    event.add("summary", summary(appointment))
    event.add("location", f"{clinic.name}, {clinic.address}" if clinic.address else clinic.name)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    # A cancelled session leaves the time free in the therapist's calendar.
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    event.add("class", "PRIVATE")
    return event


def therapist_calendar(
    *,
    therapist: Therapist,
    appointments: Sequence[Appointment],
    clinic: ClinicSettings,
    window: tuple[datetime, datetime],
) -> bytes:
    """The feed's body: the clinic's VTIMEZONE, then one VEVENT per appointment, in the order given."""
    host = site_host()
    calendar = Calendar()
    calendar.add("prodid", f"-//{clinic.name}//Therapist schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{clinic.name}: {therapist.name}")
    calendar.add("x-wr-timezone", clinic.time_zone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    calendar.add_component(_vtimezone(clinic, *window))
    for appointment in appointments:
        calendar.add_component(_event(appointment, clinic, host))
    return calendar.to_ical()
