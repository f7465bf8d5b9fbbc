"""Time off as people type it and read it: whole days, or from a time to a time, on the clinic's clock.

`TimeOffTimesForm` turns the fields into aware `start` and `end` datetimes. The therapist's own time off page
uses it (`OwnTimeOffForm`); the front desk's form adds the therapist and the confirmation of stranded
appointments. `when_text` says a time off back in words, for both.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django import forms
from django.utils.formats import date_format

from booking.availability import local_midnight, wall_to_aware

# Far enough for any holiday, near enough that a mistyped year is caught here.
MAX_YEARS_AHEAD = 5


def _is_midnight(moment: datetime) -> bool:
    return moment.time() == time.min


def when_text(start: datetime, end: datetime, tz: tzinfo) -> str:
    """Time off in words on the clinic's clock: whole days as days, anything else with its times."""
    start, end = start.astimezone(tz), end.astimezone(tz)
    if _is_midnight(start) and _is_midnight(end):
        last = end.date() - timedelta(days=1)
        if last == start.date():
            return f"{date_format(start, 'D j M Y')}, all day"
        return f"{date_format(start, 'D j M')} – {date_format(last, 'D j M Y')}, all day"
    if start.date() == end.date():
        return f"{date_format(start, 'D j M Y')}, {date_format(start, 'H:i')}–{date_format(end, 'H:i')}"
    return f"{date_format(start, 'D j M, H:i')} – {date_format(end, 'D j M Y, H:i')}"


class TimeOffTimesForm(forms.Form):
    start_date = forms.DateField(
        label="First day",
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Give the first day.", "invalid": "Give the first day as a date."},
    )
    start_time = forms.TimeField(
        label="Start time", required=False, widget=forms.TimeInput({"type": "time"}, format="%H:%M")
    )
    end_date = forms.DateField(
        label="Last day",
        required=False,
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Give the last day as a date."},
    )
    end_time = forms.TimeField(
        label="End time", required=False, widget=forms.TimeInput({"type": "time"}, format="%H:%M")
    )
    reason = forms.CharField(
        max_length=200,
        required=False,
        help_text="For the front desk only, e.g. “Course” or “Dentist”.",
    )

    def __init__(self, *args, tz: tzinfo, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz
        self.today = today

    def _check_day(self, name: str) -> date | None:
        day = self.cleaned_data.get(name)
        if day is None:
            return None
        latest = self.today + timedelta(days=366 * MAX_YEARS_AHEAD)
        if day > latest or day < self.today - timedelta(days=366):
            self.add_error(name, f"Choose a date between a year ago and {MAX_YEARS_AHEAD} years ahead.")
            return None
        return day

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        first_day = self._check_day("start_date")
        last_day = self._check_day("end_date") if cleaned.get("end_date") else first_day
        start_time, end_time = cleaned.get("start_time"), cleaned.get("end_time")
        if first_day is None or last_day is None or self.has_error("start_time") or self.has_error("end_time"):
            return cleaned
        if last_day < first_day:
            self.add_error("end_date", "The last day must not be before the first.")
            return cleaned
        if (start_time is None) != (end_time is None):
            missing = "end_time" if end_time is None else "start_time"
            self.add_error(missing, "Give both times, or leave both empty for whole days.")
            return cleaned
        if start_time is None or end_time is None:
            start = local_midnight(first_day, self.tz)
            end = local_midnight(last_day + timedelta(days=1), self.tz)
        else:
            start = wall_to_aware(datetime.combine(first_day, start_time), self.tz)
            end = wall_to_aware(datetime.combine(last_day, end_time), self.tz)
            if end <= start:
                self.add_error("end_time", "The end must be after the start.")
                return cleaned
        cleaned["start"], cleaned["end"] = start, end
        cleaned["whole_days"] = start_time is None
        return cleaned


class OwnTimeOffForm(TimeOffTimesForm):
    """A therapist's own time off, on their schedule."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = "Seen by the front desk and the managers only, e.g. “Course” or “Dentist”."
