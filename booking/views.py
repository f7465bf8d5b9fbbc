"""Public booking pages: services, the booking flow at /book/ and the patient's own appointment page.

Views parse input with the forms, call selectors and services, and render.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from booking import selectors, services
from booking.availability import Slot
from booking.errors import BookingError, SlotTaken
from booking.forms import ANY_THERAPIST, CancelForm, PatientDetailsForm, SelectionForm, parse_aware_datetime
from booking.ics import appointment_calendar
from booking.models import Appointment, Service
from clinic.context_processors import clinic_for
from clinic.models import ClinicSettings

DAYS_SHOWN = 14
FLOW_STEPS = [
    ("service", "Treatment"),
    ("length", "Length"),
    ("therapist", "Therapist"),
    ("time", "Day and time"),
    ("details", "Your details"),
    ("review", "Confirm"),
]


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


def _clinic_and_clock(request: HttpRequest) -> tuple[ClinicSettings, datetime, date]:
    """The clinic's policies (loaded once per request) and the clock, read once."""
    clinic = clinic_for(request)
    now = timezone.now()
    return clinic, now, timezone.localdate(now, clinic.tz)


def service_list(request: HttpRequest) -> HttpResponse:
    return render(request, "booking/service_list.html", {"services": selectors.active_services()})


def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service.objects.active(), slug=slug)
    return render(
        request,
        "booking/service_detail.html",
        {
            "service": service,
            "options": list(service.options.filter(active=True)),
            "therapists": selectors.therapists_for(service),
        },
    )


def _query(**params) -> str:
    return "?" + urlencode({key: value for key, value in params.items() if value not in (None, "")})


def _unique_times(slots: list[Slot]) -> list[Slot]:
    """One slot per start time, for "no preference": the therapist is settled at booking."""
    seen: set[datetime] = set()
    unique = []
    for slot in slots:
        if slot.start not in seen:
            seen.add(slot.start)
            unique.append(slot)
    return unique


def _day_picker(
    *, slots: list[Slot], first_day: date, selected: date | None, tz, url_for_day, url_for_time
) -> tuple[list[DayChoice], date | None, list[TimeChoice]]:
    """The strip of days (those with free times stand out) and the times of the selected day.

    Without a chosen day, the first day with free times is selected.
    """
    by_day: dict[date, list[Slot]] = {}
    for slot in _unique_times(slots):
        by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    if selected is None:
        selected = next(iter(sorted(by_day)), None)
    days = [
        DayChoice(day, day in by_day, day == selected, url_for_day(day))
        for day in (first_day + timedelta(days=offset) for offset in range(DAYS_SHOWN))
    ]
    times = [_time_choice(slot, tz, url_for_time) for slot in by_day.get(selected, [])]
    return days, selected, times


def _time_choice(slot: Slot, tz, url_for_time) -> TimeChoice:
    """A time to pick: its value is the local start with its offset, as the forms and URLs carry it."""
    value = slot.start.astimezone(tz).isoformat(timespec="minutes")
    return TimeChoice(slot.start, slot.end, value, url_for_time(value))


def _strip_start(request: HttpRequest, chosen: date | None, today: date, last_day: date) -> date:
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


