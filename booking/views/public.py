"""Public booking pages: the services and the booking flow at /book/.

Views parse input with the forms, call selectors and services, and render.
"""

from __future__ import annotations

import secrets
from datetime import UTC

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from booking import selectors, services
from booking.actors import Actor, Via
from booking.availability import Slot
from booking.errors import BookingError, SlotTaken
from booking.forms import PatientDetailsForm, SelectionForm
from booking.models import Service
from booking.views.day_strip import clinic_and_clock, day_strip_context, time_choice, unique_times
from clinic import honeypot, ratelimit

FLOW_STEPS = [
    ("service", "Treatment"),
    ("length", "Length"),
    ("therapist", "Therapist"),
    ("time", "Day and time"),
    ("details", "Your details"),
    ("review", "Confirm"),
]


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


def _time_step_context(request, selection: SelectionForm, clinic, now, today) -> dict:
    params = {
        "service": selection.chosen_option().service.slug,
        "duration": selection.chosen_option().duration_minutes,
        "therapist": selection.therapist_param,
    }
    return day_strip_context(request, selection, clinic, now, today, page_url=reverse("book"), params=params)


def _slots_on_day_of_start(selection: SelectionForm, clinic, now) -> list[Slot]:
    day = selection.chosen_start().astimezone(clinic.tz).date()
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
        selection.cleaned_data["date"] = selection.chosen_start().astimezone(clinic.tz).date()
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
    clinic, now, today = clinic_and_clock(request)
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
    if honeypot.filled(request.POST):
        return honeypot.refuse(request)
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
    if refused := ratelimit.guard(
        request, address="book_address", per="book_contact", values=[details["email"], details["phone"]]
    ):
        return refused
    try:
        appointment = services.appointment_book(
            option=selection.chosen_option(),
            therapist=selection.chosen_therapist,
            start=selection.chosen_start(),
            patient=services.PatientDetails(
                name=details["name"],
                email=details["email"],
                phone=details["phone"],
                date_of_birth=details["date_of_birth"],
                text_reminders=details["text_reminders"],
            ),
            now=now,
            actor=Actor.patient(Via.ONLINE_BOOKING),
            request_key=details["request_key"],
            note=details["note"],
        )
    except BookingError as error:
        context["booking_error"] = error
        if isinstance(error, SlotTaken) or error.code == "not_available":
            slots = unique_times(_slots_on_day_of_start(selection, clinic, now))
            context["fresh_times"] = [time_choice(slot, clinic.tz, lambda value: "") for slot in slots]
        return _render_flow(request, context, status=409)
    return redirect(reverse("appointment_manage", args=[appointment.manage_token]) + "?booked=1")
