"""The front desk's time off form: a therapist, from and to on the clinic's clock (or whole days), and a reason."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from django import forms

from booking.availability import local_midnight, wall_to_aware
from therapists.models import Therapist

# Far enough for any holiday, near enough that a mistyped year is caught here.
MAX_YEARS_AHEAD = 5
MAX_CONFIRMED = 500


class TimeOffForm(forms.Form):
    therapist = forms.ModelChoiceField(
        queryset=Therapist.objects.none(),
        empty_label="Choose a therapist",
        error_messages={"required": "Choose a therapist."},
    )
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
    confirm_stranded = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, tz: tzinfo, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz
        self.today = today
        self.fields["therapist"].queryset = Therapist.objects.active().order_by("order", "name", "pk")  # type: ignore[attr-defined]

    def clean_confirm_stranded(self) -> set[int]:
        """The appointments shown and accepted; anything unreadable counts as none, so the list is shown again."""
        raw = self.cleaned_data.get("confirm_stranded") or ""
        parts = [part for part in raw.split(",") if part]
        if len(parts) > MAX_CONFIRMED or not all(part.isdigit() and len(part) < 12 for part in parts):
            return set()
        return {int(part) for part in parts}

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
