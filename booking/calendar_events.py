"""EventCalendar's JSON for the staff calendars: events and resources built from booking.selectors.calendar_range.

Shared by the front desk calendar (every therapist) and a therapist's own schedule (one column). Pure.
Times are the clinic's wall clock without an offset ("2026-12-08T10:00:00"), which EventCalendar shows as
they are, so a calendar reads the clinic's time whatever the time zone of the computer or phone showing it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from booking import availability, lifecycle
from booking.availability import Interval
from booking.models import Appointment
from booking.selectors import CalendarRange
from therapists.models import Therapist, TimeOff

Event = dict[str, Any]


def wall_clock(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S")


def appointment_event(appointment: Appointment, tz: tzinfo, *, editable: bool = True) -> Event:
    """One appointment; with `editable` off it cannot be dragged, whatever its status."""
    first_visit = bool(getattr(appointment, "first_visit", False))
    has_note = bool(appointment.patient_note.strip())
    marks = (" · first visit" if first_visit else "") + (" · note" if has_note else "")
    title = f"{appointment.patient.name} · {appointment.service.name} · {appointment.duration_minutes} min{marks}"
    return {
        "id": str(appointment.pk),
        "resourceIds": [str(appointment.therapist_id)],
        "start": wall_clock(appointment.start, tz),
        "end": wall_clock(appointment.end, tz),
        "title": title,
        "status": appointment.status,
        "classNames": ["appointment", f"status-{appointment.status.replace('_', '-')}"],
        "editable": editable and appointment.status in lifecycle.LIVE,
        "extendedProps": {
            "kind": "appointment",
            "status": appointment.status,
            "statusLabel": appointment.get_status_display(),
            "patient": appointment.patient.name,
            "therapist": appointment.therapist.name,
            "service": appointment.service.name,
            "minutes": appointment.duration_minutes,
            "firstVisit": first_visit,
            "hasNote": has_note,
        },
    }


def _background(therapist_id: int, start: datetime, end: datetime, tz: tzinfo, kind: str, label: str) -> Event:
    return {
        "id": f"{kind}-{therapist_id}-{int(start.timestamp())}",
        "resourceIds": [str(therapist_id)],
        "start": wall_clock(start, tz),
        "end": wall_clock(end, tz),
        "title": label,
        "display": "background",
        "classNames": [kind],
        "extendedProps": {"kind": kind},
    }


def closed_times(
    therapist_id: int, weekly: dict[int, list], first_day: date, last_day: date, tz: tzinfo
) -> list[Interval]:
    """The parts of each local day, midnight to midnight, outside the therapist's working hours."""
    closed: list[Interval] = []
    day = first_day
    while day <= last_day:
        cursor = availability.local_midnight(day, tz)
        day_end = availability.local_midnight(day + timedelta(days=1), tz)
        for shift in availability.merge(availability.working_intervals(weekly, day, day, tz)):
            if shift.start > cursor:
                closed.append(Interval(cursor, shift.start))
            cursor = max(cursor, shift.end)
        if cursor < day_end:
            closed.append(Interval(cursor, day_end))
        day += timedelta(days=1)
    return closed


def time_off_event(time_off: TimeOff, tz: tzinfo) -> Event:
    label = f"Time off: {time_off.reason}" if time_off.reason else "Time off"
    return _background(time_off.therapist_id, time_off.start, time_off.end, tz, "time-off", label)


def feed(calendar: CalendarRange, first_day: date, last_day: date, tz: tzinfo, *, editable: bool = True) -> list[Event]:
    """Closed times, time off and appointments of every therapist shown, for days first to last (inclusive).

    With `editable` off (a therapist's read-only schedule) no appointment can be dragged.
    """
    events: list[Event] = []
    for therapist in calendar.therapists:
        weekly = calendar.weekly_hours.get(therapist.pk, {}) if therapist.active else {}
        for interval in closed_times(therapist.pk, weekly, first_day, last_day, tz):
            events.append(_background(therapist.pk, interval.start, interval.end, tz, "closed", "Closed"))
    events += [time_off_event(time_off, tz) for time_off in calendar.time_off]
    events += [appointment_event(appointment, tz, editable=editable) for appointment in calendar.appointments]
    return events


def resources(therapists: list[Therapist]) -> list[Event]:
    return [
        {
            "id": str(therapist.pk),
            "title": therapist.name if therapist.active else f"{therapist.name} (inactive)",
            "extendedProps": {"slug": therapist.slug, "initials": therapist.initials},
        }
        for therapist in therapists
    ]


def hour_floor(moment: time) -> str:
    """The hour a calendar's grid starts at to show `moment`: "09:00:00" for 9:30."""
    return f"{moment.hour:02d}:00:00"


def hour_ceiling(moment: time) -> str:
    """The hour a calendar's grid ends at to show `moment`: "18:00:00" for 17:30, "24:00:00" at most."""
    hour = moment.hour + (1 if (moment.minute or moment.second) else 0)
    return "24:00:00" if hour >= 24 else f"{hour:02d}:00:00"


def grid_options(first: time, last: time, now: datetime) -> dict[str, str]:
    """EventCalendar's grid for a calendar whose working hours run from `first` to `last`, at the clinic's `now`."""
    return {
        "slotMinTime": hour_floor(first),
        "slotMaxTime": hour_ceiling(last),
        # EventCalendar draws "now" in this offset; the events themselves are wall-clock times.
        "utcOffset": utc_offset(now),
    }


def utc_offset(moment: datetime) -> str:
    """`moment`'s offset as EventCalendar's timeZone option takes it ("-05:00"): where it draws "now"."""
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
