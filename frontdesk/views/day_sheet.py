"""The day sheet: one day's appointments per therapist, on the clinic's clock, made to be printed.

It reads the same calendar range as the front desk calendar, so it costs the
same fixed number of queries however many therapists and appointments there are.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from datetime import date, time, timedelta, tzinfo

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from booking import selectors
from booking.availability import Interval, local_midnight, merge, working_intervals
from booking.coverage import is_covered
from booking.models import Appointment
from booking.selectors import CalendarRange
from clinic.context_processors import clinic_for
from frontdesk.access import front_desk_required
from therapists.models import Therapist

# Wide enough for any planning or look-back; it keeps the neighbouring days' links within the calendar's range.
MAX_YEARS = 10


class DaySheetForm(forms.Form):
    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Give the date as year-month-day, for example 2026-12-08."},
    )

    # In this class `date` is the field, so the type is spelled out.
    def __init__(self, *args, today: datetime.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_date(self) -> datetime.date:
        day = self.cleaned_data.get("date") or self.today
        if abs((day - self.today).days) > 366 * MAX_YEARS:
            raise forms.ValidationError(f"Choose a day within {MAX_YEARS} years of today.")
        return day


@dataclass
class TimeOffNote:
    start: datetime.datetime
    end: datetime.datetime
    all_day: bool
    reason: str


@dataclass
class TherapistDay:
    therapist: Therapist
    hours: list[tuple[time, time]]
    time_off: list[TimeOffNote] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    # Appointments left without their therapist, to move or cancel: inside time off, or outside working hours.
    during_time_off: set[int] = field(default_factory=set)
    outside_hours: set[int] = field(default_factory=set)


def therapist_days(found: CalendarRange, day: date, tz: tzinfo) -> list[TherapistDay]:
    """Each therapist who works on `day` or has appointments then, in the calendar's order."""
    day_start = local_midnight(day, tz)
    day_end = local_midnight(day + timedelta(days=1), tz)
    sheets = {
        therapist.pk: TherapistDay(therapist, sorted(found.weekly_hours.get(therapist.pk, {}).get(day.weekday(), [])))
        for therapist in found.therapists
    }
    for appointment in found.appointments:
        sheets[appointment.therapist_id].appointments.append(appointment)
    time_off: dict[int, list[Interval]] = {}
    for entry in found.time_off:
        if entry.therapist_id in sheets:
            start, end = max(entry.start, day_start), min(entry.end, day_end)
            sheets[entry.therapist_id].time_off.append(
                TimeOffNote(start, end, start == day_start and end == day_end, entry.reason)
            )
            time_off.setdefault(entry.therapist_id, []).append(Interval(entry.start, entry.end))
    for sheet in sheets.values():
        weekly = found.weekly_hours.get(sheet.therapist.pk, {}) if sheet.therapist.active else {}
        working = merge(working_intervals(weekly, day - timedelta(days=1), day + timedelta(days=1), tz))
        off = merge(time_off.get(sheet.therapist.pk, []))
        for appointment in sheet.appointments:
            if not is_covered(appointment.start, appointment.end, working, []):
                sheet.outside_hours.add(appointment.pk)
            elif not is_covered(appointment.start, appointment.end, working, off):
                sheet.during_time_off.add(appointment.pk)
    return [sheet for sheet in sheets.values() if sheet.hours or sheet.appointments]


def _bad_date(request: HttpRequest, form: DaySheetForm, today: date) -> HttpResponse:
    errors = [error for errors in form.errors.values() for error in errors]
    return render(request, "frontdesk/day_sheet_bad_date.html", {"errors": errors, "today": today}, status=400)


@front_desk_required
@require_GET
def day_sheet(request: HttpRequest) -> HttpResponse:
    """GET ?date=YYYY-MM-DD (default: today in the clinic's zone)."""
    clinic = clinic_for(request)
    now = timezone.now()
    today = timezone.localdate(now, clinic.tz)
    form = DaySheetForm(request.GET, today=today)
    if not form.is_valid():
        return _bad_date(request, form, today)
    day = form.cleaned_data["date"]
    found = selectors.calendar_range(day, day, clinic)
    sheets = therapist_days(found, day, clinic.tz)
    context = {
        "day": day,
        "today": today,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "sheets": sheets,
        "appointment_count": sum(len(sheet.appointments) for sheet in sheets),
        "printed_at": now,
    }
    return render(request, "frontdesk/day_sheet.html", context)
