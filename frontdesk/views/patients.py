"""Patients at the front desk: the directory with search as you type, a patient's page, and merging duplicates.

Pages answer in full for a plain browser and, where htmx asks for it, with just
the results fragment. Every change goes through booking.services with the
receptionist as the actor; each page reads in a fixed number of queries.
"""

from __future__ import annotations

from copy import copy

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from booking import selectors, services
from booking.calendar_query import form_errors
from booking.errors import BookingError
from booking.models import Patient
from clinic import change_log
from clinic.http import ClinicRequest
from frontdesk.access import actor_for, front_desk_required
from frontdesk.patient_forms import MergeForm, PatientForm, PatientSearchForm

PAGE_SIZE = 25
SEARCH_LIMIT = selectors.SEARCH_LIMIT
REFUSED = 409
BUSY = 503


def _patient_or_404(pk: int) -> Patient:
    patient = Patient.objects.filter(pk=pk).first()
    if patient is None:
        raise Http404("No such patient.")
    return patient


def _wants_fragment(request: ClinicRequest) -> bool:
    """htmx swapping results in; a history restore (back button after htmx) needs the whole page."""
    htmx = request.htmx
    if not htmx:
        return False
    return not htmx.history_restore_request


def _too_short(query: str) -> bool:
    """What patient_search ignores: fewer than two characters, or fewer than three digits for a phone number."""
    if any(character.isalpha() for character in query):
        return len(query) < 2
    return sum(character.isdigit() for character in query) < 3


def _rows(patients: list[Patient]) -> list[dict]:
    upcoming = selectors.upcoming_by_patient([patient.pk for patient in patients], timezone.now())
    return [{"patient": patient, "upcoming": upcoming[patient.pk]} for patient in patients]


@front_desk_required
@require_GET
@vary_on_headers("HX-Request")
def patient_directory(request: ClinicRequest) -> HttpResponse:
    """Search results as you type; with nothing typed, every patient, the most recently added first, by pages."""
    form = PatientSearchForm(request.GET)
    context: dict = {"form": form, "query": "", "rows": [], "page": None, "more": False, "too_short": False}
    status = 200
    if not form.is_valid():
        status = 400
    elif query := form.cleaned_data["q"]:
        found = selectors.patient_search(query, limit=SEARCH_LIMIT + 1)
        context.update(
            query=query, rows=_rows(found[:SEARCH_LIMIT]), more=len(found) > SEARCH_LIMIT, too_short=_too_short(query)
        )
    else:
        page = Paginator(selectors.recent_patients(), PAGE_SIZE).get_page(form.cleaned_data.get("page"))
        context.update(page=page, rows=_rows(list(page.object_list)))
    context["fragment"] = _wants_fragment(request)
    template = "frontdesk/_patient_results.html" if context["fragment"] else "frontdesk/patients.html"
    return render(request, template, context, status=status)


def _phone_texts(patient: Patient) -> tuple[str, str]:
    phone = patient.phone
    if not phone:
        return "", ""
    if not phone.is_valid():
        return str(phone), ""
    return phone.as_national, phone.as_e164


@front_desk_required
@require_GET
def patient_search_json(request: ClinicRequest) -> JsonResponse:
    """`?q=` name or email words, or a phone number in any format; at most SEARCH_LIMIT patients, by name."""
    form = PatientSearchForm({"q": request.GET.get("q", "")})
    if not form.is_valid():
        return JsonResponse({"errors": form_errors(form)}, status=400)
    patients = []
    for patient in selectors.patient_search(form.cleaned_data["q"]):
        national, e164 = _phone_texts(patient)
        patients.append(
            {
                "id": patient.pk,
                "name": patient.name,
                "phone": national,
                "phone_e164": e164,
                "email": patient.email,
                "date_of_birth": patient.date_of_birth.isoformat() if patient.date_of_birth else None,
            }
        )
    return JsonResponse({"patients": patients})


def _patient_context(patient: Patient, form: PatientForm) -> dict:
    now = timezone.now()
    return {
        "patient": patient,
        "form": form,
        "record": selectors.patient_record(patient.pk, now),
        "appointments": selectors.patient_appointments(patient.pk, now),
        "merge_url": reverse("frontdesk:patient_merge", args=[patient.pk]),
        "candidates": selectors.possible_duplicates(patient),
        "changes": change_log.history_of(patient),
    }


