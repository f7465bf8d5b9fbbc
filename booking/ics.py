"""Calendar files (.ics) for an appointment, so patients can add it to their phone's calendar."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from booking.models import Appointment


def appointment_calendar(appointment: Appointment, *, clinic_name: str, address: str, manage_url: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", f"-//{clinic_name}//Online booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    # Stable and free of any secret: the private link's token never goes into a calendar.
    event.add("uid", f"visit-{appointment.pk}@{urlsplit(settings.SITE_URL).hostname or 'clinic-booking'}")
    # Rises with each move or cancellation, so a calendar that already holds the visit updates it.
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.start)
    event.add("dtend", appointment.end)
    event.add("summary", f"{appointment.service.name} with {appointment.therapist.name}")
    event.add("location", f"{clinic_name}, {address}" if address else clinic_name)
    event.add("description", f"Manage or cancel: {manage_url}")
    event.add("url", manage_url)
    event.add("status", "CANCELLED" if appointment.status == Appointment.Status.CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
