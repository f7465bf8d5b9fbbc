"""What the staff calendars ask their feeds for: a range of local days, checked before anything is read.

Shared by the front desk's feed and a therapist's own week, as booking.calendar_events shares their JSON.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms

# A little over two months: any calendar view fits, and no request can ask the server for years of data.
MAX_DAYS = 62


class DayRangeForm(forms.Form):
    """`start` and `end` as YYYY-MM-DD, end exclusive, as EventCalendar and the feed contract use them."""

    start = forms.DateField(input_formats=["%Y-%m-%d"])
    end = forms.DateField(input_formats=["%Y-%m-%d"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None or end is None:
            return cleaned
        if end <= start:
            self.add_error("end", "The end must be after the start (the end day is not included).")
        elif end - start > timedelta(days=MAX_DAYS):
            self.add_error("end", f"Ask for at most {MAX_DAYS} days at a time.")
        else:
            cleaned["last_day"] = end - timedelta(days=1)
        return cleaned


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    """A form's errors as the feeds answer them: {"field": ["message", ...]}."""
    return {field: [error["message"] for error in errors] for field, errors in form.errors.get_json_data().items()}
