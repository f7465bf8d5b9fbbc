"""The appointment panel: details, the patient's record, status actions, cancel, move, staff note and history.

Every page answers in full for a plain browser and as a fragment for htmx (the
calendar opens it in a side panel). Every change goes through booking.services
with the receptionist as the actor; a refusal keeps the panel open with its reason.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_POST

from booking import history, lifecycle, selectors, services
from booking.availability import Slot
from booking.errors import BookingError
from booking.forms import in_calendar
from booking.lifecycle import STATUS_ACTIONS, Action
from booking.models import Appointment
from clinic.context_processors import clinic_for
from clinic.http import ClinicRequest
from frontdesk.access import actor_for, front_desk_required
from frontdesk.appointment_forms import MoveForm, StaffCancelForm, StaffNoteForm, StatusForm
from notifications import selectors as message_selectors
from therapists.models import Therapist

REFUSED = 409
BUSY = 503


def _appointment_or_404(pk: int) -> Appointment:
    appointment = selectors.appointment_for_staff(pk)
    if appointment is None:
        raise Http404("No such appointment.")
    return appointment


def _move_day(request: ClinicRequest, appointment: Appointment, tz) -> date:
    raw = request.GET.get("move_date", "")
    try:
        day = date.fromisoformat(raw) if raw else appointment.start.astimezone(tz).date()
    except ValueError:
        return appointment.start.astimezone(tz).date()
    return day if in_calendar(day) else appointment.start.astimezone(tz).date()


def _panel_context(request: ClinicRequest, appointment: Appointment, **forms) -> dict:
    clinic = clinic_for(request)
    now = timezone.now()
    tz = clinic.tz
    actor = actor_for(request)
    actions = services.allowed_actions(appointment, actor, clinic, now)
    therapists = selectors.therapists_for(appointment.service)
    if appointment.therapist not in therapists:
        therapists = [appointment.therapist, *therapists]
    move_day = _move_day(request, appointment, tz)
    option = selectors.option_for(appointment)
    move_times = []
    if Action.MOVE in actions and option is not None:
        move_times = selectors.staff_free_slots(
            option, therapists, move_day, 1, clinic, now, ignore_appointment=appointment.pk
        )
    local_start = appointment.start.astimezone(tz)
    return {
        "appointment": appointment,
        "record": selectors.patient_record(appointment.patient_id, now),
        "status_actions": [action for action in actions if action in STATUS_ACTIONS],
        "can_cancel": Action.CANCEL in actions,
        "can_move": Action.MOVE in actions,
        "can_undo": Action.UNDO in actions,
        "undo_label": lifecycle.UNDO_LABELS.get(appointment.status, "Undo"),
        "late_if_cancelled": services.is_late_cancellation(appointment, clinic, now),
        "history": [history.entry(event, tz) for event in appointment.events.all()],
        "outbound_messages": message_selectors.appointment_messages(appointment.pk),
        "move_day": move_day,
        "move_previous": move_day - timedelta(days=1),
        "move_next": move_day + timedelta(days=1),
        "move_times": _by_therapist(move_times),
        "move_form": forms.get("move_form")
        or MoveForm(
            initial={"start": local_start.replace(tzinfo=None), "therapist": appointment.therapist_id},
            therapists=therapists,
        ),
        "cancel_form": forms.get("cancel_form") or StaffCancelForm(),
        "note_form": forms.get("note_form") or StaffNoteForm(initial={"staff_note": appointment.staff_note}),
        "error": forms.get("error"),
        "calendar_url": reverse("frontdesk:calendar") + f"?date={local_start.date().isoformat()}",
        "patient_url": reverse("frontdesk:patient", args=[appointment.patient_id]),
    }


def _by_therapist(slots: list[Slot]) -> list[tuple[Therapist, list[Slot]]]:
    """Free times grouped per therapist, the appointment's own therapist first as the engine orders them."""
    grouped: dict[Therapist, list[Slot]] = {}
    for slot in slots:
        grouped.setdefault(slot.therapist, []).append(slot)
    return list(grouped.items())


def _render_panel(request: ClinicRequest, appointment: Appointment, status: int = 200, **forms) -> HttpResponse:
    template = "frontdesk/_appointment_panel.html" if request.htmx else "frontdesk/appointment.html"
    return render(request, template, _panel_context(request, appointment, **forms), status=status)


