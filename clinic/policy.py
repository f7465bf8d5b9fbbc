"""What each role may do at the clinic: one table, and the questions the rest of the code asks of it.

The roles are the groups the data migrations make (Receptionist, Therapist, Manager) and, above them, superusers.
A login is recognised by the permission its role's group holds (a manager by `clinic.change_clinicsettings`, the
front desk by `booking.change_appointment`), so a check costs nothing beyond Django's own permission cache and
agrees with what the admin panel enforces. `MATRIX` is the rule; tests/clinic/test_policy.py proves that a login
in each role gets exactly its row, and tests/clinic/test_escalation.py that nothing outside it works.

Object-level rules (which appointments, patients and therapists a login sees) live in clinic/permissions.py and
build on these capabilities; the staff accounts a manager may touch are decided here (`may_manage_account`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

# The front desk runs the calendar: receptionists and managers hold it.
FRONT_DESK_PERMISSION = "booking.change_appointment"
# Managers configure the clinic; only their group holds it.
MANAGER_PERMISSION = "clinic.change_clinicsettings"
# Every role's group may look at appointments (a therapist only their own, by clinic/permissions.py).
STAFF_ROLE_PERMISSION = "booking.view_appointment"
# The admin pages where managers set up services, therapists, hours and time off.
CONFIGURE_PERMISSIONS = ("booking.change_service", "therapists.change_therapist", "therapists.change_workinghours")


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    NO_ROLE = "staff login without a role"
    THERAPIST = "Therapist"
    RECEPTIONIST = "Receptionist"
    MANAGER = "Manager"
    SUPERUSER = "superuser"


# The three roles a manager can give, as the group names the data migration made; one per staff account.
STAFF_ROLES: tuple[Role, ...] = (Role.RECEPTIONIST, Role.THERAPIST, Role.MANAGER)
STAFF_ROLE_GROUPS: tuple[str, ...] = tuple(role.value for role in STAFF_ROLES)


class Capability(StrEnum):
    RUN_FRONT_DESK = "run the front desk: calendar, bookings, patients' contact details, waitlist, message log"
    SEE_ANY_SCHEDULE = "open any therapist's schedule"
    CONFIGURE_CLINIC = "set up services, therapists, working hours and time off in the admin"
    EDIT_CLINIC_SETTINGS = "edit the clinic's settings and policies"
    MANAGE_STAFF = "add and edit staff accounts in the three roles, send them a password link"
    UNLOCK_STAFF = "unlock a staff login locked out after failed attempts"
    MANAGE_SUPERUSERS = "see, add and edit superusers"
    MANAGE_PERMISSIONS = "grant raw permissions and groups, set passwords: Django's user and group admin"


_MANAGER = frozenset(
    {
        Capability.RUN_FRONT_DESK,
        Capability.SEE_ANY_SCHEDULE,
        Capability.CONFIGURE_CLINIC,
        Capability.EDIT_CLINIC_SETTINGS,
        Capability.MANAGE_STAFF,
        Capability.UNLOCK_STAFF,
    }
)

# The rule. A therapist's own schedule, appointments and patients are not in it: any login linked to a
# Therapist record has those (clinic/permissions.py, `therapist_of`), whatever its role.
MATRIX: dict[Role, frozenset[Capability]] = {
    Role.ANONYMOUS: frozenset(),
    Role.NO_ROLE: frozenset(),
    Role.THERAPIST: frozenset(),
    Role.RECEPTIONIST: frozenset({Capability.RUN_FRONT_DESK}),
    Role.MANAGER: _MANAGER,
    Role.SUPERUSER: frozenset(Capability),
}


def role_of(user: Any) -> Role:
    """The role a login acts in now: an inactive or anonymous one has none."""
    if not (user and user.is_authenticated and user.is_active):
        return Role.ANONYMOUS
    if user.is_superuser:
        return Role.SUPERUSER
    if user.has_perm(MANAGER_PERMISSION):
        return Role.MANAGER
    if user.has_perm(FRONT_DESK_PERMISSION):
        return Role.RECEPTIONIST
    if user.has_perm(STAFF_ROLE_PERMISSION):
        return Role.THERAPIST
    return Role.NO_ROLE


def may(user: Any, capability: Capability) -> bool:
    return capability in MATRIX[role_of(user)]


def may_run_front_desk(user: Any) -> bool:
    return may(user, Capability.RUN_FRONT_DESK)


def may_see_any_schedule(user: Any) -> bool:
    return may(user, Capability.SEE_ANY_SCHEDULE)


def may_configure_clinic(user: Any) -> bool:
    return may(user, Capability.CONFIGURE_CLINIC)


def may_edit_clinic_settings(user: Any) -> bool:
    return may(user, Capability.EDIT_CLINIC_SETTINGS)


def may_manage_staff(user: Any) -> bool:
    return may(user, Capability.MANAGE_STAFF)


def may_unlock_staff(user: Any) -> bool:
    return may(user, Capability.UNLOCK_STAFF)


def may_manage_superusers(user: Any) -> bool:
    return may(user, Capability.MANAGE_SUPERUSERS)


def may_manage_permissions(user: Any) -> bool:
    return may(user, Capability.MANAGE_PERMISSIONS)


# Staff accounts a manager may touch: those whose every privilege comes from the three roles. A superuser, or a
# login a superuser gave raw permissions or another group, is a superuser's to manage: a manager who could change
# its email and send it a password link could log in as it and take what it holds.


def manageable_accounts(queryset: QuerySet) -> QuerySet:
    """The accounts of `queryset` a manager may list and edit: no superuser, no raw permission, no other group."""
    model = queryset.model
    other_group = model.groups.through.objects.filter(user=OuterRef("pk")).exclude(group__name__in=STAFF_ROLE_GROUPS)
    raw_permission = model.user_permissions.through.objects.filter(user=OuterRef("pk"))
    return queryset.filter(is_superuser=False).exclude(Q(Exists(other_group)) | Q(Exists(raw_permission)))


def staff_accounts_visible_to(user: Any, queryset: QuerySet) -> QuerySet:
    """What the staff accounts page lists to `user`: the manageable accounts to those who manage staff, else none."""
    return manageable_accounts(queryset) if may_manage_staff(user) else queryset.none()


def may_manage_account(user: Any, account: Any) -> bool:
    """Whether `user` may edit `account`, send it a password link or unlock it (one query)."""
    if not may_manage_staff(user) or account is None or account.pk is None:
        return False
    return manageable_accounts(type(account)._default_manager.filter(pk=account.pk)).exists()
