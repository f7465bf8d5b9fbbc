"""Therapists' time off at the front desk: the current and upcoming list, adding time off, ending it early, and
the therapists' own requests waiting for approval.

Adding time off over booked appointments first shows them and asks to confirm; nothing is saved before that.
Approving a request asks the same way: the booked appointments inside it are listed with the buttons, and one
booked since the page was shown is listed before anything changes. The writes are therapists.services'.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

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
from frontdesk.time_off_forms import DeclineForm, StrandedConfirmation, TimeOffForm
from therapists import services
from therapists.models import TimeOff
from therapists.time_off_forms import when_text

REFUSED = 409
BUSY = 503


def _row(entry: selectors.TimeOffEntry, now: datetime, tz: tzinfo) -> dict:
    return {
        "time_off": entry.time_off,
        "booked": entry.booked,
        "confirm_ids": ",".join(str(appointment.pk) for appointment in entry.booked),
        "when": when_text(entry.time_off.start, entry.time_off.end, tz),
        "under_way": entry.time_off.start <= now,
    }


def _lists(now: datetime, tz: tzinfo) -> tuple[list[dict], list[dict]]:
    """Approved time off now and coming up, and the requests waiting: one read (two queries) for both."""
    entries = selectors.upcoming_time_off(now, statuses=(TimeOff.Status.APPROVED, TimeOff.Status.REQUESTED))
    rows: list[dict] = []
    waiting: list[dict] = []
    for entry in entries:
        (waiting if entry.time_off.status == TimeOff.Status.REQUESTED else rows).append(_row(entry, now, tz))
    return rows, waiting


def _render(
    request: HttpRequest,
    form: TimeOffForm,
    *,
    status: int = 200,
    stranded: list[Appointment] | None = None,
    error: str = "",
    answer: dict | None = None,
) -> HttpResponse:
    """The page; `answer` carries a refused answer to one request (its id, and the decline form or the fresh list)."""
    clinic = clinic_for(request)
    now = timezone.now()
    rows, waiting = _lists(now, clinic.tz)
    context = {
        "form": form,
        "rows": rows,
        "time_off_waiting": waiting,
        "answer": answer or {},
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


def _time_off_or_404(pk: int) -> TimeOff:
    time_off = TimeOff.objects.select_related("therapist").filter(pk=pk).first()
    if time_off is None:
        raise Http404("No such time off.")
    return time_off


@front_desk_required
@require_POST
def time_off_remove(request: HttpRequest, pk: int) -> HttpResponse:
    time_off = _time_off_or_404(pk)
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


@front_desk_required
@require_POST
def time_off_approve(request: HttpRequest, pk: int) -> HttpResponse:
    time_off = _time_off_or_404(pk)
    confirmation = StrandedConfirmation(request.POST)
    confirmed = confirmation.cleaned_data["confirm_stranded"] if confirmation.is_valid() else set()
    when = when_text(time_off.start, time_off.end, clinic_for(request).tz)
    try:
        approved = services.time_off_approve(
            time_off=time_off, confirm_stranded=confirmed, now=timezone.now(), actor=actor_for(request)
        )
    except services.StrandedAppointments as refusal:
        # Something was booked (or moved) into it since the page was shown: show the list as it is now.
        count = len(refusal.appointments)
        noun = "appointment is" if count == 1 else "appointments are"
        error = (
            f"Not approved yet: {count} booked {noun} inside {time_off.therapist.name}'s time off ({when}) now, "
            "not all of which you were shown. Check the list under “Waiting for approval” and approve again."
        )
        return _render(request, _new_form(request), status=REFUSED, error=error, answer={"pk": time_off.pk})
    except services.TimeOffError as error:
        status = BUSY if error.code == "busy" else REFUSED
        message = f"{time_off.therapist.name}, {when}: {error.message}"
        return _render(request, _new_form(request), status=status, error=message, answer={"pk": time_off.pk})
    message = f"Approved {approved.therapist.name}'s time off ({when}): those times are blocked now."
    if confirmed:
        message += " Move or cancel the appointments still booked inside it: see the list below."
    messages.success(request, message)
    return redirect("frontdesk:time_off")


@front_desk_required
@require_POST
def time_off_decline(request: HttpRequest, pk: int) -> HttpResponse:
    time_off = _time_off_or_404(pk)
    form = DeclineForm(request.POST)
    when = when_text(time_off.start, time_off.end, clinic_for(request).tz)
    if not form.is_valid():
        answer = {"pk": time_off.pk, "decline_form": form}
        return _render(request, _new_form(request), status=400, answer=answer)
    try:
        services.time_off_decline(
            time_off=time_off, reason=form.cleaned_data["decline_reason"], now=timezone.now(), actor=actor_for(request)
        )
    except services.TimeOffError as error:
        status = BUSY if error.code == "busy" else REFUSED
        message = f"{time_off.therapist.name}, {when}: {error.message}"
        answer = {"pk": time_off.pk, "decline_form": form}
        return _render(request, _new_form(request), status=status, error=message, answer=answer)
    messages.success(
        request, f"Declined {time_off.therapist.name}'s request ({when}). They will see your reason on their schedule."
    )
    return redirect("frontdesk:time_off")
