"""The admin panel: every page opens; it configures the clinic and shows appointments read only."""

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from booking.models import Service
from clinic.models import ClinicSettings
from tests.factories import AppointmentFactory, PatientFactory, TimeOffFactory, UserFactory
from therapists.models import TimeOff, WorkingHours

TORONTO = ZoneInfo("America/Toronto")
TUESDAY = "2026-12-08"


def local(hour: int, minute: int = 0, day: str = TUESDAY) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour, minute), tzinfo=TORONTO)


@pytest.fixture
def frozen(now):
    with time_machine.travel(now, tick=False):
        yield now


@pytest.fixture
def patient(db):
    return PatientFactory(name="Jordan Lee", email="jordan@example.com", phone="416-555-0199")


@pytest.fixture
def appointment(service, therapist, patient):
    """Tuesday 10:00–11:00 with Alex (blocked until 11:15), written straight to the table."""
    return AppointmentFactory(
        patient=patient, therapist=therapist, service=service, price=Decimal("125.00"), start=local(10)
    )


def add_url() -> str:
    return reverse("admin:booking_appointment_add")


def change_url(appointment) -> str:
    return reverse("admin:booking_appointment_change", args=[appointment.pk])


def changelist_url() -> str:
    return reverse("admin:booking_appointment_changelist")


def add_data(patient, therapist, service, *, start: datetime, duration="60", note="Left leg, mostly") -> dict:
    wall = start.astimezone(TORONTO)
    return {
        "patient": patient.pk,
        "therapist": therapist.pk,
        "service": service.pk,
        "duration_minutes": duration,
        "start_0": wall.date().isoformat(),
        "start_1": wall.strftime("%H:%M"),
        "patient_note": note,
    }


def change_data(appointment, *, therapist=None, start=None, status=None, reason="") -> dict:
    wall = (start or appointment.start).astimezone(TORONTO)
    return {
        "therapist": (therapist or appointment.therapist).pk,
        "start_0": wall.date().isoformat(),
        "start_1": wall.strftime("%H:%M"),
        "status": status or appointment.status,
        "cancellation_reason": reason,
    }


def form_errors(response) -> str:
    form = response.context["adminform"].form
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


# Every page opens


@pytest.fixture
def one_of_each(appointment, therapist):
    time_off = TimeOffFactory(therapist=therapist, start=local(9, day="2026-12-10"), end=local(17, day="2026-12-10"))
    return {
        "booking.service": appointment.service,
        "booking.patient": appointment.patient,
        "booking.appointment": appointment,
        "therapists.therapist": therapist,
        "therapists.workinghours": therapist.working_hours.first(),
        "therapists.timeoff": time_off,
        "clinic.clinicsettings": ClinicSettings.load(),
    }


