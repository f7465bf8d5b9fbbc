"""Phone-in and walk-in booking at the front desk: the booking dialog, finding the patient, and "next free".

Every page answers in full for a plain browser and as a fragment for htmx (the
calendar opens it in its side panel). Every booking goes through booking.services
with the receptionist as the actor, and a refusal keeps everything typed and says
why. A repeat booking is first checked session by session (selectors.series_plan);
nothing is saved until each session that does not fit is settled, by picking an
alternative or skipping it, and then all are booked in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods

from booking import selectors, series, services
from booking.errors import BookingError
from booking.models import Appointment, Patient, ServiceOption
from booking.services import PatientDetails
from clinic.context_processors import clinic_for
from clinic.http import ClinicRequest
from frontdesk.access import actor_for, front_desk_required
from frontdesk.booking_forms import (
    NEW_PATIENT,
    SKIP,
    BookingForm,
    BookingPrefill,
    NextFreeForm,
    gives,
    settle_choice,
    wall_clock,
)
from therapists.models import Therapist

REFUSED = 409
BUSY = 503
PATIENT_RESULTS = 8
NEXT_FREE_TIMES = 15
# A week first; only if that holds too few free times, the four weeks after it. Two searches at most.
NEXT_FREE_WINDOWS = (7, 28)


def _htmx(request: ClinicRequest) -> bool:
    """Asked by htmx: answer with the fragment alone."""
    return bool(request.htmx)


def _choices() -> tuple[list[ServiceOption], list[Therapist]]:
    """The dialog's lists: every bookable service length, and the active therapists with what they give."""
    return selectors.bookable_options(), list(selectors.active_therapists().order_by("order", "name", "pk"))


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "D j M Y, H:i")


def _default_option(options: list[ServiceOption], therapist: Therapist | None) -> ServiceOption | None:
    """The default length of the first service the therapist gives (or of the first service at all)."""
    usable = [option for option in options if therapist is None or gives(therapist, option)]
    if not usable:
        return None
    first_service = usable[0].service_id
    return selectors.default_option([option for option in usable if option.service_id == first_service])


# --- the dialog ---------------------------------------------------------------------------------


def _dialog(
    request: ClinicRequest,
    form: BookingForm,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    sessions: list[series.Session] | None = None,
    chosen: dict[int, str] | None = None,
    found: list[Patient] | None = None,
    plan_key: str = "",
) -> HttpResponse:
    cleaned = getattr(form, "cleaned_data", {})
    selected = cleaned.get("patient_record") if form.is_bound else form.initial.get("patient_record")
    patients = list(found or [])
    if selected is not None and selected not in patients:
        patients.insert(0, selected)
    patient_choice = (form.data.get("patient") if form.is_bound else form.initial.get("patient")) or ""
    context = {
        "form": form,
        "patients": patients,
        "patient_choice": str(patient_choice),
        "new_patient": NEW_PATIENT,
        "skip": SKIP,
        "error": error,
        "notice": notice,
        "sessions": _session_rows(sessions or [], chosen or {}),
        "plan_key": plan_key,
        "clinic_now": timezone.localtime(timezone.now()),
    }
    template = "frontdesk/_book_dialog.html" if _htmx(request) else "frontdesk/book.html"
    return render(request, template, context, status=status)


def _session_rows(sessions: list[series.Session], chosen: dict[int, str]) -> list[dict]:
    """The sessions as the dialog lists them, each alternative with its form value and whether it is the one picked."""
    rows = []
    for session in sessions:
        choice = chosen.get(session.number, "")
        alternatives = [
            {"slot": slot, "value": value, "checked": value == choice}
            for slot in session.alternatives
            for value in [f"{wall_clock(slot.start)}@{slot.therapist.pk}"]
        ]
        rows.append({"session": session, "alternatives": alternatives, "skipped": choice == SKIP})
    return rows


def _typed(query: QueryDict) -> dict:
    """What the dialog held when its "Find" button sent it here without JavaScript, as initial values."""
    typed: dict = {key: query.get(key) for key in query if key != "find"}
    typed["notify"] = "notify" in query
    return typed


def _prefilled(request: ClinicRequest, options: list[ServiceOption], therapists: list[Therapist]) -> HttpResponse:
    prefill = BookingPrefill(request.GET, options=options, therapists=therapists)
    blank = BookingForm(
        initial={"request_key": uuid.uuid4().hex}, options=options, therapists=therapists, auto_id="book-%s"
    )
    if not prefill.is_valid():
        problems = " ".join(str(error) for errors in prefill.errors.values() for error in errors)
        return _dialog(request, blank, status=400, error=f"The booking could not be filled in: {problems}")
    data = prefill.cleaned_data
    option = data["option"] or _default_option(options, data["therapist"])
    initial = {
        "request_key": uuid.uuid4().hex,
        "option": option.pk if option else None,
        "therapist": data["therapist"].pk if data["therapist"] else "",
        "start": data["start"],
        "patient_record": data["patient"],
        "patient": str(data["patient"].pk) if data["patient"] else "",
    }
    form = BookingForm(initial=initial, options=options, therapists=therapists, auto_id="book-%s")
    return _dialog(request, form)


