"""Therapists' time off at the front desk: the current and upcoming list, adding time off, ending it early.

Adding time off over booked appointments first shows them and asks to confirm;
nothing is saved before that. The writes are therapists.services'.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST

from booking import selectors
from booking.models import Appointment
from clinic.context_processors import clinic_for
from frontdesk.access import actor_for, front_desk_required
from frontdesk.time_off_forms import TimeOffForm
from therapists import services
from therapists.models import TimeOff

REFUSED = 409
BUSY = 503


def _is_midnight(moment: datetime) -> bool:
    return moment.time() == time.min


def when_text(start: datetime, end: datetime, tz: tzinfo) -> str:
    """Time off in words on the clinic's clock: whole days as days, anything else with its times."""
    start, end = start.astimezone(tz), end.astimezone(tz)
    if _is_midnight(start) and _is_midnight(end):
        last = end.date() - timedelta(days=1)
        if last == start.date():
            return f"{date_format(start, 'D j M Y')}, all day"
        return f"{date_format(start, 'D j M')} – {date_format(last, 'D j M Y')}, all day"
    if start.date() == end.date():
        return f"{date_format(start, 'D j M Y')}, {date_format(start, 'H:i')}–{date_format(end, 'H:i')}"
    return f"{date_format(start, 'D j M, H:i')} – {date_format(end, 'D j M Y, H:i')}"


def _rows(now: datetime, tz: tzinfo) -> list[dict]:
    return [
        {
            "time_off": entry.time_off,
            "booked": entry.booked,
            "when": when_text(entry.time_off.start, entry.time_off.end, tz),
            "under_way": entry.time_off.start <= now,
        }
        for entry in selectors.upcoming_time_off(now)
    ]


def _render(
    request: HttpRequest,
    form: TimeOffForm,
    *,
    status: int = 200,
    stranded: list[Appointment] | None = None,
    error: str = "",
) -> HttpResponse:
    clinic = clinic_for(request)
    now = timezone.now()
    context = {
        "form": form,
        "rows": _rows(now, clinic.tz),
        "stranded": stranded or [],
        "confirm_ids": ",".join(str(appointment.pk) for appointment in stranded or []),
        "error": error,
    }
    if stranded and form.is_bound:
        data = form.cleaned_data
        context["stranded_when"] = when_text(data["start"], data["end"], clinic.tz)
        context["stranded_therapist"] = data["therapist"]
    return render(request, "frontdesk/time_off.html", context, status=status)


def _new_form(request: HttpRequest, data=None) -> TimeOffForm:
    clinic = clinic_for(request)
    return TimeOffForm(data, tz=clinic.tz, today=timezone.localdate(timezone.now(), clinic.tz))


@front_desk_required
@require_http_methods(["GET", "HEAD", "POST"])
def time_off_page(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render(request, _new_form(request))
    form = _new_form(request, request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    data = form.cleaned_data
    try:
        time_off = services.time_off_add(
            therapist=data["therapist"],
            start=data["start"],
            end=data["end"],
            reason=data["reason"],
            confirm_stranded=data["confirm_stranded"],
            now=timezone.now(),
            actor=actor_for(request),
        )
    except services.StrandedAppointments as refusal:
        # Not an error: a question. Nothing is saved until it is answered.
        return _render(request, form, stranded=refusal.appointments)
    except services.TimeOffError as error:
        return _render(request, form, status=BUSY if error.code == "busy" else REFUSED, error=error.message)
    tz = clinic_for(request).tz
    message = f"Time off added for {time_off.therapist.name}: {when_text(time_off.start, time_off.end, tz)}."
    if data["confirm_stranded"]:
        count = len(data["confirm_stranded"])
        noun = "appointment" if count == 1 else "appointments"
        message += f" {count} booked {noun} inside it still to move or cancel: see the list below."
    messages.success(request, message)
    return redirect("frontdesk:time_off")


@front_desk_required
@require_POST
def time_off_remove(request: HttpRequest, pk: int) -> HttpResponse:
    time_off = TimeOff.objects.select_related("therapist").filter(pk=pk).first()
    if time_off is None:
        raise Http404("No such time off.")
    tz = clinic_for(request).tz
    when = when_text(time_off.start, time_off.end, tz)
    try:
        ended = services.time_off_remove(time_off=time_off, now=timezone.now(), actor=actor_for(request))
    except services.TimeOffError as error:
        messages.error(request, f"{time_off.therapist.name}, {when}: {error.message}")
        return redirect("frontdesk:time_off")
    if ended is None:
        messages.success(request, f"Removed {time_off.therapist.name}'s time off ({when}).")
    else:
        ends = date_format(ended.end.astimezone(tz), "H:i")
        messages.success(request, f"{time_off.therapist.name}'s time off ({when}) now ends at {ends}.")
    return redirect("frontdesk:time_off")