MODELS = [
    "booking.service",
    "booking.patient",
    "booking.appointment",
    "therapists.therapist",
    "therapists.workinghours",
    "therapists.timeoff",
    "clinic.clinicsettings",
]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_opens(admin_client, one_of_each, model):
    app_label, model_name = model.split(".")
    response = admin_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"), follow=True)
    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_change_page_opens(admin_client, one_of_each, model):
    app_label, model_name = model.split(".")
    response = admin_client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[one_of_each[model].pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("model", [m for m in MODELS if m not in ("clinic.clinicsettings", "booking.appointment")])
def test_add_page_opens(admin_client, one_of_each, model):
    app_label, model_name = model.split(".")
    response = admin_client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    assert response.status_code == 200


def test_admin_index_and_header(admin_client, db):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "Clinic administration" in response.content.decode()


def test_appointment_changelist_queries_do_not_grow_with_rows(
    admin_client, service, therapist, django_assert_max_num_queries
):
    for day in ("2026-12-08", "2026-12-09", "2026-12-10"):
        for hour in (10, 14):
            AppointmentFactory(therapist=therapist, service=service, start=local(hour, day=day))
    with django_assert_max_num_queries(15):
        response = admin_client.get(changelist_url())
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 6


# Appointments are read only here: the front desk writes them


def test_the_admin_cannot_add_change_or_delete_appointments(admin_client, appointment):
    assert admin_client.get(add_url()).status_code == 403
    page = admin_client.get(change_url(appointment))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    moved = admin_client.post(change_url(appointment), {"start_0": "2026-12-09", "start_1": "14:00"})
    assert moved.status_code == 403
    assert admin_client.get(reverse("admin:booking_appointment_delete", args=[appointment.pk])).status_code == 403
    changelist = admin_client.get(changelist_url())
    assert changelist.context["action_form"] is None  # no bulk actions at all: no delete, no status changes
    appointment.refresh_from_db()
    assert appointment.start == local(10)


def test_appointment_page_links_to_the_front_desk_and_never_to_the_patients_private_page(admin_client, appointment):
    body = admin_client.get(change_url(appointment)).content.decode()

    assert reverse("frontdesk:appointment", args=[appointment.pk]) in body
    assert appointment.manage_token not in body
    assert "View on site" not in body


def test_admin_shows_appointment_times_on_the_clinics_clock(admin_client, frozen, appointment):
    changelist = admin_client.get(changelist_url()).content.decode()
    page = admin_client.get(change_url(appointment)).content.decode()

    assert "Tue 8 Dec 2026, 10:00" in changelist
    assert "Tue 8 Dec 2026 10:00" in page  # the title and breadcrumbs, from the model's label
    assert "15:00" not in page  # 10:00 in Toronto is 15:00 UTC


def test_admin_shows_the_history_the_services_wrote(admin_client, admin_user, frozen, appointment):
    from booking import services
    from booking.actors import Actor

    services.appointment_cancel(appointment=appointment, now=frozen, actor=Actor.system("tests"), reason="Flu")

    body = admin_client.get(change_url(appointment)).content.decode()

    assert "Status: booked → cancelled, reason: Flu" in body


# Who sees which appointments


def test_a_therapist_sees_only_their_own_appointments_and_patients(
    client, appointment, service, second_therapist, patient
):
    other_patient = PatientFactory(name="Robin Roe")
    AppointmentFactory(therapist=second_therapist, service=service, start=local(10), patient=other_patient)
    user = UserFactory(username="sam")
    user.groups.add(Group.objects.get(name="Therapist"))
    second_therapist.user = user
    second_therapist.save()
    client.force_login(user)

    appointments = client.get(changelist_url())
    patients = client.get(reverse("admin:booking_patient_changelist"))

    assert appointments.status_code == 200
    assert [a.patient for a in appointments.context["cl"].result_list] == [other_patient]
    assert list(patients.context["cl"].result_list) == [other_patient]
    assert client.get(change_url(appointment)).status_code == 302  # not theirs: "does not exist" redirect
    assert client.get(add_url()).status_code == 403


def test_a_receptionist_sees_every_appointment(client, appointment, service, second_therapist):
    AppointmentFactory(therapist=second_therapist, service=service, start=local(10))
    user = UserFactory(username="desk")
    user.groups.add(Group.objects.get(name="Receptionist"))
    client.force_login(user)

    response = client.get(changelist_url())

    assert len(response.context["cl"].result_list) == 2


# Services, therapists, hours and time off


def service_data(**overrides) -> dict:
    data = {
        "name": "Trigger point therapy",
        "slug": "trigger-point-therapy",
        "summary": "",
        "description": "",
        "buffer_minutes": "10",
        "active": "on",
        "order": "0",
        "options-TOTAL_FORMS": "2",
        "options-INITIAL_FORMS": "0",
        "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "1000",
        "options-0-duration_minutes": "45",
        "options-0-price": "95.00",
        "options-0-is_default": "on",
        "options-0-active": "on",
        "options-1-duration_minutes": "60",
        "options-1-price": "120.00",
        "options-1-active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_service_add_with_lengths(admin_client):
    response = admin_client.post(reverse("admin:booking_service_add"), service_data())

    assert response.status_code == 302
    service = Service.objects.get(slug="trigger-point-therapy")
    assert [(o.duration_minutes, o.is_default) for o in service.options.all()] == [(45, True), (60, False)]


def test_service_with_two_default_lengths_is_refused(admin_client):
    response = admin_client.post(reverse("admin:booking_service_add"), service_data(**{"options-1-is_default": "on"}))

    assert response.status_code == 200
    assert "Mark only one length as the default." in response.content.decode()
    assert not Service.objects.filter(slug="trigger-point-therapy").exists()


def test_active_service_without_lengths_is_refused(admin_client):
    data = service_data(**{"options-TOTAL_FORMS": "0"})
    response = admin_client.post(reverse("admin:booking_service_add"), data)

    assert response.status_code == 200
    assert "needs at least one active length" in response.content.decode()


def therapist_data(service, **overrides) -> dict:
    data = {
        "name": "Kim Park",
        "slug": "kim-park",
        "title": "Registered Massage Therapist",
        "registration_number": "R12345",
        "bio": "",
        "services": [service.pk],
        "active": "on",
        "order": "0",
        "user": "",
        "working_hours-TOTAL_FORMS": "2",
        "working_hours-INITIAL_FORMS": "0",
        "working_hours-MIN_NUM_FORMS": "0",
        "working_hours-MAX_NUM_FORMS": "1000",
        "working_hours-0-weekday": "0",
        "working_hours-0-start": "09:00",
        "working_hours-0-end": "12:00",
        "working_hours-1-weekday": "0",
        "working_hours-1-start": "13:00",
        "working_hours-1-end": "17:00",
        "time_off-TOTAL_FORMS": "0",
        "time_off-INITIAL_FORMS": "0",
        "time_off-MIN_NUM_FORMS": "0",
        "time_off-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_therapist_add_with_split_shift(admin_client, service):
    response = admin_client.post(reverse("admin:therapists_therapist_add"), therapist_data(service))

    assert response.status_code == 302
    hours = WorkingHours.objects.filter(therapist__slug="kim-park")
    assert [(h.start, h.end) for h in hours] == [(time(9), time(12)), (time(13), time(17))]


def test_therapist_inline_hours_ending_before_they_start_are_a_form_error(admin_client, service):
    data = therapist_data(service, **{"working_hours-1-end": "12:30"})
    data["working_hours-1-start"] = "13:00"
    response = admin_client.post(reverse("admin:therapists_therapist_add"), data)

    assert response.status_code == 200
    assert "The end must be after the start." in response.content.decode()
    assert not WorkingHours.objects.filter(therapist__slug="kim-park").exists()


def test_therapist_inline_overlapping_hours_are_a_form_error(admin_client, service):
    data = therapist_data(service, **{"working_hours-1-start": "11:00"})
    response = admin_client.post(reverse("admin:therapists_therapist_add"), data)

    assert response.status_code == 200
    assert "Two working intervals on Monday overlap" in response.content.decode()


def test_working_hours_ending_before_they_start_are_a_form_error(admin_client, therapist):
    response = admin_client.post(
        reverse("admin:therapists_workinghours_add"),
        {"therapist": therapist.pk, "weekday": "5", "start": "17:00", "end": "09:00"},
    )

    assert response.status_code == 200
    assert "The end must be after the start." in form_errors(response)
    assert not WorkingHours.objects.filter(therapist=therapist, weekday=5).exists()


def test_working_hours_equal_start_and_end_are_a_form_error(admin_client, therapist):
    response = admin_client.post(
        reverse("admin:therapists_workinghours_add"),
        {"therapist": therapist.pk, "weekday": "5", "start": "09:00", "end": "09:00"},
    )

    assert response.status_code == 200
    assert "The end must be after the start." in form_errors(response)


def test_working_hours_overlapping_existing_hours_are_a_form_error(admin_client, therapist):
    response = admin_client.post(
        reverse("admin:therapists_workinghours_add"),
        {"therapist": therapist.pk, "weekday": "0", "start": "11:00", "end": "14:00"},
    )

    assert response.status_code == 200
    assert "overlaps" in form_errors(response)


def test_time_off_ending_before_it_starts_is_a_form_error(admin_client, therapist):
    response = admin_client.post(
        reverse("admin:therapists_timeoff_add"),
        {
            "therapist": therapist.pk,
            "start_0": "2026-12-10",
            "start_1": "17:00",
            "end_0": "2026-12-10",
            "end_1": "09:00",
            "reason": "",
        },
    )

    assert response.status_code == 200
    assert "The end must be after the start." in form_errors(response)
    assert not TimeOff.objects.exists()


def test_time_off_over_booked_appointments_is_saved_only_once_the_manager_ticks_save_anyway(
    admin_client, frozen, appointment, therapist
):
    # More cases (working hours, the therapist page, deactivation) in tests/therapists/test_admin_stranded.py.
    data = {
        "therapist": therapist.pk,
        "start_0": TUESDAY,
        "start_1": "09:00",
        "end_0": TUESDAY,
        "end_1": "17:00",
        "reason": "Course",
    }
    refused = admin_client.post(reverse("admin:therapists_timeoff_add"), data)

    assert refused.status_code == 200
    assert "Jordan Lee" in form_errors(refused)
    assert not TimeOff.objects.exists()

    saved = admin_client.post(reverse("admin:therapists_timeoff_add"), {**data, "save_anyway": str(appointment.pk)})

    assert saved.status_code == 302
    assert TimeOff.objects.get().start == local(9)


# Clinic settings, a single row


def test_clinic_settings_list_goes_to_the_one_form(admin_client, db):
    response = admin_client.get(reverse("admin:clinic_clinicsettings_changelist"))

    row = ClinicSettings.load()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:clinic_clinicsettings_change", args=[row.pk])


def test_clinic_settings_cannot_be_added_twice_or_deleted(admin_client, clinic):
    assert admin_client.get(reverse("admin:clinic_clinicsettings_add")).status_code == 403
    assert admin_client.get(reverse("admin:clinic_clinicsettings_delete", args=[clinic.pk])).status_code == 403


def test_clinic_settings_change(admin_client, clinic):
    data = {
        "name": "Mo Therapy",
        "tagline": "",
        "phone": "416-555-0134",
        "email": "hello@motherapy.example",
        "address": "120 Harbord Street, Toronto, ON",
        "time_zone": "America/Vancouver",
        "min_notice_minutes": "60",
        "horizon_days": "30",
        "slot_step_minutes": "30",
        "cancellation_window_hours": "48",
        "first_reminder_hours": "24",
        "second_reminder_hours": "2",
        "waitlist_offer_minutes": "90",
        "therapist_notice_hours": "48",
        "online_booking_cap": "3",
        "staff_session_minutes": "30",
    }
    response = admin_client.post(reverse("admin:clinic_clinicsettings_change", args=[clinic.pk]), data)

    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.time_zone, clinic.horizon_days, clinic.cancellation_window_hours) == ("America/Vancouver", 30, 48)
    assert [offset.total_seconds() / 3600 for offset in clinic.reminder_offsets] == [24, 2]
    assert clinic.waitlist_offer_lifetime.total_seconds() == 90 * 60


def test_clinic_settings_refuse_a_second_reminder_before_the_first(admin_client, clinic):
    data = {
        field: getattr(clinic, field)
        for field in (
            "name",
            "phone",
            "email",
            "address",
            "time_zone",
            "min_notice_minutes",
            "horizon_days",
            "slot_step_minutes",
            "cancellation_window_hours",
            "waitlist_offer_minutes",
            "therapist_notice_hours",
            "online_booking_cap",
            "staff_session_minutes",
        )
    }
    data.update(tagline="", first_reminder_hours="2", second_reminder_hours="24")

    response = admin_client.post(reverse("admin:clinic_clinicsettings_change", args=[clinic.pk]), data)

    assert response.status_code == 200
    assert "The second reminder comes after the first" in response.content.decode()


def test_clinic_settings_refuse_an_unknown_time_zone(admin_client, clinic):
    response = admin_client.post(
        reverse("admin:clinic_clinicsettings_change", args=[clinic.pk]),
        {"name": "Mo Therapy", "time_zone": "Mars/Olympus", "min_notice_minutes": "60", "horizon_days": "30"},
    )

    assert response.status_code == 200
    assert "time_zone" in response.context["adminform"].form.errors


def test_therapist_page_lists_only_current_and_upcoming_time_off(admin_client, therapist):
    TimeOffFactory(therapist=therapist, start=local(9, day="2020-01-06"), end=local(17, day="2020-01-06"))
    upcoming = TimeOffFactory(therapist=therapist, start=local(9, day="2099-01-05"), end=local(17, day="2099-01-05"))

    response = admin_client.get(reverse("admin:therapists_therapist_change", args=[therapist.pk]))

    time_off_formset = next(f for f in response.context["inline_admin_formsets"] if f.formset.model is TimeOff)
    assert [form.instance for form in time_off_formset.formset.initial_forms] == [upcoming]
