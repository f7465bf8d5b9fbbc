"""The schedule's query parameters and its one form, checked before anything is read or written."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms

from booking.calendar_query import DayRangeForm
from booking.lifecycle import STATUS_ACTIONS

# Far enough for any look back or ahead; it keeps every day shown, and its neighbours, well inside the calendar.
MAX_YEARS = 10

DATE_FORMAT_MESSAGE = "Give the date as year-month-day, for example 2026-12-08."


def _within_reach(day: datetime.date, today: datetime.date) -> None:
    if abs((day - today).days) > 366 * MAX_YEARS:
        raise forms.ValidationError(f"Choose a day within {MAX_YEARS} years of today.")


class ScheduleDayForm(forms.Form):
    """`?date=YYYY-MM-DD`: the day the agenda shows, or the first day of the week; `default` when missing."""

    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"], error_messages={"invalid": DATE_FORMAT_MESSAGE})

    # In this class `date` is the field, so the types are spelled out.
    def __init__(self, *args, today: datetime.date, default: datetime.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.default = default

    def clean_date(self) -> datetime.date:
        day = self.cleaned_data.get("date") or self.default
        _within_reach(day, self.today)
        return day


class ScheduleRangeForm(DayRangeForm):
    """The front desk feed's range (booking.calendar_query), with the schedule's wording and its reach in years."""

    start = forms.DateField(input_formats=["%Y-%m-%d"], error_messages={"invalid": DATE_FORMAT_MESSAGE})
    end = forms.DateField(input_formats=["%Y-%m-%d"], error_messages={"invalid": DATE_FORMAT_MESSAGE})

    def __init__(self, *args, today: datetime.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        # Far from today is refused first, and alone: the range's own checks only for a start within reach.
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        if start is not None and end is not None:
            try:
                _within_reach(start, self.today)
            except forms.ValidationError as error:
                self.add_error("start", error)
                return self.cleaned_data
        return super().clean()


class StatusForm(forms.Form):
    """The status buttons of an appointment: check in, completed, no-show. Nothing else is changed here."""

    action = forms.ChoiceField(
        choices=[(action.value, action.label) for action in STATUS_ACTIONS],
        error_messages={
            "required": "Choose one of the status buttons.",
            "invalid_choice": "Choose one of the status buttons.",
        },
    )
