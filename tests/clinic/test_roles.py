"""The staff roles made by the data migrations, and what each may open in the admin panel."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import UserFactory


def codenames(role: str) -> set[str]:
    return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))


@pytest.fixture
def staff_in(db, client):
    def login(role: str):
        user = UserFactory(username=role.lower())
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client

    return login


def test_the_three_roles_exist_after_migrations(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {"Receptionist", "Therapist", "Manager"}


def test_receptionist_runs_appointments_and_patients_but_not_services(db):
    granted = codenames("Receptionist")
    assert {"view_appointment", "add_appointment", "change_appointment"} <= granted
    assert {"view_patient", "add_patient", "change_patient"} <= granted
    assert "view_service" in granted
    assert not granted & {"add_service", "change_service", "delete_service", "change_serviceoption"}
    assert not granted & {"change_therapist", "change_workinghours", "change_timeoff", "change_clinicsettings"}


def test_therapist_only_views(db):
    granted = codenames("Therapist")
    assert granted
    assert all(codename.startswith("view_") for codename in granted)
    assert {"view_appointment", "view_patient"} <= granted
    assert "view_clinicsettings" not in granted


def test_manager_configures_services_therapists_and_policies(db):
    granted = codenames("Manager")
    assert {"add_service", "change_service", "change_serviceoption"} <= granted
    assert {"add_therapist", "change_therapist", "change_workinghours", "add_timeoff", "change_timeoff"} <= granted
    assert {"view_clinicsettings", "change_clinicsettings"} <= granted
    assert "change_appointment" in granted


@pytest.mark.parametrize("role", ["Receptionist", "Therapist", "Manager"])
def test_no_role_holds_a_permission_on_logins_groups_or_permissions(db, role):
    # Managers once held view, add and change on users, which let them make themselves superuser through the
    # user admin; they look after staff accounts at /frontdesk/staff/ now (tests/frontdesk/test_staff_accounts.py).
    held = Group.objects.get(name=role).permissions.filter(content_type__app_label="auth")
    assert list(held.values_list("codename", flat=True)) == []


@pytest.mark.parametrize("role", ["Receptionist", "Therapist", "Manager"])
def test_no_role_may_delete_appointments_or_patients(db, role):
    assert not codenames(role) & {"delete_appointment", "delete_patient", "delete_clinicsettings"}


def test_receptionist_opens_appointments_but_not_the_service_add_page(staff_in):
    client = staff_in("Receptionist")

    assert client.get(reverse("admin:booking_appointment_changelist")).status_code == 200
    assert client.get(reverse("admin:booking_appointment_add")).status_code == 403  # booked at the front desk
    assert client.get(reverse("admin:booking_patient_add")).status_code == 200
    assert client.get(reverse("admin:booking_service_changelist")).status_code == 200
    assert client.get(reverse("admin:booking_service_add")).status_code == 403
    assert client.get(reverse("admin:therapists_therapist_add")).status_code == 403
    assert client.get(reverse("admin:clinic_clinicsettings_changelist")).status_code == 403


def test_therapist_views_but_cannot_add(staff_in):
    client = staff_in("Therapist")

    assert client.get(reverse("admin:booking_appointment_changelist")).status_code == 200
    assert client.get(reverse("admin:booking_appointment_add")).status_code == 403
    assert client.get(reverse("admin:booking_patient_add")).status_code == 403
    assert client.get(reverse("admin:therapists_workinghours_add")).status_code == 403


def test_manager_opens_the_configuration_pages(staff_in):
    client = staff_in("Manager")

    assert client.get(reverse("admin:booking_service_add")).status_code == 200
    assert client.get(reverse("admin:therapists_therapist_add")).status_code == 200
    assert client.get(reverse("admin:therapists_timeoff_add")).status_code == 200
    assert client.get(reverse("admin:clinic_clinicsettings_changelist"), follow=True).status_code == 200


def test_manager_no_longer_opens_the_user_and_group_admin(staff_in):
    client = staff_in("Manager")

    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_user_add")).status_code == 403
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:auth_user_changelist") not in index


def test_a_superuser_still_manages_users_and_groups(db, client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "a-long-test-password"))

    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200
    assert client.get(reverse("admin:auth_user_add")).status_code == 200
    assert client.get(reverse("admin:auth_group_add")).status_code == 200


def test_staff_without_a_role_is_refused(db, client):
    client.force_login(UserFactory(username="nobody"))

    assert client.get(reverse("admin:booking_appointment_changelist")).status_code == 403
