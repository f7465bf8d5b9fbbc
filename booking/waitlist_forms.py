"""The waitlist's forms: joining it from a phone, and the front desk offering a time by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django import forms

from booking import selectors, waitlist
from booking.forms import (
    ANY_THERAPIST,
    clean_full_name,
    contact_phone_field,
    full_name_field,
    parse_aware_datetime,
    request_key_field,
)
from booking.models import ServiceOption
from clinic.honeypot import honeypot_field
from therapists.models import Therapist

NO_PREFERENCE = ""


def _slot_value(weekday: int, part: waitlist.Part) -> str:
    return f"{weekday}-{int(part)}"


SUITS_CHOICES = [
    (_slot_value(weekday, part), f"{waitlist.WEEKDAYS[weekday]} {part.label.lower()}")
    for weekday in range(7)
    for part in waitlist.Part
]


def option_label(option: ServiceOption) -> str:
    return f"{option.service.name}, {option.duration_minutes} minutes"


@dataclass(frozen=True)
class GridCell:
    value: str
    label: str
    checked: bool
    open: bool


@dataclass(frozen=True)
class GridRow:
    weekday: int
    name: str
    short: str
    cells: list[GridCell]


class WaitlistJoinForm(forms.Form):
    """What a patient wants and when it suits them, then who they are. Every field is checked here."""

    option = forms.TypedChoiceField(
        label="Treatment and length",
        coerce=int,
        error_messages={"invalid_choice": "Choose one of the treatments listed."},
    )
    therapist = forms.ChoiceField(label="Therapist", required=False)
    suits = forms.MultipleChoiceField(
        required=False,
        choices=SUITS_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose the days and times from the list."},
    )
    name = full_name_field()
    email = forms.EmailField(
        max_length=254,
        help_text="We email you here when a time opens up.",
        widget=forms.EmailInput({"autocomplete": "email"}),
    )
    phone = contact_phone_field()
    note = forms.CharField(
        label="Anything we should know?",
        required=False,
        max_length=500,
        widget=forms.Textarea({"rows": 2}),
        help_text="Optional. For example: “Only after school pick-up.”",
    )
    request_key = request_key_field()
    website = honeypot_field()

    def __init__(
        self,
        *args,
        options: list[ServiceOption],
        therapists: list[Therapist],
        open_parts: Mapping[int, set[waitlist.Part]],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.options = options
        self.therapist_list = therapists
        self.open_parts = open_parts
        self.fields["option"].choices = [(option.pk, option_label(option)) for option in options]  # type: ignore[attr-defined]
        self.fields["therapist"].choices = [(NO_PREFERENCE, "No preference: whoever is free")] + [  # type: ignore[attr-defined]
            (therapist.slug, therapist.name) for therapist in therapists
        ]

    def clean_option(self) -> ServiceOption:
        pk = self.cleaned_data["option"]
        return next(option for option in self.options if option.pk == pk)

    def clean_name(self) -> str:
        return clean_full_name(self.cleaned_data["name"])

    def clean_suits(self) -> int:
        pairs = []
        for value in self.cleaned_data.get("suits") or []:
            weekday, part = value.split("-")
            pairs.append((int(weekday), waitlist.Part(int(part))))
        return waitlist.mask_of(pairs)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        option: ServiceOption | None = cleaned.get("option")
        slug = cleaned.get("therapist") or NO_PREFERENCE
        cleaned["therapist"] = None
        if slug != NO_PREFERENCE:
            chosen = next((therapist for therapist in self.therapist_list if therapist.slug == slug), None)
            if chosen is None:
                self.add_error("therapist", "Choose a therapist from the list.")
            elif option is not None and option.service_id not in {service.pk for service in chosen.services.all()}:
                self.add_error("therapist", f"{chosen.name} does not give {option.service.name}. Choose another.")
            else:
                cleaned["therapist"] = chosen
        return cleaned

    def grid_columns(self) -> list[waitlist.Part]:
        """The parts of the day someone works on some day: a column each (no evening column if nobody works late)."""
        if not self.open_parts:
            return list(waitlist.Part)
        return sorted({part for parts in self.open_parts.values() for part in parts})

    def grid(self) -> list[GridRow]:
        """The days to tick times on (days nobody works left out), each as submitted."""
        ticked = set(self["suits"].value() or [])
        columns = self.grid_columns()
        rows = []
        for weekday in range(7):
            parts = self.open_parts.get(weekday, set()) if self.open_parts else set(waitlist.Part)
            if not parts:
                continue
            cells = [
                GridCell(
                    _slot_value(weekday, part),
                    f"{waitlist.WEEKDAYS[weekday]} {part.label.lower()}",
                    _slot_value(weekday, part) in ticked,
                    part in parts,
                )
                for part in columns
            ]
            rows.append(GridRow(weekday, waitlist.WEEKDAYS[weekday], waitlist.SHORT_WEEKDAYS[weekday], cells))
        return rows

    def grid_headings(self) -> list[tuple[str, str]]:
        return [(part.label, waitlist.PART_HINTS[part]) for part in self.grid_columns()]


def initial_choice(
    query: Mapping[str, str], options: list[ServiceOption], therapists: list[Therapist]
) -> dict[str, Any]:
    """What the booking flow's link carries (service, duration, therapist), as the form's first values; anything
    unknown is simply not filled in."""
    initial: dict[str, Any] = {}
    slug = str(query.get("service", ""))[:100]
    mine = [option for option in options if option.service.slug == slug]
    raw = str(query.get("duration", ""))[:5]
    minutes = int(raw) if raw.isdigit() else None
    chosen = selectors.option_of_length(mine, minutes) if mine else None
    if chosen is not None:
        initial["option"] = chosen.pk
    therapist = str(query.get("therapist", ""))[:100]
    if therapist and therapist != ANY_THERAPIST and any(t.slug == therapist for t in therapists):
        initial["therapist"] = therapist
    return initial


class HandOfferForm(forms.Form):
    """The front desk offers one of the free times listed: its start (with offset) and its therapist."""

    start = forms.CharField(max_length=40)
    therapist = forms.SlugField(max_length=100)

    def clean_start(self) -> datetime:
        return parse_aware_datetime(self.cleaned_data["start"]).astimezone(UTC)
