"""An appointment's history: written by booking.services inside each write, read back as sentences for staff."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from booking.actors import Actor, Role, Via
from booking.models import Appointment, AppointmentEvent

Kind = AppointmentEvent.Kind


def record(appointment: Appointment, kind: str, actor: Actor, now: datetime, **changes: Any) -> AppointmentEvent:
    """Write one history entry; call it inside the transaction that makes the change."""
    return AppointmentEvent.objects.create(
        appointment=appointment,
        at=now,
        kind=kind,
        actor_role=actor.role,
        actor_user=actor.user,
        actor_name=actor.label()[:150],
        via=actor.via,
        changes={key: value for key, value in changes.items() if value not in (None, "", [])},
    )


def moment(value: datetime) -> str:
    """A datetime as history stores it: ISO 8601 in UTC."""
    return value.isoformat()


def _local(value: str, tz: tzinfo) -> str:
    return f"{datetime.fromisoformat(value).astimezone(tz):%a %-d %b %Y %H:%M}"


def _status(value: str | None) -> str:
    return Appointment.Status(value).label.lower() if value else "new"


def describe(event: AppointmentEvent, tz: tzinfo) -> str:
    """What happened, in a sentence with times on the clinic's clock."""
    changes = event.changes
    parts: list[str] = []
    if event.kind == Kind.BOOKED:
        parts.append(f"Booked for {_local(changes['start'][1], tz)} with {changes['therapist'][1]}")
        if "duration" in changes:
            parts.append(f"{changes['duration'][1]} min")
    elif event.kind == Kind.MOVED:
        if "start" in changes:
            parts.append(f"Moved from {_local(changes['start'][0], tz)} to {_local(changes['start'][1], tz)}")
        if "therapist" in changes:
            parts.append(f"therapist {changes['therapist'][0]} → {changes['therapist'][1]}")
    elif event.kind == Kind.NOTE:
        parts.append("Staff note updated")
    elif event.kind == Kind.PATIENT_MERGED:
        parts.append(f"Patient record merged: {changes['patient'][0]} → {changes['patient'][1]}")
    elif "status" in changes:
        before, after = changes["status"]
        verb = "Undone" if event.kind == Kind.UNDONE else "Status"
        parts.append(f"{verb}: {_status(before)} → {_status(after)}")
    if changes.get("late"):
        parts.append("late cancellation")
    if changes.get("reason"):
        parts.append(f"reason: {changes['reason']}")
    return ", ".join(parts) or event.get_kind_display()


def entry(event: AppointmentEvent, tz: tzinfo) -> dict[str, Any]:
    """One line of the history panel: when, what, who and from where."""
    return {
        "at": event.at,
        "text": describe(event, tz),
        "who": event.actor_name or _label(Role, event.actor_role),
        "via": _label(Via, event.via),
    }


def _label(choices: Any, value: str) -> str:
    return choices(value).label if value in choices.values else value
