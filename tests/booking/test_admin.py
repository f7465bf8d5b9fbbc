"""The admin panel: every page opens, and every appointment write goes through booking.services."""

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.urls import reverse

from booking.models import Appointment, Service
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


@pytest.mark.parametrize("model", [m for m in MODELS if m != "clinic.clinicsettings"])
def test_add_page_opens(admin_client, one_of_each, model):
    app_label, model_name = model.split(".")
    response = admin_client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    assert response.status_code == 200


def test_admin_index_and_header(admin_client, db):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "Clinic administration" in response.content.decode()


def test_patient_autocomplete_for_the_appointment_form(admin_client, patient):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "jordan", "app_label": "booking", "model_name": "appointment", "field_name": "patient"},
    )
    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["Jordan Lee"]


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


# Booking from the add form


def test_add_form_books_through_the_service(admin_client, admin_user, frozen, service, therapist, patient):
    response = admin_client.post(add_url(), add_data(patient, therapist, service, start=local(10)))

    assert response.status_code == 302
    booked = Appointment.objects.get()
    assert booked.start == local(10)
    assert booked.end == local(11)
    assert booked.blocked_until == local(11, 15)
    assert booked.price == Decimal("125.00")
    assert booked.channel == Appointment.Channel.ADMIN
    assert booked.booked_by == admin_user
    assert booked.patient_note == "Left leg, mostly"
    assert response["Location"] == changelist_url()
    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.object_id, entry.user) == (ADDITION, str(booked.pk), admin_user)


def test_add_form_without_a_length_books_the_default_length(admin_client, frozen, service, therapist, patient):
    response = admin_client.post(add_url(), add_data(patient, therapist, service, start=local(10), duration=""))

    assert response.status_code == 302
    assert Appointment.objects.get().duration_minutes == 60


def test_add_form_refuses_a_length_the_service_does_not_have(admin_client, frozen, service, therapist, patient):
    response = admin_client.post(add_url(), add_data(patient, therapist, service, start=local(10), duration="45"))

    assert response.status_code == 200
    assert "can be booked for 30, 60, 90 minutes, not 45" in form_errors(response)
    assert not Appointment.objects.exists()


def test_add_form_refuses_an_inactive_length(admin_client, frozen, service, therapist, patient):
    service.options.filter(duration_minutes=90).update(active=False)
    response = admin_client.post(add_url(), add_data(patient, therapist, service, start=local(10), duration="90"))

    assert response.status_code == 200
    assert "30, 60 minutes" in form_errors(response)
    assert not Appointment.objects.exists()


def test_overlapping_add_is_a_form_error_and_books_nothing(
    admin_client, frozen, appointment, service, therapist, patient
):
    other = PatientFactory()
    response = admin_client.post(add_url(), add_data(other, therapist, service, start=local(10, 30)))

    assert response.status_code == 200
    assert "That time was just taken" in form_errors(response)
    assert Appointment.objects.count() == 1
    assert not LogEntry.objects.exists()


def test_add_during_the_buffer_is_refused(admin_client, frozen, appointment, service, therapist, patient):
    response = admin_client.post(add_url(), add_data(PatientFactory(), therapist, service, start=local(11, 10)))

    assert response.status_code == 200
    assert "That time was just taken" in form_errors(response)
    assert Appointment.objects.count() == 1


def test_add_outside_working_hours_is_a_form_error(admin_client, frozen, service, therapist, patient):
    response = admin_client.post(add_url(), add_data(patient, therapist, service, start=local(12, 15)))

    assert response.status_code == 200
    assert "outside the therapist's working hours" in form_errors(response)
    assert not Appointment.objects.exists()


def test_add_with_a_therapist_who_does_not_offer_the_service_is_a_form_error(
    admin_client, frozen, service, therapist, patient
):
    therapist.services.clear()
    response = admin_client.post(add_url(), add_data(patient, therapist, service, start=local(10)))

    assert response.status_code == 200
    assert "does not offer this service" in form_errors(response)


