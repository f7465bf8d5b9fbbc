"""The front desk's time off forms: adding time off for a therapist, and answering a therapist's request.

The times are parsed as therapists.time_off_forms parses them for the therapist's own page.
"""

from __future__ import annotations

from django import forms

from therapists.models import Therapist
from therapists.time_off_forms import TimeOffTimesForm

MAX_CONFIRMED = 500


def confirmed_ids(raw: str) -> set[int]:
    """The appointments shown and accepted; anything unreadable counts as none, so the list is shown again."""
    parts = [part for part in (raw or "").split(",") if part]
    if len(parts) > MAX_CONFIRMED or not all(part.isdigit() and len(part) < 12 for part in parts):
        return set()
    return {int(part) for part in parts}


class TimeOffForm(TimeOffTimesForm):
    field_order = ["therapist", "start_date", "start_time", "end_date", "end_time", "reason", "confirm_stranded"]

    therapist = forms.ModelChoiceField(
        queryset=Therapist.objects.none(),
        empty_label="Choose a therapist",
        error_messages={"required": "Choose a therapist."},
    )
    confirm_stranded = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = Therapist.objects.active().order_by("order", "name", "pk")  # type: ignore[attr-defined]

    def clean_confirm_stranded(self) -> set[int]:
        return confirmed_ids(self.cleaned_data.get("confirm_stranded") or "")


class StrandedConfirmation(forms.Form):
    """Approving a request: the booked appointments the receptionist was shown inside it."""

    confirm_stranded = forms.CharField(required=False)

    def clean_confirm_stranded(self) -> set[int]:
        return confirmed_ids(self.cleaned_data.get("confirm_stranded") or "")


class DeclineForm(forms.Form):
    decline_reason = forms.CharField(
        label="Why not",
        max_length=200,
        error_messages={
            "required": "Say in a few words why, so the therapist knows.",
            "max_length": "Keep it under 200 characters.",
        },
    )