@front_desk_required
@require_http_methods(["GET", "POST"])
def patient_detail(request: ClinicRequest, pk: int) -> HttpResponse:
    """The patient's contact details (editable), their record, and their appointments."""
    patient = _patient_or_404(pk)
    if request.method != "POST":
        return render(request, "frontdesk/patient.html", _patient_context(patient, PatientForm(instance=patient)))
    # The form works on a copy: a refused edit must not rename the page it is shown on.
    form = PatientForm(request.POST, instance=copy(patient))
    status = 400
    if form.is_valid():
        try:
            services.patient_update(patient=patient, details=form.details(), actor=actor_for(request))
        except BookingError as error:
            form.add_error(None, error.message)
            status = BUSY if error.code == "busy" else REFUSED
        else:
            messages.success(request, f"Saved {form.cleaned_data['name']}'s details.")
            return redirect("frontdesk:patient", pk=patient.pk)
    return render(request, "frontdesk/patient.html", _patient_context(patient, form), status=status)


def _fills(keep: Patient, duplicate: Patient) -> list[str]:
    """The kept record's empty details that the duplicate will fill, as labels."""
    labels = {"date_of_birth": "date of birth", "email": "email", "phone": "phone"}
    return [label for field, label in labels.items() if not getattr(keep, field) and getattr(duplicate, field)]


def _merge_preview(keep: Patient, duplicate: Patient) -> dict:
    now = timezone.now()
    appointments = selectors.patient_appointments(duplicate.pk, now)
    return {
        "duplicate": duplicate,
        "duplicate_appointments": [*appointments.upcoming, *appointments.past],
        "duplicate_record": selectors.patient_record(duplicate.pk, now),
        "fills": _fills(keep, duplicate),
        "names_differ": keep.name.casefold() != duplicate.name.casefold(),
        "merge_form": MergeForm(initial={"duplicate": duplicate.pk}),
    }


@front_desk_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def patient_merge(request: ClinicRequest, pk: int) -> HttpResponse:
    """Fold a duplicate record into this one: find it, see what will move, then confirm."""
    keep = _patient_or_404(pk)
    if request.method == "POST":
        return _merge(request, keep)
    form = PatientSearchForm(request.GET)
    context: dict = {"patient": keep, "form": form, "query": "", "candidates": [], "error": None}
    status = 200
    if not form.is_valid():
        status = 400
    elif query := form.cleaned_data["q"]:
        found = selectors.patient_search(query, limit=SEARCH_LIMIT + 1)
        candidates = [other for other in found if other.pk != keep.pk][:SEARCH_LIMIT]
        context.update(query=query, candidates=candidates, too_short=_too_short(query))
    else:
        context["candidates"] = selectors.possible_duplicates(keep)
    if _wants_fragment(request):
        return render(request, "frontdesk/_patient_merge_results.html", context, status=status)
    if "duplicate" in request.GET:
        chosen = MergeForm({"duplicate": request.GET["duplicate"]})
        if not chosen.is_valid():
            context["error"] = " ".join(str(error) for error in chosen.errors["duplicate"])
            status = 400
        elif chosen.cleaned_data["duplicate"].pk == keep.pk:
            context["error"] = "That is this same record: choose the other one."
            status = 400
        else:
            context.update(_merge_preview(keep, chosen.cleaned_data["duplicate"]))
    return render(request, "frontdesk/patient_merge.html", context, status=status)


def _merge(request: ClinicRequest, keep: Patient) -> HttpResponse:
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors["duplicate"]))
        return redirect("frontdesk:patient_merge", pk=keep.pk)
    duplicate = form.cleaned_data["duplicate"]
    moving = duplicate.appointments.count()
    try:
        services.patient_merge(keep=keep, duplicate=duplicate, now=timezone.now(), actor=actor_for(request))
    except BookingError as error:
        context = {"patient": keep, "form": PatientSearchForm(), "query": "", "candidates": [], "error": error.message}
        if error.code == "busy":  # nothing changed: offer the same merge again
            context.update(_merge_preview(keep, duplicate))
        status = BUSY if error.code == "busy" else REFUSED
        return render(request, "frontdesk/patient_merge.html", context, status=status)
    moved = f"{moving} appointment{'s' if moving != 1 else ''}"
    messages.success(request, f"Merged the record of {duplicate.name} into this one: {moved} moved over.")
    return redirect("frontdesk:patient", pk=keep.pk)