def _day_strip_context(
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
        return page_url + _query(**params, **extra)

    chosen = selection.cleaned_data.get("date")
    first_day = _strip_start(request, chosen, today, selection.last_bookable_day)
    slots = selectors.free_slots(selection.search(first_day, DAYS_SHOWN), clinic, now)
    if hide_start is not None:
        slots = [slot for slot in slots if slot.start.astimezone(UTC) != hide_start]
    days, selected, times = _day_picker(
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


def _time_step_context(request, selection: SelectionForm, clinic, now, today) -> dict:
    params = {
        "service": selection.chosen_service.slug,
        "duration": selection.option.duration_minutes,
        "therapist": ANY_THERAPIST if selection.any_therapist else selection.chosen_therapist.slug,
    }
    return _day_strip_context(request, selection, clinic, now, today, page_url=reverse("book"), params=params)


def _slots_on_day_of_start(selection: SelectionForm, clinic, now) -> list[Slot]:
    day = selection.start_at.astimezone(clinic.tz).date()
    return selectors.free_slots(selection.search(day, 1), clinic, now)


def _slot_is_free(selection: SelectionForm, clinic, now) -> bool:
    return any(
        slot.start.astimezone(UTC) == selection.start_at for slot in _slots_on_day_of_start(selection, clinic, now)
    )


def _step(selection: SelectionForm) -> str:
    if selection.chosen_service is None:
        return "service"
    if selection.option is None:
        return "length"
    if not selection.therapist_chosen:
        return "therapist"
    if selection.start_at is None:
        return "time"
    return "details"


def _flow_context(request, selection: SelectionForm, clinic, now, today) -> tuple[str, dict]:
    step = _step(selection)
    context: dict = {"selection": selection, "step": step}
    if step == "service":
        context["services"] = selectors.active_services()
    elif step == "length":
        context["options"] = selection.options
    elif step == "therapist":
        context["therapists"] = selection.offering
    elif step == "details" and not _slot_is_free(selection, clinic, now):
        messages.warning(request, "That time is no longer free. Here are the times still open that day.")
        selection.cleaned_data["date"] = selection.start_at.astimezone(clinic.tz).date()
        selection.start_at = None
        step = context["step"] = "time"
    if step == "time":
        context.update(_time_step_context(request, selection, clinic, now, today))
    return step, context


def _render_flow(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    return render(request, "booking/book.html", {**context, "steps": FLOW_STEPS}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    clinic, now, today = _clinic_and_clock(request)
    if request.method == "POST":
        return _book_submit(request, clinic, now, today)
    selection = SelectionForm(request.GET, clinic=clinic, today=today)
    selection.is_valid()
    step, context = _flow_context(request, selection, clinic, now, today)
    if step == "details":
        context["form"] = PatientDetailsForm(initial={"request_key": secrets.token_urlsafe(24)}, today=today)
    status = 400 if selection.errors else 200
    return _render_flow(request, context, status=status)


def _book_submit(request: HttpRequest, clinic, now, today) -> HttpResponse:
    selection = SelectionForm(request.POST, clinic=clinic, today=today)
    if not selection.is_valid() or _step(selection) != "details":
        context = {"selection": selection, "step": "invalid"}
        return _render_flow(request, context, status=400)
    form = PatientDetailsForm(request.POST, today=today)
    context = {"selection": selection, "step": "details", "form": form}
    intent = request.POST.get("intent", "review")
    if not form.is_valid() and "request_key" in form.errors:
        # A damaged form key: give a fresh one, keep what was typed and ask to submit again.
        data = request.POST.copy()
        data["request_key"] = secrets.token_urlsafe(24)
        form = PatientDetailsForm(data, today=today)
        form.is_valid()
        context.update(form=form, form_notice="Something went wrong with the form. Please check and submit again.")
        return _render_flow(request, context, status=400)
    if not form.is_valid() or intent == "edit":
        return _render_flow(request, context, status=200 if intent == "edit" else 400)
    if intent != "confirm":
        return _render_flow(request, {**context, "step": "review"})
    details = form.cleaned_data
    try:
        appointment = services.appointment_book(
            option=selection.option,
            therapist=selection.chosen_therapist,
            start=selection.start_at,
            patient=services.PatientDetails(
                name=details["name"],
                email=details["email"],
                phone=details["phone"],
                date_of_birth=details["date_of_birth"],
            ),
            now=now,
            request_key=details["request_key"],
            note=details["note"],
        )
    except BookingError as error:
        context["booking_error"] = error
        if isinstance(error, SlotTaken) or error.code == "not_available":
            slots = _unique_times(_slots_on_day_of_start(selection, clinic, now))
            context["fresh_times"] = [_time_choice(slot, clinic.tz, lambda value: "") for slot in slots]
        return _render_flow(request, context, status=409)
    return redirect(reverse("appointment_manage", args=[appointment.manage_token]) + "?booked=1")


def _appointment_or_404(token: str) -> Appointment:
    appointment = selectors.appointment_by_token(token)
    if appointment is None:
        raise Http404("No appointment matches this link.")
    return appointment


def _refuse_change(request: HttpRequest, appointment: Appointment, refusal: BookingError) -> HttpResponse:
    messages.error(request, refusal.message)
    return redirect(appointment)


@never_cache
@require_GET
def appointment_manage(request: HttpRequest, token: str) -> HttpResponse:
    clinic, now, _ = _clinic_and_clock(request)
    appointment = _appointment_or_404(token)
    return render(
        request,
        "booking/appointment_manage.html",
        {
            "appointment": appointment,
            "can_change": services.can_patient_change(appointment, clinic, now),
            "just_booked": request.GET.get("booked") == "1",
            "manage_url": request.build_absolute_uri(appointment.get_absolute_url()),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def appointment_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks "are you sure?" with an optional reason; POST cancels."""
    clinic, now, _ = _clinic_and_clock(request)
    appointment = _appointment_or_404(token)
    if refusal := services.patient_change_refusal(appointment, clinic, now):
        return _refuse_change(request, appointment, refusal)
    form = CancelForm(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        status = 200 if request.method == "GET" else 400
        return render(
            request, "booking/appointment_cancel.html", {"appointment": appointment, "form": form}, status=status
        )
    try:
        services.appointment_cancel(
            appointment=appointment, now=now, reason=form.cleaned_data["reason"], by_patient=True
        )
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your appointment is cancelled. We've emailed you a note of it.")
    return redirect(appointment)


@never_cache
@require_http_methods(["GET", "POST"])
def appointment_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    clinic, now, today = _clinic_and_clock(request)
    appointment = _appointment_or_404(token)
    if refusal := services.patient_change_refusal(appointment, clinic, now):
        return _refuse_change(request, appointment, refusal)
    data = {
        "service": appointment.service.slug,
        "duration": appointment.duration_minutes,
        "therapist": appointment.therapist.slug,
        "date": request.GET.get("date", ""),
    }
    selection = SelectionForm(data, clinic=clinic, today=today)
    if not selection.is_valid() or not selection.therapists:
        messages.error(request, "This appointment cannot be moved online. Please call the clinic.")
        return redirect(appointment)
    status = 200
    error = None
    if request.method == "POST":
        try:
            start = parse_aware_datetime(request.POST.get("start", ""))
            services.appointment_move(appointment=appointment, start=start, now=now, by_patient=True)
        except BookingError as booking_error:
            error, status = booking_error.message, 409
        except ValidationError:
            error, status = "Choose one of the times shown.", 400
        else:
            messages.success(request, "Your appointment has moved. We've emailed you the new time.")
            return redirect(appointment)
    strip = _day_strip_context(
        request,
        selection,
        clinic,
        now,
        today,
        page_url=reverse("appointment_reschedule", args=[token]),
        params={},
        hide_start=appointment.start,
    )
    return render(
        request,
        "booking/appointment_reschedule.html",
        {"appointment": appointment, "error": error, **strip},
        status=status,
    )


@never_cache
@require_GET
def appointment_ics(request: HttpRequest, token: str) -> HttpResponse:
    clinic = clinic_for(request)
    appointment = _appointment_or_404(token)
    body = appointment_calendar(
        appointment,
        clinic_name=clinic.name,
        address=clinic.address,
        manage_url=request.build_absolute_uri(appointment.get_absolute_url()),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response