def test_add_with_seconds_is_a_form_error(admin_client, frozen, service, therapist, patient):
    data = add_data(patient, therapist, service, start=local(10))
    data["start_1"] = "10:00:30"
    response = admin_client.post(add_url(), data)

    assert response.status_code == 200
    assert "on the minute" in form_errors(response)


def test_add_form_keeps_what_was_typed_after_a_refusal(admin_client, frozen, appointment, service, therapist):
    response = admin_client.post(add_url(), add_data(PatientFactory(), therapist, service, start=local(10)))

    assert response.status_code == 200
    assert "Left leg, mostly" in response.content.decode()


# Moving, cancelling and changing status from the change form


def test_change_form_moves_through_the_service(admin_client, frozen, appointment):
    response = admin_client.post(change_url(appointment), change_data(appointment, start=local(14)))

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == local(14)
    assert appointment.end == local(15)
    assert appointment.blocked_until == local(15, 15)
    assert appointment.status == Appointment.Status.BOOKED


def test_change_form_moves_to_another_therapist(admin_client, frozen, appointment, second_therapist):
    response = admin_client.post(change_url(appointment), change_data(appointment, therapist=second_therapist))

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.therapist == second_therapist
    assert appointment.start == local(10)


def test_overlapping_move_is_a_form_error(admin_client, frozen, appointment, service, therapist):
    other = AppointmentFactory(therapist=therapist, service=service, start=local(14))
    response = admin_client.post(change_url(other), change_data(other, start=local(10, 30)))

    assert response.status_code == 200
    assert "That time was just taken" in form_errors(response)
    other.refresh_from_db()
    assert other.start == local(14)


def test_saving_without_changes_writes_nothing(admin_client, frozen, appointment):
    before = appointment.updated_at
    response = admin_client.post(change_url(appointment), change_data(appointment))

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.updated_at == before


def test_cancelling_from_the_change_form_records_who_when_and_why(admin_client, admin_user, frozen, appointment):
    response = admin_client.post(
        change_url(appointment),
        change_data(appointment, status=Appointment.Status.CANCELLED, reason="Patient called, has the flu"),
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancelled_at == frozen
    assert appointment.cancelled_by == admin_user
    assert appointment.cancelled_by_role == Appointment.CancelledBy.STAFF
    assert appointment.cancellation_reason == "Patient called, has the flu"


def test_cancelling_and_moving_at_once_is_refused(admin_client, frozen, appointment):
    response = admin_client.post(
        change_url(appointment), change_data(appointment, start=local(14), status=Appointment.Status.CANCELLED)
    )

    assert response.status_code == 200
    assert "not both" in form_errors(response)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.start) == (Appointment.Status.BOOKED, local(10))


def test_a_reason_without_cancelling_is_refused(admin_client, frozen, appointment):
    response = admin_client.post(change_url(appointment), change_data(appointment, reason="Changed their mind"))

    assert response.status_code == 200
    assert "Set the status to Cancelled" in form_errors(response)


def test_status_change_from_the_change_form(admin_client, frozen, appointment):
    response = admin_client.post(
        change_url(appointment), change_data(appointment, status=Appointment.Status.CHECKED_IN)
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CHECKED_IN


def test_a_cancelled_appointment_is_read_only(admin_client, frozen, appointment):
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)

    page = admin_client.get(change_url(appointment))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = admin_client.post(change_url(appointment), change_data(appointment, status=Appointment.Status.BOOKED))
    assert response.status_code == 403


def test_appointments_cannot_be_deleted(admin_client, appointment):
    response = admin_client.get(reverse("admin:booking_appointment_delete", args=[appointment.pk]))
    assert response.status_code == 403
    response = admin_client.post(
        changelist_url(), {"action": "delete_selected", "_selected_action": [appointment.pk], "post": "yes"}
    )
    assert Appointment.objects.filter(pk=appointment.pk).exists()
    changelist = admin_client.get(changelist_url())
    actions = [name for name, _ in changelist.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions


# Actions


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("mark_checked_in", Appointment.Status.CHECKED_IN),
        ("mark_completed", Appointment.Status.COMPLETED),
        ("mark_no_show", Appointment.Status.NO_SHOW),
    ],
)
def test_status_actions(admin_client, frozen, appointment, action, status):
    response = admin_client.post(changelist_url(), {"action": action, "_selected_action": [appointment.pk]})

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == status