def _done(request: ClinicRequest, appointment: Appointment, message: str) -> HttpResponse:
    """After a change: a fresh panel for htmx (and a nudge to the calendar to reload), else back to the page."""
    if request.htmx:
        fresh = _appointment_or_404(appointment.pk)
        messages.success(request, message)
        response = _render_panel(request, fresh)
        response["HX-Trigger"] = "calendar-changed"
        return response
    messages.success(request, message)
    return redirect("frontdesk:appointment", pk=appointment.pk)


def _refused(request: ClinicRequest, appointment: Appointment, error: BookingError, **forms) -> HttpResponse:
    status = BUSY if error.code == "busy" else REFUSED
    return _render_panel(request, _appointment_or_404(appointment.pk), status=status, error=error.message, **forms)


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "D j M, H:i")


@front_desk_required
@require_GET
def appointment_detail(request: ClinicRequest, pk: int) -> HttpResponse:
    return _render_panel(request, _appointment_or_404(pk))


@front_desk_required
@require_POST
def appointment_status(request: ClinicRequest, pk: int) -> HttpResponse:
    appointment = _appointment_or_404(pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _render_panel(request, appointment, status=400, error="Choose one of the status buttons.")
    action = Action(form.cleaned_data["action"])
    try:
        services.appointment_change_status(
            appointment=appointment, action=action, now=timezone.now(), actor=actor_for(request)
        )
    except BookingError as error:
        return _refused(request, appointment, error)
    return _done(request, appointment, f"{appointment.patient.name} {lifecycle.DONE[action]}.")


@front_desk_required
@require_POST
def appointment_undo(request: ClinicRequest, pk: int) -> HttpResponse:
    appointment = _appointment_or_404(pk)
    try:
        undone = services.appointment_undo(appointment=appointment, now=timezone.now(), actor=actor_for(request))
    except BookingError as error:
        return _refused(request, appointment, error)
    return _done(request, appointment, f"Undone: {appointment.patient.name} is {undone.get_status_display().lower()}.")


@front_desk_required
@require_POST
def appointment_cancel(request: ClinicRequest, pk: int) -> HttpResponse:
    appointment = _appointment_or_404(pk)
    form = StaffCancelForm(request.POST)
    if not form.is_valid():
        return _render_panel(request, appointment, status=400, cancel_form=form)
    try:
        cancelled = services.appointment_cancel(
            appointment=appointment, now=timezone.now(), actor=actor_for(request), reason=form.cleaned_data["reason"]
        )
    except BookingError as error:
        return _refused(request, appointment, error, cancel_form=form)
    late = " (late cancellation)" if cancelled.late_cancellation else ""
    return _done(request, appointment, f"Cancelled {appointment.patient.name} on {_when(appointment.start)}{late}.")


@front_desk_required
@require_POST
def appointment_note(request: ClinicRequest, pk: int) -> HttpResponse:
    appointment = _appointment_or_404(pk)
    form = StaffNoteForm(request.POST)
    if not form.is_valid():
        return _render_panel(request, appointment, status=400, note_form=form)
    try:
        services.appointment_set_staff_note(
            appointment=appointment, note=form.cleaned_data["staff_note"], now=timezone.now(), actor=actor_for(request)
        )
    except BookingError as error:
        return _refused(request, appointment, error, note_form=form)
    return _done(request, appointment, "Staff note saved.")


def _wants_json(request: ClinicRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@front_desk_required
@require_POST
def appointment_move(request: ClinicRequest, pk: int) -> HttpResponse:
    """Move to another time or therapist: from the panel's form, or as JSON from a drag on the calendar."""
    appointment = _appointment_or_404(pk)
    therapists = selectors.therapists_for(appointment.service)
    form = MoveForm(request.POST, therapists=therapists)
    as_json = _wants_json(request)
    if not form.is_valid():
        if as_json:
            errors = {field: [e["message"] for e in errs] for field, errs in form.errors.get_json_data().items()}
            return JsonResponse({"errors": errors, "error": " ".join(sum(errors.values(), []))}, status=400)
        return _render_panel(request, appointment, status=400, move_form=form)
    try:
        moved = services.appointment_move(
            appointment=appointment,
            start=form.cleaned_data["start"],
            therapist=form.cleaned_data["therapist"],
            now=timezone.now(),
            actor=actor_for(request),
        )
    except BookingError as error:
        if as_json:
            return JsonResponse(
                {"error": error.message, "code": error.code}, status=BUSY if error.code == "busy" else REFUSED
            )
        return _refused(request, appointment, error, move_form=form)
    message = f"Moved {appointment.patient.name} to {_when(moved.start)} with {moved.therapist.name}."
    if as_json:
        return JsonResponse({"ok": True, "message": message})
    return _done(request, appointment, message)
