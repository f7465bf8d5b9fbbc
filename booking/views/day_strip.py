"""The strip of days and times a patient picks from, shared by booking and rescheduling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from django.http import HttpRequest
from django.utils import timezone

from booking import selectors
from booking.availability import Slot
from booking.forms import SelectionForm
from clinic.context_processors import clinic_for
from clinic.models import ClinicSettings

DAYS_SHOWN = 14


@dataclass(frozen=True)
class DayChoice:
    day: date
    has_slots: bool
    selected: bool
    url: str


@dataclass(frozen=True)
class TimeChoice:
    start: datetime
    end: datetime
    value: str
    url: str


def clinic_and_clock(request: HttpRequest) -> tuple[ClinicSettings, datetime, date]:
    """The clinic's policies (loaded once per request) and the clock, read once."""
    clinic = clinic_for(request)
    now = timezone.now()
    return clinic, now, timezone.localdate(now, clinic.tz)


def query(**params) -> str:
    return "?" + urlencode({key: value for key, value in params.items() if value not in (None, "")})


def unique_times(slots: list[Slot]) -> list[Slot]:
    """One slot per start time, for "no preference": the therapist is settled at booking."""
    seen: set[datetime] = set()
    unique = []
    for slot in slots:
        if slot.start not in seen:
            seen.add(slot.start)
            unique.append(slot)
    return unique


def day_picker(
    *, slots: list[Slot], first_day: date, selected: date | None, tz, url_for_day, url_for_time
) -> tuple[list[DayChoice], date | None, list[TimeChoice]]:
    """The strip of days (those with free times stand out) and the times of the selected day.

    Without a chosen day, the first day with free times is selected.
    """
    by_day: dict[date, list[Slot]] = {}
    for slot in unique_times(slots):
        by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    if selected is None:
        selected = next(iter(sorted(by_day)), None)
    days = [
        DayChoice(day, day in by_day, day == selected, url_for_day(day))
        for day in (first_day + timedelta(days=offset) for offset in range(DAYS_SHOWN))
    ]
    times = [time_choice(slot, tz, url_for_time) for slot in by_day.get(selected, [])] if selected else []
    return days, selected, times


def time_choice(slot: Slot, tz, url_for_time) -> TimeChoice:
    """A time to pick: its value is the local start with its offset, as the forms and URLs carry it."""
    value = slot.start.astimezone(tz).isoformat(timespec="minutes")
    return TimeChoice(slot.start, slot.end, value, url_for_time(value))


def strip_start(request: HttpRequest, chosen: date | None, today: date, last_day: date) -> date:
    """First day of the 14-day strip: `from` if given and valid, else the chosen day, else today."""
    first = chosen or today
    raw = request.GET.get("from", "")
    if raw:
        try:
            first = date.fromisoformat(raw)
        except ValueError:
            first = chosen or today
    if chosen and not (first <= chosen < first + timedelta(days=DAYS_SHOWN)):
        first = chosen
    return min(max(first, today), last_day)


def day_strip_context(
    request: HttpRequest,
    selection: SelectionForm,
    clinic: ClinicSettings,
    now: datetime,
    today: date,
    *,
    page_url: str,
    params: dict,
    hide_start: datetime | None = None,
) -> dict:
    """The 14-day strip with its times and its earlier/later links, for booking and for rescheduling.

    Links go to `page_url` with `params`; `hide_start` (UTC) leaves out the time the patient already has.
    """

    def link(**extra) -> str:
        return page_url + query(**params, **extra)

    chosen = selection.cleaned_data.get("date")
    first_day = strip_start(request, chosen, today, selection.last_bookable_day)
    slots = selectors.free_slots(selection.search(first_day, DAYS_SHOWN), clinic, now)
    if hide_start is not None:
        slots = [slot for slot in slots if slot.start.astimezone(UTC) != hide_start]
    days, selected, times = day_picker(
        slots=slots,
        first_day=first_day,
        selected=chosen,
        tz=clinic.tz,
        url_for_day=lambda day: link(date=day.isoformat(), **{"from": first_day}),
        url_for_time=lambda value: link(start=value),
    )
    previous_first = first_day - timedelta(days=DAYS_SHOWN)
    next_first = first_day + timedelta(days=DAYS_SHOWN)
    return {
        "days": days,
        "selected_day": selected,
        "times": times,
        "previous_url": link(**{"from": max(previous_first, today)}) if first_day > today else None,
        "next_url": link(**{"from": next_first}) if next_first <= selection.last_bookable_day else None,
    }
