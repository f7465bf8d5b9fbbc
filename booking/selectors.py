"""Reads for the booking pages and the API, each in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Prefetch, QuerySet

from booking import availability
from booking.availability import Interval, Rules, Slot
from booking.models import Appointment, Service, ServiceOption
from clinic.models import ClinicSettings
from therapists.models import Therapist, TimeOff, WorkingHours


def active_services() -> QuerySet[Service]:
    """Active services with their active lengths, in two queries."""
    return Service.objects.active().prefetch_related(
        Prefetch("options", queryset=ServiceOption.objects.filter(active=True))
    )


def service_options(service_slug: str) -> list[ServiceOption]:
    """The active lengths of an active service, with the service itself, in one query."""
    return list(
        ServiceOption.objects.select_related("service")
        .filter(service__slug=service_slug, service__active=True, active=True)
        .order_by("duration_minutes")
    )


def option_of_length(options: Sequence[ServiceOption], minutes: int | None) -> ServiceOption | None:
    """The option lasting `minutes`, or the default one when no length is given; None if there is no such length."""
    if minutes is None:
        return default_option(options)
    return next((option for option in options if option.duration_minutes == minutes), None)


def lengths_text(options: Sequence[ServiceOption]) -> str:
    """The lengths offered, for messages: "30, 60, 90"."""
    return ", ".join(str(option.duration_minutes) for option in options)


def default_option(options: Sequence[ServiceOption]) -> ServiceOption | None:
    for option in options:
        if option.is_default:
            return option
    return options[0] if options else None


def therapists_for(service: Service) -> list[Therapist]:
    return list(Therapist.objects.active().offering(service).order_by("order", "name", "pk"))


def active_therapists() -> QuerySet[Therapist]:
    return Therapist.objects.active().prefetch_related(Prefetch("services", queryset=Service.objects.active()))


@dataclass(frozen=True)
class SlotSearch:
    """What a slot search needs: the booking option, the therapists to consider and the days."""

    option: ServiceOption
    therapists: Sequence[Therapist]
    first_day: date
    days: int


def search_rules(option: ServiceOption, clinic: ClinicSettings, now: datetime) -> Rules:
    earliest, latest = availability.booking_window(
        now=now, notice=clinic.min_notice, horizon_days=clinic.horizon_days, tz=clinic.tz
    )
    return Rules(
        length=option.duration,
        buffer=option.service.buffer,
        step=clinic.slot_step,
        earliest=earliest,
        latest=latest,
        tz=clinic.tz,
    )


def calendars(
    therapists: Sequence[Therapist],
    first_day: date,
    last_day: date,
    clinic: ClinicSettings,
    ignore_appointment: int | None = None,
) -> dict[Therapist, tuple[list[Interval], list[Interval]]]:
    """Working and busy intervals of each therapist over the local days given, in two queries."""
    tz = clinic.tz
    ids = [therapist.pk for therapist in therapists]
    # One day of margin each side: a session late on one day can reach past midnight.
    range_start = availability.local_midnight(first_day - timedelta(days=1), tz)
    range_end = availability.local_midnight(last_day + timedelta(days=2), tz)

    weekly: dict[int, dict[int, list]] = {pk: {} for pk in ids}
    for therapist_id, weekday, start, end in WorkingHours.objects.filter(therapist_id__in=ids).values_list(
        "therapist_id", "weekday", "start", "end"
    ):
        weekly[therapist_id].setdefault(weekday, []).append((start, end))

    time_off = TimeOff.objects.filter(therapist_id__in=ids, start__lt=range_end, end__gt=range_start)
    appointments = Appointment.objects.active().filter(
        therapist_id__in=ids, start__lt=range_end, blocked_until__gt=range_start
    )
    if ignore_appointment is not None:
        appointments = appointments.exclude(pk=ignore_appointment)
    # Time off and booked time (with its buffer) are both just busy: one query for both.
    busy_rows = (
        time_off.order_by()
        .values_list("therapist_id", "start", "end")
        .union(appointments.order_by().values_list("therapist_id", "start", "blocked_until"), all=True)
    )
    busy: dict[int, list[Interval]] = {pk: [] for pk in ids}
    for therapist_id, start, end in busy_rows:
        busy[therapist_id].append(Interval(start, end))

    return {
        therapist: (
            availability.working_intervals(weekly[therapist.pk], first_day, last_day, tz),
            busy[therapist.pk],
        )
        for therapist in therapists
    }


def free_slots(search: SlotSearch, clinic: ClinicSettings, now: datetime) -> list[Slot]:
    """Free slots of the therapists in `search`; each slot's `therapist` is the Therapist."""
    if not search.therapists or search.days < 1:
        return []
    last_day = search.first_day + timedelta(days=search.days - 1)
    return availability.free_slots_for_many(
        calendars(search.therapists, search.first_day, last_day, clinic),
        search_rules(search.option, clinic, now),
    )


def appointment_by_token(token: str) -> Appointment | None:
    if not token or len(token) > 64:
        return None
    return Appointment.objects.select_related("patient", "therapist", "service").filter(manage_token=token).first()
