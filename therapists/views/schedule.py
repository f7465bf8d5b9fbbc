"""A therapist's own schedule: today as an agenda, the week as a calendar, and one appointment with its patient.

Every view goes through therapists.access.schedule_view, which decides whose schedule it is (a therapist's
own; for a manager the one picked with ?therapist=<slug>). Reads come from booking.selectors, the status
buttons go through booking.services with the schedule's actor, so the history records the therapist. Times
are the clinic's wall clock, the active time zone on every request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from booking import calendar_events, lifecycle, selectors, services
from booking.calendar_query import form_errors
from booking.errors import BookingError
from booking.lifecycle import STATUS_ACTIONS, Action
from booking.models import Appointment
from clinic.context_processors import clinic_for
from therapists.access import actor_for, query_string, schedule_query, schedule_view
from therapists.models import Therapist
from therapists.schedule_forms import ScheduleDayForm, ScheduleRangeForm, StatusForm

REFUSED = 409
BUSY = 503

# Sessions that are over whatever the clock says: they go with the past part of the day.
DONE = (Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW)


def _page(request: HttpRequest, therapist: Therapist, **context: Any) -> dict[str, Any]:
    return {"therapist": therapist, "keep": schedule_query(request.user, therapist), **context}


def _bad_request(request: HttpRequest, therapist: Therapist, errors: list[str], today: date) -> HttpResponse:
    context = _page(request, therapist, errors=errors, today=today)
    return render(request, "therapists/schedule/bad_request.html", context, status=400)


def _form_errors(form: ScheduleDayForm | StatusForm) -> list[str]:
    return [str(error) for errors in form.errors.values() for error in errors]


# Today ------------------------------------------------------------------------------------------------------


@dataclass
class Agenda:
    """One day in the order a therapist reads it between sessions.

    On today's page: `earlier` (over, or already marked), the `now` marker, `next` (the session in progress,
    or the next one to come), then `later`. Any other day lists every session in `later`.
    """

    earlier: list[Appointment] = field(default_factory=list)
    next: Appointment | None = None
    later: list[Appointment] = field(default_factory=list)
    now: datetime | None = None

    @property
    def in_progress(self) -> bool:
        return self.next is not None and self.now is not None and self.next.start <= self.now

    @property
    def to_close(self) -> int:
        """Past sessions still booked or checked in: someone has to say how they went."""
        return sum(1 for appointment in self.earlier if appointment.status in lifecycle.LIVE)

    @property
    def count(self) -> int:
        return len(self.earlier) + len(self.later) + (1 if self.next else 0)


def agenda(appointments: list[Appointment], *, now: datetime, is_today: bool) -> Agenda:
    """Split a day's appointments (in start order) around `now`; only today has a now and a next."""
    if not is_today:
        return Agenda(later=list(appointments))
    day = Agenda(now=now)
    for appointment in appointments:
        if appointment.end <= now or appointment.status in DONE:
            day.earlier.append(appointment)
        elif day.next is None:
            day.next = appointment
        else:
            day.later.append(appointment)
    return day


@schedule_view
@require_GET
def today(request: HttpRequest, therapist: Therapist) -> HttpResponse:
    """GET ?date=YYYY-MM-DD (default: today on the clinic's clock)."""
    clinic = clinic_for(request)
    now = timezone.now()
    this_day = timezone.localdate(now, clinic.tz)
    form = ScheduleDayForm(request.GET, today=this_day, default=this_day)
    if not form.is_valid():
        return _bad_request(request, therapist, _form_errors(form), this_day)
    day = form.cleaned_data["date"]
    found = selectors.schedule_day(therapist, day, clinic)
    context = _page(
        request,
        therapist,
        day=day,
        today=this_day,
        is_today=day == this_day,
        day_label={-1: "Yesterday", 0: "Today", 1: "Tomorrow"}.get((day - this_day).days, ""),
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        hours=found.hours,
        time_off=found.time_off,
        agenda=agenda(found.appointments, now=now, is_today=day == this_day),
    )
    return render(request, "therapists/schedule/today.html", context)


# The week ---------------------------------------------------------------------------------------------------


