"""Privacy among colleagues: a therapist sees nothing of another therapist's patients, appointments, notes,
hours, time off or registration details anywhere in the admin panel, while receptionists and managers keep
seeing the whole clinic.

Therapist A (Alex) treats Iris; colleague B (Sam) treats Quentin and goes to the dentist; both have seen Dana.
Every page Alex can open is searched for B's secrets; B's objects by id are refused.
"""

from datetime import datetime, time
from types import SimpleNamespace
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from django.urls import reverse

from booking.models import Appointment, Patient, Service
from tests.conftest import staff_user
from tests.factories import AppointmentFactory, PatientFactory, TimeOffFactory, UserFactory
from therapists.models import Therapist, TimeOff, WorkingHours

TORONTO = ZoneInfo("America/Toronto")

# What therapist A must never read anywhere in the admin: everything that is B's or B's patients'.
SECRETS = {
    "colleague's name": "Sam Okafor",
    "colleague's registration number": "R90909",
    "colleague's staff login": "okafor_staff",
    "colleague's patient": "Quentin Moss",
    "colleague's patient's email": "quentin.moss@example.com",
    "colleague's patient's phone": "555-0177",
    "note a colleague's patient wrote": "Whiplash since the crash",
    "staff note on a colleague's appointment": "Prefers a quiet room",
    "note on the shared patient's visit with the colleague": "Ask Sam about the shoulder",
    "colleague's time-off reason": "Dentist",
}


def at(day: str, hour: int) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour), tzinfo=TORONTO)


def leaks(body: str, typed: str = "") -> list[str]:
    """The secrets found in `body`, except one the user typed themself (a search box shows its query)."""
    return [
        what for what, text in SECRETS.items() if text.lower() in body.lower() and text.lower() not in typed.lower()
    ]


@pytest.fixture
def clinic_of_two(service, therapist, second_therapist):
    alex, sam = therapist, second_therapist
    alex.registration_number, alex.user = "R10001", staff_user("alex_staff", "Therapist")
    alex.save()
    sam.registration_number, sam.user = "R90909", staff_user("okafor_staff", "Therapist")
    sam.save()
    sam_hours = WorkingHours.objects.create(therapist=sam, weekday=5, start=time(7), end=time(11))

    iris = PatientFactory(name="Iris Chen", email="iris.chen@example.com")
    quentin = PatientFactory(name="Quentin Moss", email="quentin.moss@example.com", phone="647-555-0177")
    dana = PatientFactory(name="Dana Whitfield", email="dana@example.com")
    iris_visit = AppointmentFactory(
        patient=iris, therapist=alex, service=service, start=at("2099-03-02", 10), patient_note="Left hip, mostly"
    )
    dana_with_alex = AppointmentFactory(patient=dana, therapist=alex, service=service, start=at("2099-03-03", 10))
    quentin_visit = AppointmentFactory(
        patient=quentin,
        therapist=sam,
        service=service,
        start=at("2099-03-02", 10),
        patient_note="Whiplash since the crash",
        staff_note="Prefers a quiet room",
    )
    dana_with_sam = AppointmentFactory(
        patient=dana,
        therapist=sam,
        service=service,
        start=at("2099-03-04", 14),
        staff_note="Ask Sam about the shoulder",
    )
    alex_off = TimeOffFactory(therapist=alex, start=at("2099-04-06", 9), end=at("2099-04-06", 17), reason="Course")
    sam_off = TimeOffFactory(therapist=sam, start=at("2099-04-07", 9), end=at("2099-04-07", 17), reason="Dentist")

    # The manager edited B's time off once: its history names the reason.
    manager = staff_user("morgan", "Manager")
    for obj, message in ((sam_off, "Reason: Dentist"), (sam, "Registration R90909"), (alex_off, "Reason: Course")):
        LogEntry.objects.create(
            user=manager,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            action_flag=CHANGE,
            change_message=message,
        )
    return SimpleNamespace(
        service=service,
        alex=alex,
        sam=sam,
        iris=iris,
        quentin=quentin,
        dana=dana,
        alex_hours=alex.working_hours.first(),
        sam_hours=sam_hours,
        iris_visit=iris_visit,
        dana_with_alex=dana_with_alex,
        quentin_visit=quentin_visit,
        dana_with_sam=dana_with_sam,
        alex_off=alex_off,
        sam_off=sam_off,
        manager=manager,
    )


@pytest.fixture
def alex_client(client, clinic_of_two):
    client.force_login(clinic_of_two.alex.user)
    return client


def admin_url(model, view: str, obj=None) -> str:
    opts = model._meta
    args = [obj.pk] if obj is not None else []
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


# The Therapist role keeps view permissions only, each on an admin that filters what it shows.


