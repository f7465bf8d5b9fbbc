"""The patient's own appointment, reached only through its private link: view, cancel, reschedule, .ics."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from booking import selectors, services
from booking.actors import Actor
from booking.errors import BookingError
from booking.forms import CancelForm, SelectionForm, parse_aware_datetime
from booking.ics import appointment_calendar
from booking.models import Appointment
from booking.views.day_strip import clinic_and_clock, day_strip_context
from clinic import ratelimit
from clinic.context_processors import clinic_for


def _appointment_or_404(token: str) -> Appointment:
    appointment = selectors.appointment_by_token(token)
    if appointment is None:
        raise Http404("No appointment matches this link.")
    return appointment


def _refuse_change(request: HttpRequest, appointment: Appointment, refusal: BookingError) -> HttpResponse:
    messages.error(request, refusal.message)
    return redirect(appointment.private_link_path())


@never_cache
@require_GET
def appointment_manage(request: HttpRequest, token: str) -> HttpResponse:
    clinic, now, _ = clinic_and_clock(request)
    appointment = _appointment_or_404(token)
    return render(
        request,
        "booking/appointment_manage.html",
        {
            "appointment": appointment,
            "can_change": services.can_patient_change(appointment, clinic, now),
            "just_booked": request.GET.get("booked") == "1",
            "manage_url": request.build_absolute_uri(appointment.private_link_path()),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def appointment_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks "are you sure?" with an optional reason; POST cancels."""
    clinic, now, _ = clinic_and_clock(request)
    appointment = _appointment_or_404(token)
    if refusal := services.patient_change_refusal(appointment, clinic, now):
        return _refuse_change(request, appointment, refusal)
    form = CancelForm(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        status = 200 if request.method == "GET" else 400
        return render(
            request, "booking/appointment_cancel.html", {"appointment": appointment, "form": form}, status=status
        )
    if refused := ratelimit.guard(request, address="link_address", per="link_token", values=[token]):
        return refused
    try:
        services.appointment_cancel(
            appointment=appointment, now=now, reason=form.cleaned_data["reason"], actor=Actor.patient()
        )
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your appointment is cancelled. We'll email you a note of it.")
    return redirect(appointment.private_link_path())


@never_cache
@require_http_methods(["GET", "POST"])
def appointment_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    clinic, now, today = clinic_and_clock(request)
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
        return redirect(appointment.private_link_path())
    status = 200
    error = None
    if request.method == "POST":
        if refused := ratelimit.guard(request, address="link_address", per="link_token", values=[token]):
            return refused
        try:
            start = parse_aware_datetime(request.POST.get("start", ""))
            services.appointment_move(appointment=appointment, start=start, now=now, actor=Actor.patient())
        except BookingError as booking_error:
            error, status = booking_error.message, 409
        except ValidationError:
            error, status = "Choose one of the times shown.", 400
        else:
            messages.success(request, "Your appointment has moved. We'll email you the new time.")
            return redirect(appointment.private_link_path())
    strip = day_strip_context(
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
        manage_url=request.build_absolute_uri(appointment.private_link_path()),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response