def _patient_of(form: BookingForm) -> Patient | PatientDetails:
    """The chosen record, or a new patient's details: created in the booking's own transaction, so a refused
    booking leaves no stray record behind and a second try does not make a duplicate."""
    data = form.cleaned_data
    if data["patient_record"] is not None:
        return data["patient_record"]
    return PatientDetails(
        name=data["name"], email=data["email"], phone=data["phone"], date_of_birth=data["date_of_birth"]
    )


def _refusal_status(error: BookingError) -> int:
    return BUSY if error.code == "busy" else REFUSED


@front_desk_required
@require_http_methods(["GET", "POST"])
def book(request: ClinicRequest) -> HttpResponse:
    """GET: the dialog, filled in from ?therapist=&start=&option=&patient=. POST: book, once or repeated."""
    options, therapists = _choices()
    if request.method == "GET":
        if "find" in request.GET:
            form = BookingForm(initial=_typed(request.GET), options=options, therapists=therapists, auto_id="book-%s")
            found = selectors.patient_search(request.GET.get("q", ""), limit=PATIENT_RESULTS)
            return _dialog(request, form, found=found)
        return _prefilled(request, options, therapists)
    form = BookingForm(request.POST, options=options, therapists=therapists, auto_id="book-%s")
    if not form.is_valid():
        return _dialog(request, form, status=400, error="Please check the highlighted fields.")
    if form.every_weeks:
        return _book_series(request, form)
    data = form.cleaned_data
    try:
        appointment = services.appointment_book(
            option=data["option"],
            therapist=data["therapist"],
            start=data["start"],
            patient=_patient_of(form),
            now=timezone.now(),
            actor=actor_for(request),
            channel=data["channel"],
            request_key=data["request_key"] or None,
            note=data["note"],
            notify=data["notify"],
        )
    except BookingError as error:
        return _dialog(request, form, status=_refusal_status(error), error=error.message)
    return _booked(request, [appointment], notified=data["notify"])


@dataclass
class _Settled:
    """The sessions to book, or None while some session that does not fit is still open."""

    final: list[tuple[datetime, Therapist]] | None
    chosen: dict[int, str]
    problems: list[str]


def _settle(post: QueryDict, sessions: list[series.Session], same_plan: bool) -> _Settled:
    """Read the receptionist's choice for each session that does not fit: an alternative offered now, or skip."""
    final: list[tuple[datetime, Therapist]] = []
    chosen: dict[int, str] = {}
    problems: list[str] = []
    open_sessions = 0
    for session in sessions:
        if session.fits:
            final.append((session.wanted, session.therapist))
            continue
        raw = post.get(f"settle_{session.number}", "") if same_plan else ""
        choice = settle_choice(raw)
        if choice == SKIP:
            chosen[session.number] = SKIP
            continue
        if isinstance(choice, tuple):
            wall, therapist_pk = choice
            picked = next(
                (
                    slot
                    for slot in session.alternatives
                    if wall_clock(slot.start) == wall and slot.therapist.pk == therapist_pk
                ),
                None,
            )
            if picked is not None:
                chosen[session.number] = raw
                final.append((picked.start, picked.therapist))
                continue
            problems.append(f"Session {session.number}: the time picked for it is no longer free; choose again.")
        open_sessions += 1
    return _Settled(None if open_sessions else final, chosen, problems)


def _book_series(request: ClinicRequest, form: BookingForm) -> HttpResponse:
    data = form.cleaned_data
    clinic = clinic_for(request)
    now = timezone.now()
    option, therapist = data["option"], data["therapist"]
    starts = series.repeat_starts(data["start"], every_weeks=form.every_weeks, count=data["sessions"], tz=clinic.tz)
    sessions = selectors.series_plan(option, therapist, starts, clinic, now)
    plan_key = form.plan_key()
    settled = _settle(request.POST, sessions, same_plan=data["plan"] == plan_key)
    show: dict[str, Any] = {"sessions": sessions, "chosen": settled.chosen, "plan_key": plan_key}
    if settled.final is None:
        clashes = sum(not session.fits for session in sessions)
        notice = (
            f"Nothing is booked yet: {clashes} of {len(sessions)} sessions {'does' if clashes == 1 else 'do'} not fit. "
            "For each one, pick another time or skip it, then book."
        )
        return _dialog(request, form, notice=notice, error=" ".join(settled.problems) or None, **show)
    if not settled.final:
        return _dialog(request, form, status=400, error="Every session is skipped: there is nothing to book.", **show)
    try:
        appointments = services.appointment_book_series(
            option=option,
            therapist=therapist,
            starts=[start for start, _ in settled.final],
            therapists=[who for _, who in settled.final],
            patient=_patient_of(form),
            now=now,
            actor=actor_for(request),
            channel=data["channel"],
            note=data["note"],
            notify=data["notify"],
            request_key=data["request_key"] or None,
        )
    except BookingError as error:
        # Something changed since the check: show the sessions as they stand now, with what was chosen kept.
        sessions = selectors.series_plan(option, therapist, starts, clinic, now)
        settled = _settle(request.POST, sessions, same_plan=True)
        return _dialog(
            request,
            form,
            status=_refusal_status(error),
            error=f"Nothing was booked. {error.message}",
            sessions=sessions,
            chosen=settled.chosen,
            plan_key=plan_key,
        )
    return _booked(request, appointments, notified=data["notify"])


