"""Who may see and do what, in one place.

Views, the admin, feeds and the booking services ask these predicates rather
than checking groups or permissions themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.urls import reverse

from clinic import policy
from clinic.policy import FRONT_DESK_PERMISSION, MANAGER_PERMISSION  # noqa: F401 - still importable from here

if TYPE_CHECKING:
    from booking.models import Appointment, Patient
    from therapists.models import Therapist, TimeOff, WorkingHours

# Which role may do what is clinic/policy.py's table; the rules below say which rows of the calendar each sees.


def works_front_desk(user: Any) -> bool:
    """Receptionists and managers: the calendar, phone bookings, moves, cancellations and patient records."""
    return policy.may_run_front_desk(user)


def therapist_of(user: Any) -> Therapist | None:
    """The therapist this staff login belongs to, if any."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    return getattr(user, "therapist", None)


def landing_url(user: Any) -> str:
    """Where each role starts after logging in."""
    if works_front_desk(user):
        return reverse("frontdesk:calendar")
    if therapist_of(user) is not None:
        return reverse("schedule:today")
    if user.is_staff:
        return reverse("admin:index")
    return reverse("home")


def appointments_visible_to(user: Any, queryset: QuerySet[Appointment]) -> QuerySet[Appointment]:
    """The front desk sees every appointment; a therapist only their own; anyone else none."""
    return _own_rows(user, queryset)


def patients_visible_to(user: Any, queryset: QuerySet[Patient]) -> QuerySet[Patient]:
    """The front desk sees every patient; a therapist only those with an appointment with them."""
    if works_front_desk(user):
        return queryset
    from booking.models import Appointment

    own = appointments_visible_to(user, Appointment.objects.all())
    return queryset.filter(pk__in=own.values("patient_id"))


def sees_appointment(user: Any, appointment: Appointment) -> bool:
    """One appointment, by the rule of `appointments_visible_to`: the front desk any, a therapist their own."""
    return sees_therapist_records(user, appointment.therapist_id)


def sees_patient(user: Any, patient: Patient) -> bool:
    """One patient, by the rule of `patients_visible_to` (one query, except for the front desk)."""
    if works_front_desk(user):
        return True
    from booking.models import Patient

    return patients_visible_to(user, Patient.objects.filter(pk=patient.pk)).exists()


# Colleagues' records: a therapist's registration number and staff login, their weekly hours and their time off
# (whose reason, a dentist or an illness, is nobody else's business) are for the front desk and managers, who
# plan the calendar with them. A therapist sees only their own.


def sees_every_therapist(user: Any) -> bool:
    """The front desk (receptionists and managers): every therapist's record, hours and time off, and lists
    that name them all."""
    return works_front_desk(user)


def sees_therapist_records(user: Any, therapist_id: int | None) -> bool:
    """Whether `user` may see a record (the therapist's own, their hours, their time off) of this therapist."""
    if sees_every_therapist(user):
        return True
    own = therapist_of(user)
    return own is not None and therapist_id == own.pk


def therapists_visible_to(user: Any, queryset: QuerySet[Therapist]) -> QuerySet[Therapist]:
    """Every therapist for the front desk and managers; a therapist only themself; anyone else none."""
    if sees_every_therapist(user):
        return queryset
    own = therapist_of(user)
    return queryset.none() if own is None else queryset.filter(pk=own.pk)


def working_hours_visible_to(user: Any, queryset: QuerySet[WorkingHours]) -> QuerySet[WorkingHours]:
    """Everyone's hours for the front desk and managers; a therapist only their own; anyone else none."""
    return _own_rows(user, queryset)


def time_off_visible_to(user: Any, queryset: QuerySet[TimeOff]) -> QuerySet[TimeOff]:
    """Everyone's time off, reasons included, for the front desk and managers; a therapist only their own."""
    return _own_rows(user, queryset)


def _own_rows(user: Any, queryset: QuerySet) -> QuerySet:
    """Rows with a `therapist`: all of them for the front desk, a therapist's own, or none."""
    if sees_every_therapist(user):
        return queryset
    own = therapist_of(user)
    return queryset.none() if own is None else queryset.filter(therapist=own)


def is_manager(user: Any) -> bool:
    """Managers (and superusers): they configure the clinic, and may look at any therapist's schedule."""
    return policy.may_see_any_schedule(user)


def schedule_owner(user: Any, requested_slug: str | None) -> Therapist | None:
    """Whose schedule `user` may see: a therapist their own (asking for another gives nothing); a manager the
    therapist asked for, or the first active one; anyone else nobody."""
    from therapists.models import Therapist

    own = therapist_of(user)
    if own is not None and not is_manager(user):
        return own if requested_slug in (None, "", own.slug) else None
    if not is_manager(user):
        return None
    therapists = Therapist.objects.order_by("-active", "order", "name", "pk")
    if requested_slug:
        return therapists.filter(slug=requested_slug).first()
    return own or therapists.filter(active=True).first()
