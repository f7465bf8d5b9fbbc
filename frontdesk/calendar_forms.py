"""The front desk calendar page's query parameters (its feed's are booking.calendar_query's)."""

from __future__ import annotations

from django import forms


class CalendarPageForm(forms.Form):
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    view = forms.ChoiceField(required=False, choices=[("day", "Day"), ("week", "Week")])