@schedule_view
@require_GET
def week(request: HttpRequest, therapist: Therapist) -> HttpResponse:
    """GET ?date=YYYY-MM-DD: the first day shown (default: tomorrow; today is the agenda's)."""
    clinic = clinic_for(request)
    now = timezone.now().astimezone(clinic.tz)
    this_day = now.date()
    tomorrow = this_day + timedelta(days=1)
    form = ScheduleDayForm(request.GET, today=this_day, default=tomorrow)
    if not form.is_valid():
        return _bad_request(request, therapist, _form_errors(form), this_day)
    keep = schedule_query(request.user, therapist)
    first, last = selectors.schedule_hours(therapist)
    config = {
        "date": form.cleaned_data["date"].isoformat(),
        "tomorrow": tomorrow.isoformat(),
        **calendar_events.grid_options(first, last, now),
        "eventsUrl": reverse("schedule:events") + query_string(keep),
        "appointmentUrl": reverse("schedule:appointment", args=[0]) + query_string(keep),
        "keep": keep.urlencode(),
    }
    return render(request, "therapists/schedule/week.html", _page(request, therapist, config=config, clinic_now=now))


@never_cache
@schedule_view
@require_GET
def events(request: HttpRequest, therapist: Therapist) -> JsonResponse:
    """GET ?start=YYYY-MM-DD&end=YYYY-MM-DD (end exclusive): this therapist's appointments, closed times and
    time off, as the front desk's feed gives them but read-only and for their column alone."""
    clinic = clinic_for(request)
    form = ScheduleRangeForm(request.GET, today=timezone.localdate(timezone.now(), clinic.tz))
    if not form.is_valid():
        return JsonResponse({"errors": form_errors(form)}, status=400)
    first_day, last_day = form.cleaned_data["start"], form.cleaned_data["last_day"]
    found = selectors.calendar_range(first_day, last_day, clinic, therapist=therapist)
    return JsonResponse(calendar_events.feed(found, first_day, last_day, clinic.tz, editable=False), safe=False)


# One appointment --------------------------------------------------------------------------------------------


def _appointment_or_404(pk: int, therapist: Therapist) -> Appointment:
    """Only the schedule's own therapist's appointments: a colleague's is as if it did not exist."""
    appointment = selectors.schedule_appointment(pk, therapist)
    if appointment is None:
        raise Http404("No such appointment in this schedule.")
    return appointment


def _render_appointment(
    request: HttpRequest, therapist: Therapist, appointment: Appointment, *, status: int = 200, error: str = ""
) -> HttpResponse:
    clinic = clinic_for(request)
    now = timezone.now()
    actions = services.allowed_actions(appointment, actor_for(request), clinic, now)
    local_day = appointment.start.astimezone(clinic.tz).date()
    context = _page(
        request,
        therapist,
        appointment=appointment,
        record=selectors.patient_record(appointment.patient_id, now),
        visits=selectors.visits_with_therapist(appointment.patient_id, therapist, now, leave_out=appointment.pk),
        status_actions=[action for action in actions if action in STATUS_ACTIONS],
        day_url=reverse("schedule:today") + query_string(schedule_query(request.user, therapist), date=local_day),
        error=error,
    )
    return render(request, "therapists/schedule/appointment.html", context, status=status)


@schedule_view
@require_GET
def appointment_detail(request: HttpRequest, therapist: Therapist, pk: int) -> HttpResponse:
    return _render_appointment(request, therapist, _appointment_or_404(pk, therapist))


@schedule_view
@require_POST
def appointment_status(request: HttpRequest, therapist: Therapist, pk: int) -> HttpResponse:
    """POST action=check_in|complete|no_show, as the lifecycle allows the therapist now."""
    appointment = _appointment_or_404(pk, therapist)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _render_appointment(request, therapist, appointment, status=400, error=" ".join(_form_errors(form)))
    action = Action(form.cleaned_data["action"])
    try:
        services.appointment_change_status(
            appointment=appointment, action=action, now=timezone.now(), actor=actor_for(request)
        )
    except BookingError as error:
        fresh = _appointment_or_404(pk, therapist)
        return _render_appointment(
            request, therapist, fresh, status=BUSY if error.code == "busy" else REFUSED, error=error.message
        )
    messages.success(request, f"{appointment.patient.name} {lifecycle.DONE[action]}.")
    url = reverse("schedule:appointment", args=[appointment.pk])
    return redirect(url + query_string(schedule_query(request.user, therapist)))
