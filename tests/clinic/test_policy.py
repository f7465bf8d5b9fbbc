"""clinic/policy.py: a login in each role holds exactly its row of the matrix, and the staff accounts a manager may
touch are those whose every privilege comes from the three roles."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group, Permission

from clinic import policy
from clinic.policy import MATRIX, Capability, Role
from tests.conftest import staff_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


def login_in(role: Role):
    if role == Role.ANONYMOUS:
        return AnonymousUser()
    if role == Role.NO_ROLE:
        return UserFactory(username="nobody")
    if role == Role.SUPERUSER:
        return User.objects.create_superuser("root", "root@example.com", "a-long-test-password")
    return staff_user(role.value.lower(), role.value)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_holds_exactly_its_row_of_the_matrix(role):
    user = login_in(role)

    assert policy.role_of(user) == role
    assert {capability for capability in Capability if policy.may(user, capability)} == MATRIX[role]


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.THERAPIST, Role.MANAGER])
def test_the_admin_permissions_of_each_group_agree_with_the_matrix(role):
    user = login_in(role)
    row = MATRIX[role]

    assert user.has_perm("clinic.change_clinicsettings") == (Capability.EDIT_CLINIC_SETTINGS in row)
    assert all(user.has_perm(p) for p in policy.CONFIGURE_PERMISSIONS) == (Capability.CONFIGURE_CLINIC in row)
    assert any(user.has_perm(p) for p in policy.CONFIGURE_PERMISSIONS) == (Capability.CONFIGURE_CLINIC in row)
    assert user.has_perm("booking.change_appointment") == (Capability.RUN_FRONT_DESK in row)
    assert not user.has_perm("auth.change_user") and not user.has_perm("auth.change_group")


def test_only_a_superuser_manages_superusers_and_permissions():
    holders = {role for role, row in MATRIX.items() if Capability.MANAGE_PERMISSIONS in row}
    holders |= {role for role, row in MATRIX.items() if Capability.MANAGE_SUPERUSERS in row}

    assert holders == {Role.SUPERUSER}


def test_an_inactive_manager_holds_nothing():
    manager = login_in(Role.MANAGER)
    manager.is_active = False

    assert policy.role_of(manager) == Role.ANONYMOUS
    assert not policy.may_manage_staff(manager)


def test_the_named_questions_ask_the_matrix():
    manager, receptionist = login_in(Role.MANAGER), login_in(Role.RECEPTIONIST)

    assert policy.may_manage_staff(manager) and policy.may_unlock_staff(manager)
    assert policy.may_edit_clinic_settings(manager) and policy.may_see_any_schedule(manager)
    assert not policy.may_manage_superusers(manager) and not policy.may_manage_permissions(manager)
    assert policy.may_run_front_desk(receptionist) and not policy.may_manage_staff(receptionist)


def test_a_manager_may_manage_only_accounts_whose_privileges_are_a_role():
    manager = login_in(Role.MANAGER)
    plain = staff_user("tom", "Receptionist")
    no_role = UserFactory(username="new")
    root = User.objects.create_superuser("root", "root@example.com", "a-long-test-password")
    other_group = staff_user("auditor", "Receptionist")
    other_group.groups.add(Group.objects.create(name="Auditors"))
    raw = staff_user("granted", "Therapist")
    raw.user_permissions.add(Permission.objects.get(codename="view_user"))

    manageable = set(policy.manageable_accounts(User.objects.all()).values_list("username", flat=True))

    assert manageable == {"manager", "tom", "new"}
    assert policy.may_manage_account(manager, plain) and policy.may_manage_account(manager, no_role)
    for account in (root, other_group, raw):
        assert not policy.may_manage_account(manager, account)
    assert not policy.may_manage_account(login_in(Role.RECEPTIONIST), plain)
    assert list(policy.staff_accounts_visible_to(plain, User.objects.all())) == []
