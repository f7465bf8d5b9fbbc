"""Forms of the appointment panel: cancel with a reason, the staff note, and a move to another time or therapist."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms

from booking.forms import validate_in_calendar
from booking.lifecycle import STATUS_ACTIONS
from therapists.models import Therapist

# Times the calendar and the panel send: the clinic's wall clock, read in the clinic's zone (the active one).
WALL_CLOCK_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class StatusForm(forms.Form):
    action = forms.ChoiceField(choices=[(action.value, action.label) for action in STATUS_ACTIONS])


class StaffCancelForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea({"rows": 2}),
        help_text="Kept with the appointment, e.g. “Called: flu”.",
        error_messages={"required": "Say why it is cancelled."},
    )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError("Say why it is cancelled.")
        return reason


class StaffNoteForm(forms.Form):
    staff_note = forms.CharField(
        label="Staff note", required=False, max_length=2000, widget=forms.Textarea({"rows": 3})
    )


class MoveForm(forms.Form):
    """A new start on the clinic's clock and, optionally, another therapist who gives the service."""

    start = forms.DateTimeField(
        label="New start",
        input_formats=WALL_CLOCK_FORMATS,
        validators=[validate_in_calendar],
        widget=forms.DateTimeInput({"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M"),
    )
    therapist = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(self, *args, therapists: Sequence[Therapist] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.therapists = {therapist.pk: therapist for therapist in therapists}
        field = self.fields["therapist"]
        field.choices = [(therapist.pk, therapist.name) for therapist in therapists]  # type: ignore[attr-defined]
        field.error_messages["invalid_choice"] = "That therapist does not give this service."

    def clean_therapist(self) -> Therapist | None:
        pk = self.cleaned_data.get("therapist")
        return None if pk is None else self.therapists[pk]

    def clean_start(self):
        start = self.cleaned_data["start"]
        if start.second or start.microsecond:
            raise forms.ValidationError("Choose a start time on the minute.")
        return start
