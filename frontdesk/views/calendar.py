"""The front desk calendar: the page, its events feed and its therapist columns."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from booking import calendar_events, selectors
from booking.calendar_query import DayRangeForm, form_errors
from clinic.context_processors import clinic_for
from frontdesk.access import front_desk_required
from frontdesk.calendar_forms import CalendarPageForm


@front_desk_required
@require_GET
def calendar_page(request: HttpRequest) -> HttpResponse:
    clinic = clinic_for(request)
    today = timezone.localdate(timezone.now(), clinic.tz)
    form = CalendarPageForm(request.GET)
    form.is_valid()
    first, last = selectors.calendar_hours()
    now = timezone.now().astimezone(clinic.tz)
    config = {
        "date": (form.cleaned_data.get("date") or today).isoformat(),
        "today": today.isoformat(),
        "view": form.cleaned_data.get("view") or "day",
        **calendar_events.grid_options(first, last, now),
        "eventsUrl": reverse("frontdesk:events"),
        "resourcesUrl": reverse("frontdesk:resources"),
        "appointmentUrl": reverse("frontdesk:appointment", args=[0]),
        "moveUrl": reverse("frontdesk:appointment_move", args=[0]),
        "bookUrl": reverse("frontdesk:book"),
    }
    return render(request, "frontdesk/calendar.html", {"config": config, "clinic_now": now})


def _day_range(request: HttpRequest) -> tuple[DayRangeForm, bool]:
    form = DayRangeForm(request.GET)
    return form, form.is_valid()


@never_cache
@front_desk_required
@require_GET
def events_feed(request: HttpRequest) -> JsonResponse:
    """GET ?start=YYYY-MM-DD&end=YYYY-MM-DD (end exclusive): appointments, closed times and time off."""
    form, valid = _day_range(request)
    if not valid:
        return JsonResponse({"errors": form_errors(form)}, status=400)
    clinic = clinic_for(request)
    first_day, last_day = form.cleaned_data["start"], form.cleaned_data["last_day"]
    found = selectors.calendar_range(first_day, last_day, clinic)
    return JsonResponse(calendar_events.feed(found, first_day, last_day, clinic.tz), safe=False)


@never_cache
@front_desk_required
@require_GET
def resources_feed(request: HttpRequest) -> JsonResponse:
    """The therapist columns for a range: every active therapist, and anyone inactive who still has bookings there."""
    form, valid = _day_range(request)
    if not valid:
        return JsonResponse({"errors": form_errors(form)}, status=400)
    clinic = clinic_for(request)
    therapists = selectors.calendar_therapists(form.cleaned_data["start"], form.cleaned_data["last_day"], clinic)
    return JsonResponse(calendar_events.resources(therapists), safe=False)
