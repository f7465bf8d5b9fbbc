"""Reads of the outbox for staff: the message log, one message, an appointment's messages and the failure count.

Each is a fixed number of queries whatever the number of messages; the large fields (the HTML part and the
calendar file) stay in the database until one message's page asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from notifications.models import OutboundMessage

Status = OutboundMessage.Status
LIST_FIELDS = (
    "kind",
    "channel",
    "recipient",
    "subject",
    "created_at",
    "send_after",
    "status",
    "attempts",
    "sent_at",
    "last_error",
    "patient__name",
    "appointment__start",
    "appointment__patient__name",
)
RETRYABLE = (Status.FAILED, Status.SKIPPED)
APPOINTMENT_MESSAGES_LIMIT = 20


@dataclass(frozen=True)
class LogFilters:
    status: str = ""
    kind: str = ""
    channel: str = ""
    q: str = ""


def message_log(filters: LogFilters) -> QuerySet[OutboundMessage]:
    """Messages matching `filters`, newest first; `q` is part of a recipient's address or a patient's name."""
    rows = (
        OutboundMessage.objects.select_related("patient", "appointment__patient")
        .only(*LIST_FIELDS)
        .order_by("-created_at", "-pk")
    )
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.q:
        rows = rows.filter(
            Q(recipient__icontains=filters.q)
            | Q(patient__name__icontains=filters.q)
            | Q(appointment__patient__name__icontains=filters.q)
        )
    return rows


def message_for_staff(pk: int) -> OutboundMessage | None:
    """One message with its patient and appointment (for the links), in one query."""
    return (
        OutboundMessage.objects.select_related("patient", "appointment__patient", "appointment__therapist")
        .defer("body_html", "attachment")
        .filter(pk=pk)
        .first()
    )


def appointment_messages(appointment_id: int) -> list[OutboundMessage]:
    """The newest messages about one appointment, for its panel: one query."""
    return list(
        OutboundMessage.objects.filter(appointment_id=appointment_id)
        .only("kind", "channel", "recipient", "created_at", "status", "sent_at", "attempts", "last_error")
        .order_by("-created_at", "-pk")[:APPOINTMENT_MESSAGES_LIMIT]
    )


def failed_count() -> int:
    return OutboundMessage.objects.filter(status=Status.FAILED).count()