def test_the_therapist_group_views_only_what_the_admin_filters_to_their_own(db):
    granted = set(Group.objects.get(name="Therapist").permissions.values_list("codename", flat=True))

    assert granted == {
        "view_appointment",  # own only
        "view_patient",  # own patients only
        "view_service",  # services and prices are the clinic's public offer
        "view_serviceoption",
        "view_therapist",  # own record only, read only (the bio stays with the manager)
        "view_workinghours",  # own only
        "view_timeoff",  # own only
    }


# Every page therapist A can open


OWN_PAGES = {
    "index": lambda c: reverse("admin:index"),
    "appointments": lambda c: admin_url(Appointment, "changelist"),
    "appointments with facets": lambda c: admin_url(Appointment, "changelist") + "?_facets=1",
    "appointments by start": lambda c: admin_url(Appointment, "changelist") + "?start__year=2099&start__month=3",
    "patients": lambda c: admin_url(Patient, "changelist"),
    "patients with facets": lambda c: admin_url(Patient, "changelist") + "?_facets=1",
    "services": lambda c: admin_url(Service, "changelist"),
    "therapists": lambda c: admin_url(Therapist, "changelist") + "?_facets=1",
    "working hours": lambda c: admin_url(WorkingHours, "changelist") + "?_facets=1",
    "time off": lambda c: admin_url(TimeOff, "changelist") + "?_facets=1",
    "own appointment": lambda c: admin_url(Appointment, "change", c.iris_visit),
    "own visit with the shared patient": lambda c: admin_url(Appointment, "change", c.dana_with_alex),
    "own patient": lambda c: admin_url(Patient, "change", c.iris),
    "shared patient": lambda c: admin_url(Patient, "change", c.dana),
    "shared patient's history": lambda c: admin_url(Patient, "history", c.dana),
    "service": lambda c: admin_url(Service, "change", c.service),
    "own record": lambda c: admin_url(Therapist, "change", c.alex),
    "own record's history": lambda c: admin_url(Therapist, "history", c.alex),
    "own hours": lambda c: admin_url(WorkingHours, "change", c.alex_hours),
    "own time off": lambda c: admin_url(TimeOff, "change", c.alex_off),
    "own time off's history": lambda c: admin_url(TimeOff, "history", c.alex_off),
}


@pytest.mark.parametrize("page", OWN_PAGES)
def test_no_page_a_therapist_opens_shows_anything_of_a_colleague(alex_client, clinic_of_two, page):
    response = alex_client.get(OWN_PAGES[page](clinic_of_two))

    assert response.status_code == 200
    assert leaks(response.content.decode()) == []


def test_a_therapist_finds_their_own_records_in_each_list(alex_client, clinic_of_two):
    c = clinic_of_two

    def rows(model) -> set:
        return set(alex_client.get(admin_url(model, "changelist")).context["cl"].result_list)

    assert rows(Appointment) == {c.iris_visit, c.dana_with_alex}
    assert rows(Patient) == {c.iris, c.dana}
    assert rows(Therapist) == {c.alex}
    assert rows(WorkingHours) == set(c.alex.working_hours.all())
    assert rows(TimeOff) == {c.alex_off}
    assert rows(Service) == {c.service}


def test_a_therapist_sees_their_own_details_and_time_off_reason(alex_client, clinic_of_two):
    record = alex_client.get(admin_url(Therapist, "change", clinic_of_two.alex)).content.decode()
    history = alex_client.get(admin_url(TimeOff, "history", clinic_of_two.alex_off)).content.decode()

    assert "R10001" in record
    assert "alex_staff" in record
    assert "Course" in record
    assert "Reason: Course" in history


def test_a_therapist_does_not_get_a_link_to_the_front_desk_they_cannot_open(alex_client, clinic_of_two):
    front_desk = reverse("frontdesk:appointment", args=[clinic_of_two.iris_visit.pk])

    assert (
        front_desk not in alex_client.get(admin_url(Appointment, "change", clinic_of_two.iris_visit)).content.decode()
    )
    assert "Open at the front desk" not in alex_client.get(admin_url(Appointment, "changelist")).content.decode()


# A colleague's objects, by id


COLLEAGUES_OBJECTS = {
    "appointment": (Appointment, "quentin_visit"),
    "appointment with the shared patient": (Appointment, "dana_with_sam"),
    "patient": (Patient, "quentin"),
    "record": (Therapist, "sam"),
    "hours": (WorkingHours, "sam_hours"),
    "time off": (TimeOff, "sam_off"),
}

OWN_OBJECT = {
    Appointment: "iris_visit",
    Patient: "iris",
    Therapist: "alex",
    WorkingHours: "alex_hours",
    TimeOff: "alex_off",
}