def test_cancel_action_records_who_and_when(admin_client, admin_user, frozen, appointment):
    response = admin_client.post(
        changelist_url(), {"action": "cancel_appointments", "_selected_action": [appointment.pk]}, follow=True
    )

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancelled_at == frozen
    assert appointment.cancelled_by == admin_user
    assert appointment.cancelled_by_role == Appointment.CancelledBy.STAFF
    assert "Cancelled 1 appointment." in [str(m) for m in response.context["messages"]]


def test_actions_report_refusals_and_go_on(admin_client, frozen, appointment, service, therapist):
    cancelled = AppointmentFactory(
        therapist=therapist, service=service, start=local(14), status=Appointment.Status.CANCELLED
    )
    response = admin_client.post(
        changelist_url(),
        {"action": "mark_checked_in", "_selected_action": [appointment.pk, cancelled.pk]},
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert "Checked in 1 appointment." in shown
    assert any("cancelled and can no longer be changed" in message for message in shown)
    appointment.refresh_from_db()
    cancelled.refresh_from_db()
    assert appointment.status == Appointment.Status.CHECKED_IN
    assert cancelled.status == Appointment.Status.CANCELLED


# Outside a test transaction, as in production: the services' durable transactions must not nest


@pytest.mark.django_db(transaction=True)
def test_admin_writes_work_outside_a_test_transaction(admin_client, admin_user, service, therapist, patient):
    assert not connection.in_atomic_block
    with time_machine.travel(datetime(2026, 12, 7, 13, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        booked = admin_client.post(add_url(), add_data(patient, therapist, service, start=local(10)))
        assert booked.status_code == 302
        appointment = Appointment.objects.get()
        assert appointment.booked_by == admin_user

        refused = admin_client.post(add_url(), add_data(PatientFactory(), therapist, service, start=local(10, 30)))
        assert refused.status_code == 200
        assert "That time was just taken" in form_errors(refused)

        moved = admin_client.post(change_url(appointment), change_data(appointment, start=local(14)))
        assert moved.status_code == 302

        checked_in = admin_client.post(
            changelist_url(), {"action": "mark_checked_in", "_selected_action": [appointment.pk]}
        )
        assert checked_in.status_code == 302

    appointment.refresh_from_db()
    assert (appointment.start, appointment.status) == (local(14), Appointment.Status.CHECKED_IN)
    assert Appointment.objects.count() == 1
    assert LogEntry.objects.filter(action_flag=ADDITION).count() == 1
    # The confirmation and the reschedule notice go out once each transaction commits.
    assert len(mail.outbox) == 2


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
    actions = [name for name, _ in response.context["action_form"].fields["action"].choices]
    assert {"mark_checked_in", "mark_completed", "mark_no_show", "cancel_appointments"} <= set(actions)


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


def test_time_off_over_booked_appointments_warns(admin_client, appointment, therapist):
    response = admin_client.post(
        reverse("admin:therapists_timeoff_add"),
        {
            "therapist": therapist.pk,
            "start_0": TUESDAY,
            "start_1": "09:00",
            "end_0": TUESDAY,
            "end_1": "17:00",
            "reason": "Course",
        },
        follow=True,
    )

    time_off = TimeOff.objects.get()
    assert time_off.start == local(9)
    assert any("1 appointment is still booked" in str(m) for m in response.context["messages"])


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
    }
    response = admin_client.post(reverse("admin:clinic_clinicsettings_change", args=[clinic.pk]), data)

    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.time_zone, clinic.horizon_days, clinic.cancellation_window_hours) == ("America/Vancouver", 30, 48)


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
