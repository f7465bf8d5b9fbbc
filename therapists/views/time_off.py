"""A therapist's own time off under /schedule/time-off/: what is coming up and its status, adding time off, and
taking back a request or time off nobody is booked in.

Time off with nothing booked inside it is blocked at once; over booked patients it becomes a request that the
front desk approves or declines (therapists.services.time_off_request). A manager reaches any therapist's page
through the schedule's ?therapist=<slug>.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from booking import selectors
from booking.models import Appointment
from clinic import permissions
from clinic.context_processors import clinic_for
from therapists import services
from therapists.access import actor_for, query_string, schedule_query, schedule_view
from therapists.models import Therapist, TimeOff
from therapists.time_off_forms import OwnTimeOffForm, when_text

REFUSED = 409
BUSY = 503
EVERY_STATUS = (TimeOff.Status.APPROVED, TimeOff.Status.REQUESTED, TimeOff.Status.DECLINED)


def _page_url(request: HttpRequest, therapist: Therapist) -> str:
    return reverse("schedule:time_off") + query_string(schedule_query(request.user, therapist))


def first_name(appointment: Appointment) -> str:
    return (appointment.patient.name.split() or [""])[0]


def _row(entry: selectors.TimeOffEntry, therapist: Therapist, now: datetime, tz: tzinfo) -> dict:
    time_off = entry.time_off
    asked_here = time_off.requested_by_id is not None and time_off.requested_by_id == therapist.user_id
    under_way = time_off.start <= now
    approved = time_off.status == TimeOff.Status.APPROVED
    return {
        "time_off": time_off,
        "when": when_text(time_off.start, time_off.end, tz),
        "booked": [{"appointment": a, "first_name": first_name(a)} for a in entry.booked],
        "under_way": under_way,
        "asked_here": asked_here,
        "can_withdraw": time_off.status == TimeOff.Status.REQUESTED,
        "can_remove": approved and not under_way and not entry.booked,
    }


def _render(
    request: HttpRequest, therapist: Therapist, form: OwnTimeOffForm, *, status: int = 200, error: str = ""
) -> HttpResponse:
    now = timezone.now()
    entries = selectors.upcoming_time_off(now, statuses=EVERY_STATUS, therapist=therapist)
    keep = schedule_query(request.user, therapist)
    context = {
        "therapist": therapist,
        "keep": keep,
        "query": query_string(keep),
        "own": permissions.therapist_of(request.user) == therapist,
        "form": form,
        "rows": [_row(entry, therapist, now, clinic_for(request).tz) for entry in entries],
        "error": error,
    }
    return render(request, "therapists/schedule/time_off.html", context, status=status)


def _new_form(request: HttpRequest, data=None) -> OwnTimeOffForm:
    clinic = clinic_for(request)
    return OwnTimeOffForm(data, tz=clinic.tz, today=timezone.localdate(timezone.now(), clinic.tz))


def _booked_text(stranded: list[Appointment]) -> str:
    return "; ".join(
        f"{first_name(a)}, {date_format(timezone.localtime(a.start), 'D j M, H:i')}, {a.service.name}" for a in stranded
    )


@never_cache
@schedule_view
@require_http_methods(["GET", "HEAD", "POST"])
def time_off_page(request: HttpRequest, therapist: Therapist) -> HttpResponse:
    if request.method != "POST":
        return _render(request, therapist, _new_form(request))
    form = _new_form(request, request.POST)
    if not form.is_valid():
        return _render(request, therapist, form, status=400)
    data = form.cleaned_data
    try:
        outcome = services.time_off_request(
            therapist=therapist,
            start=data["start"],
            end=data["end"],
            reason=data["reason"],
            now=timezone.now(),
            actor=actor_for(request),
        )
    except services.TimeOffError as error:
        if error.code in ("not_allowed", "not_yours"):
            raise PermissionDenied(error.message) from error
        return _render(request, therapist, form, status=BUSY if error.code == "busy" else REFUSED, error=error.message)
    when = when_text(outcome.time_off.start, outcome.time_off.end, clinic_for(request).tz)
    if outcome.approved:
        messages.success(request, f"Blocked: {when}. Nobody can book {therapist.name} then.")
    else:
        count = len(outcome.stranded)
        noun = "patient is" if count == 1 else "patients are"
        messages.warning(
            request,
            f"Sent to the front desk for approval: {when}. {count} {noun} booked then "
            f"({_booked_text(outcome.stranded)}). Until it is approved, those times can still be booked.",
        )
    return redirect(_page_url(request, therapist))


@never_cache
@schedule_view
@require_POST
def time_off_withdraw(request: HttpRequest, therapist: Therapist, pk: int) -> HttpResponse:
    # Only this therapist's own: anyone else's time off is not found here.
    time_off = TimeOff.objects.filter(pk=pk, therapist=therapist).first()
    if time_off is None:
        raise Http404("No such time off.")
    when = when_text(time_off.start, time_off.end, clinic_for(request).tz)
    try:
        services.time_off_withdraw(time_off=time_off, now=timezone.now(), actor=actor_for(request))
    except services.TimeOffError as error:
        if error.code in ("not_allowed", "not_yours"):
            raise PermissionDenied(error.message) from error
        messages.error(request, f"{when}: {error.message}")
    else:
        if time_off.status == TimeOff.Status.REQUESTED:
            messages.success(request, f"Request withdrawn: {when}.")
        else:
            messages.success(request, f"Time off removed: {when}. Those times can be booked again.")
    return redirect(_page_url(request, therapist))