@pytest.mark.parametrize("view", ["change", "history", "delete"])
@pytest.mark.parametrize("what", COLLEAGUES_OBJECTS)
def test_a_colleagues_objects_by_id_are_refused(alex_client, clinic_of_two, what, view):
    model, name = COLLEAGUES_OBJECTS[what]

    response = alex_client.get(admin_url(model, view, getattr(clinic_of_two, name)), follow=True)

    assert response.redirect_chain == [] or response.redirect_chain[0][1] == 302
    assert response.redirect_chain or response.status_code in (403, 404)
    assert leaks(response.content.decode()) == []


@pytest.mark.parametrize("what", COLLEAGUES_OBJECTS)
def test_each_admin_refuses_a_colleagues_object_and_allows_ones_own(rf, clinic_of_two, what):
    """The object-level check behind the querysets, for any code path that reaches an object another way."""
    model, name = COLLEAGUES_OBJECTS[what]
    own = getattr(clinic_of_two, OWN_OBJECT[model])
    model_admin = admin.site._registry[model]
    as_alex, as_manager = request_as(clinic_of_two.alex.user), request_as(clinic_of_two.manager)

    assert not model_admin.has_view_permission(as_alex, getattr(clinic_of_two, name))
    assert model_admin.has_view_permission(as_alex, own)
    assert model_admin.has_view_permission(as_manager, getattr(clinic_of_two, name))


@pytest.mark.parametrize("what", ["patient", "record", "hours", "time off"])
def test_were_a_therapist_ever_allowed_to_edit_it_would_be_only_their_own(rf, clinic_of_two, what):
    """Should the role one day change or delete (say, its own time off), the object checks keep it to its own."""
    model, name = COLLEAGUES_OBJECTS[what]
    own = getattr(clinic_of_two, OWN_OBJECT[model])
    user = clinic_of_two.alex.user
    opts = model._meta
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label=opts.app_label,
            codename__in=[f"change_{opts.model_name}", f"delete_{opts.model_name}"],
        )
    )
    as_alex = request_as(type(user).objects.get(pk=user.pk))  # a fresh user: permissions are cached
    model_admin = admin.site._registry[model]

    assert model_admin.has_change_permission(as_alex, own)
    assert not model_admin.has_change_permission(as_alex, getattr(clinic_of_two, name))
    assert not model_admin.has_delete_permission(as_alex, getattr(clinic_of_two, name))