def _booked(request: ClinicRequest, appointments: list[Appointment], *, notified: bool) -> HttpResponse:
    first, last = appointments[0], appointments[-1]
    patient = first.patient
    if len(appointments) == 1:
        message = f"Booked {patient.name} for {_when(first.start)} with {first.therapist.name}."
    else:
        message = (
            f"Booked {len(appointments)} sessions for {patient.name}, {_when(first.start)} to {_when(last.start)}."
        )
    if notified:
        message += f" A confirmation will be emailed to {patient.email}."
    else:
        message += " No confirmation will be emailed."
    if _htmx(request):
        context = {"appointments": appointments, "patient": patient, "message": message}
        response = render(request, "frontdesk/_book_done.html", context)
        response["HX-Trigger"] = "calendar-changed"
        return response
    messages.success(request, message)
    if len(appointments) == 1:
        return redirect("frontdesk:appointment", pk=first.pk)
    return redirect(reverse("frontdesk:calendar") + f"?date={timezone.localtime(first.start).date().isoformat()}")


@front_desk_required
@require_GET
def book_patients(request: ClinicRequest) -> HttpResponse:
    """GET ?q=: patients matching a name, email or phone (in any format), as choices for the dialog."""
    query = request.GET.get("q", "")
    patients = selectors.patient_search(query, limit=PATIENT_RESULTS)
    context = {
        "patients": patients,
        "query": " ".join(query.split())[:100],
        "patient_choice": request.GET.get("patient", ""),
        "searched": True,
        "limit": PATIENT_RESULTS,
    }
    return render(request, "frontdesk/_book_patients.html", context)


# --- next free ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FreeTime:
    start: datetime
    therapists: list[Therapist]


def _next_free_times(
    option: ServiceOption, therapists: list[Therapist], first_day: date, clinic, now: datetime
) -> tuple[list[FreeTime], date]:
    """Up to NEXT_FREE_TIMES start times with who is free at each, and the first day not searched."""
    times: dict[datetime, list[Therapist]] = {}
    day = first_day
    for days in NEXT_FREE_WINDOWS:
        for slot in selectors.staff_free_slots(option, therapists, day, days, clinic, now):
            if slot.start in times or len(times) < NEXT_FREE_TIMES:
                times.setdefault(slot.start, []).append(slot.therapist)
        day += timedelta(days=days)
        if len(times) >= NEXT_FREE_TIMES:
            break
    return [FreeTime(start, who) for start, who in times.items()], day


@front_desk_required
@require_GET
def next_free(request: ClinicRequest) -> HttpResponse:
    """GET ?option=&therapist=&date=: the next free times for a service length, each opening the dialog."""
    options, therapists = _choices()
    clinic = clinic_for(request)
    now = timezone.now()
    today = timezone.localdate(now, clinic.tz)
    data: QueryDict = request.GET
    if "option" not in data:
        default = _default_option(options, None)
        data = QueryDict(mutable=True)
        data.update({"option": str(default.pk) if default else "", "date": today.isoformat(), **request.GET.dict()})
    form = NextFreeForm(data, options=options, therapists=therapists, auto_id="free-%s")
    # The patient already chosen in the dialog travels through the search, back into the dialog.
    patient = request.GET.get("patient", "")
    context: dict = {"form": form, "today": today, "patient": patient if patient.isdigit() else ""}
    status = 200
    if form.is_valid():
        option, therapist = form.cleaned_data["option"], form.cleaned_data["therapist"]
        first_day = max(form.cleaned_data["date"] or today, today)
        candidates = [therapist] if therapist else [t for t in therapists if gives(t, option)]
        times, searched_to = _next_free_times(option, candidates, first_day, clinic, now)
        days: dict[date, list[FreeTime]] = {}
        for free in times:
            days.setdefault(timezone.localtime(free.start).date(), []).append(free)
        # When the list is cut at NEXT_FREE_TIMES, "later" goes on from the day after the last one shown.
        later = max(days) + timedelta(days=1) if len(times) >= NEXT_FREE_TIMES else searched_to
        context.update(
            option=option,
            therapist=therapist,
            first_day=first_day,
            days=days,
            later=later,
            last_searched=searched_to - timedelta(days=1),
        )
    else:
        status = 400
    template = "frontdesk/_next_free.html" if _htmx(request) else "frontdesk/book_next_free.html"
    return render(request, template, context, status=status)
