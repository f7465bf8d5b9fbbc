"""Who may see and do what, in one place.

Views, the admin, feeds and the booking services ask these predicates rather
than checking groups or permissions themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.urls import reverse

if TYPE_CHECKING:
    from booking.models import Appointment, Patient
    from therapists.models import Therapist

# Receptionists and managers hold it; it is what "runs the calendar" means.
FRONT_DESK_PERMISSION = "booking.change_appointment"


def works_front_desk(user: Any) -> bool:
    """Receptionists and managers: the calendar, phone bookings, moves, cancellations and patient records."""
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(FRONT_DESK_PERMISSION))


def therapist_of(user: Any) -> Therapist | None:
    """The therapist this staff login belongs to, if any."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    return getattr(user, "therapist", None)


def landing_url(user: Any) -> str:
    """Where each role starts after logging in."""
    if works_front_desk(user):
        return reverse("frontdesk:calendar")
    if user.is_staff:
        return reverse("admin:index")
    return reverse("home")


def appointments_visible_to(user: Any, queryset: QuerySet[Appointment]) -> QuerySet[Appointment]:
    """The front desk sees every appointment; a therapist only their own; anyone else none."""
    if works_front_desk(user):
        return queryset
    therapist = therapist_of(user)
    if therapist is None:
        return queryset.none()
    return queryset.filter(therapist=therapist)


def patients_visible_to(user: Any, queryset: QuerySet[Patient]) -> QuerySet[Patient]:
    """The front desk sees every patient; a therapist only those with an appointment with them."""
    if works_front_desk(user):
        return queryset
    from booking.models import Appointment

    own = appointments_visible_to(user, Appointment.objects.all())
    return queryset.filter(pk__in=own.values("patient_id"))


# Managers configure the clinic; it is also what lets them look at any therapist's schedule.
MANAGER_PERMISSION = "clinic.change_clinicsettings"


def is_manager(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(MANAGER_PERMISSION))


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