def request_as(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


# Search boxes and URL-crafted filters


CRAFTED = {
    "appointments searched for the colleague's patient": (Appointment, "q=Quentin"),
    "appointments searched by email": (Appointment, "q=quentin.moss%40example.com"),
    "appointments of the colleague": (Appointment, "therapist__id__exact={sam.pk}"),
    "appointments of the colleague's patient": (Appointment, "patient__id__exact={quentin.pk}"),
    "appointments of the shared patient": (Appointment, "patient__id__exact={dana.pk}"),
    "appointments by note": (Appointment, "patient_note__icontains=whiplash"),
    "patients searched by name": (Patient, "q=Quentin"),
    "patients searched by phone": (Patient, "q=647-555-0177"),
    "patients by id": (Patient, "id__exact={quentin.pk}"),
    "patients of the colleague": (Patient, "appointments__therapist__id__exact={sam.pk}"),
    "therapists searched by name": (Therapist, "q=Okafor"),
    "therapists searched by registration number": (Therapist, "q=R90909"),
    "therapists searched by login": (Therapist, "q=okafor_staff"),
    "therapists by id": (Therapist, "id__exact={sam.pk}"),
    "hours of the colleague": (WorkingHours, "therapist__id__exact={sam.pk}"),
    "hours on the colleague's day": (WorkingHours, "weekday__exact=5"),
    "time off searched by reason": (TimeOff, "q=Dentist"),
    "time off searched by therapist": (TimeOff, "q=Sam"),
    "time off of the colleague": (TimeOff, "therapist__id__exact={sam.pk}"),
    "time off by reason": (TimeOff, "reason__icontains=dentist"),
}


@pytest.mark.parametrize("case", CRAFTED)
def test_searches_and_crafted_filters_find_only_ones_own(alex_client, clinic_of_two, case):
    model, query = CRAFTED[case]
    c = clinic_of_two
    own = {
        Appointment: {c.iris_visit, c.dana_with_alex},
        Patient: {c.iris, c.dana},
        Therapist: {c.alex},
        WorkingHours: set(c.alex.working_hours.all()),
        TimeOff: {c.alex_off},
    }[model]

    query = query.format(**vars(c))
    response = alex_client.get(admin_url(model, "changelist") + "?" + query)

    # 400: the admin refuses a lookup across relations that no filter offers.
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert set(response.context["cl"].result_list) <= own
    assert leaks(response.content.decode(), typed=unquote(query)) == []


def test_the_shared_patients_visits_are_only_ones_own(alex_client, clinic_of_two):
    response = alex_client.get(admin_url(Appointment, "changelist") + f"?patient__id__exact={clinic_of_two.dana.pk}")

    assert list(response.context["cl"].result_list) == [clinic_of_two.dana_with_alex]


# Autocomplete: every relation of every model, towards every admin that has a search box


def relations() -> list[tuple[str, str, str]]:
    return sorted(
        (model._meta.app_label, model._meta.model_name, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.is_relation and not field.auto_created and field.related_model in admin.site._registry
    )


@pytest.mark.parametrize("term", ["", "Sam", "Okafor", "R90909", "okafor", "Quentin", "quentin.moss", "Dentist"])
def test_autocomplete_offers_a_therapist_nothing_of_a_colleague(alex_client, clinic_of_two, term):
    opened = 0
    for app_label, model_name, field_name in relations():
        response = alex_client.get(
            reverse("admin:autocomplete"),
            {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term},
        )
        assert response.status_code in (200, 403, 404), (app_label, model_name, field_name)
        assert leaks(response.content.decode()) == [], (app_label, model_name, field_name)
        opened += response.status_code == 200
    assert opened  # some of them do answer a therapist: the test reaches the search


def test_autocomplete_still_offers_a_therapist_their_own(alex_client, clinic_of_two):
    def texts(app_label: str, model_name: str, field_name: str) -> list[str]:
        params = {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""}
        return [row["text"] for row in alex_client.get(reverse("admin:autocomplete"), params).json()["results"]]

    assert texts("booking", "appointment", "patient") == ["Dana Whitfield", "Iris Chen"]
    assert texts("booking", "appointment", "therapist") == ["Alex Moreau"]


# List filters must not name colleagues


@pytest.mark.parametrize("model", [Appointment, WorkingHours, TimeOff])
def test_a_therapist_gets_no_filter_by_therapist_but_the_front_desk_does(
    client, alex_client, clinic_of_two, receptionist, model
):
    def filters(c) -> list[str]:
        return [spec.title for spec in c.get(admin_url(model, "changelist")).context["cl"].filter_specs]

    assert "therapist" not in filters(alex_client)
    client.force_login(receptionist)
    assert "therapist" in filters(client)
    client.force_login(clinic_of_two.manager)
    assert "therapist" in filters(client)


# Receptionists and managers see what they saw before


@pytest.mark.parametrize("role", ["Receptionist", "Manager"])
def test_the_front_desk_and_managers_still_see_every_therapists_records(client, clinic_of_two, role):
    c = clinic_of_two
    client.force_login(c.manager if role == "Manager" else staff_user("rosa", role))

    def rows(model) -> set:
        return set(client.get(admin_url(model, "changelist")).context["cl"].result_list)

    assert rows(Appointment) == {c.iris_visit, c.dana_with_alex, c.quentin_visit, c.dana_with_sam}
    assert rows(Patient) == {c.iris, c.dana, c.quentin}
    assert rows(Therapist) == {c.alex, c.sam}
    assert rows(WorkingHours) == set(WorkingHours.objects.all())
    assert rows(TimeOff) == {c.alex_off, c.sam_off}
    assert "Dentist" in client.get(admin_url(TimeOff, "changelist") + "?q=Dentist").content.decode()
    assert "R90909" in client.get(admin_url(Therapist, "change", c.sam)).content.decode()
    assert "Reason: Dentist" in client.get(admin_url(TimeOff, "history", c.sam_off)).content.decode()
    page = client.get(admin_url(Appointment, "change", c.quentin_visit)).content.decode()
    assert "Whiplash since the crash" in page
    assert "Open at the front desk" in page


def test_the_manager_still_finds_colleagues_through_autocomplete(client, clinic_of_two):
    client.force_login(clinic_of_two.manager)
    params = {"app_label": "booking", "model_name": "appointment", "field_name": "therapist", "term": "R90909"}

    results = client.get(reverse("admin:autocomplete"), params).json()["results"]

    assert [row["text"] for row in results] == ["Sam Okafor"]


# A login in the Therapist group that no therapist record points to sees no one's records


def test_a_therapist_login_without_a_therapist_record_sees_no_rows(client, clinic_of_two):
    client.force_login(staff_user("new_hire", "Therapist"))

    for model in (Appointment, Patient, Therapist, WorkingHours, TimeOff):
        response = client.get(admin_url(model, "changelist"))
        assert list(response.context["cl"].result_list) == [], model
        assert leaks(response.content.decode()) == []


def test_staff_without_a_role_still_opens_nothing(client, clinic_of_two):
    client.force_login(UserFactory(username="nobody"))

    assert client.get(admin_url(TimeOff, "changelist")).status_code == 403
    assert (
        client.get(
            reverse("admin:autocomplete"),
            {"app_label": "booking", "model_name": "appointment", "field_name": "therapist", "term": ""},
        ).status_code
        == 403
    )
