"""Who makes a change to an appointment: a staff member, the patient through their private link, or the system.

Every write in `booking.services` takes an Actor. Its role decides what the
lifecycle allows; its channel says where the change came from, and both are
written to the appointment's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from clinic import permissions


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    FRONT_DESK = "front_desk", "Front desk"
    THERAPIST = "therapist", "Therapist"
    SYSTEM = "system", "System"
    NONE = "none", "Staff without a role"


class Via(models.TextChoices):
    """Where a change came from."""

    ONLINE_BOOKING = "online", "Online booking"
    PRIVATE_LINK = "private_link", "Patient's private link"
    FRONT_DESK = "front_desk", "Front desk"
    SCHEDULE = "schedule", "Therapist's schedule"
    COMMAND = "command", "Management command"
    WAITLIST = "waitlist", "Waitlist offer"


@dataclass(frozen=True)
class Actor:
    role: Role
    via: Via
    user: Any = None
    therapist_id: int | None = None
    name: str = ""

    @classmethod
    def staff(cls, user: Any, via: Via = Via.FRONT_DESK) -> Actor:
        """A logged-in staff member; their role comes from their permissions, read now."""
        if permissions.works_front_desk(user):
            role = Role.FRONT_DESK
        elif (therapist := permissions.therapist_of(user)) is not None:
            return cls(Role.THERAPIST, via, user, therapist.pk, _user_name(user))
        else:
            role = Role.NONE
        return cls(role, via, user, None, _user_name(user))

    @classmethod
    def patient(cls, via: Via = Via.PRIVATE_LINK) -> Actor:
        return cls(Role.PATIENT, via, name="Patient")

    @classmethod
    def system(cls, name: str) -> Actor:
        """A job or command acting on the clinic's behalf, named for the history."""
        return cls(Role.SYSTEM, Via.COMMAND, name=name)

    @property
    def is_staff_side(self) -> bool:
        """Staff rules apply: any minute inside working hours, short notice allowed."""
        return self.role in (Role.FRONT_DESK, Role.SYSTEM)

    def label(self) -> str:
        return self.name or self.role.label


def _user_name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""
