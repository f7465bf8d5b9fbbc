"""The worker's side of the outbox: claim a due message, send it, record what happened.

A message is claimed in a short transaction of its own (skipping rows another worker holds), sent outside
any transaction, then marked sent, or put back with a later time to try (1, 2, 4, 8 minutes), or failed for
good after MAX_ATTEMPTS with the reason kept for staff. A refusal for good (channels.refused_for_good: an SMTP 5xx,
a number that cannot take texts) fails at once. A claim left behind by a worker that died is taken over after
STALE_CLAIM.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from time import monotonic

from django.db import connection, transaction
from django.db.models import Q

from notifications import channels, relevance, selectors
from notifications.models import OutboundMessage

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)
STALE_CLAIM = timedelta(minutes=10)
BATCH = 100
# A batch takes no new message after running this long (the sweep every minute takes the rest), so the `now`
# its claims are stamped with is never much older than the claim: see deliver_due.
BATCH_TIME = timedelta(minutes=1)


def _claimable(now: datetime) -> Q:
    return Q(status=Status.PENDING, send_after__lte=now) | Q(status=Status.SENDING, claimed_at__lt=now - STALE_CLAIM)


def due_ids(now: datetime, limit: int = BATCH) -> list[int]:
    return list(
        OutboundMessage.objects.filter(_claimable(now))
        .order_by("send_after", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _claim(message_id: int, now: datetime) -> OutboundMessage | None:
    """Take the message for this worker, or None if it is not due or another worker has it."""
    with transaction.atomic():
        rows = OutboundMessage.objects.filter(_claimable(now), pk=message_id)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        message = rows.first()
        if message is None:
            return None
        message.status = Status.SENDING
        message.claimed_at = now
        message.attempts += 1
        message.save(update_fields=["status", "claimed_at", "attempts"])
    return message


def retry_delay(attempts: int) -> timedelta:
    return FIRST_RETRY * 2 ** max(attempts - 1, 0)


def deliver(message_id: int, now: datetime) -> str | None:
    """Send one message if it is due; return its new status, or None if this worker did not get it."""
    message = _claim(message_id, now)
    if message is None:
        return None
    reason = relevance.why_not_send(message, now)
    if reason:
        message.status, message.last_error = Status.SKIPPED, reason
        message.save(update_fields=["status", "last_error"])
        return message.status
    try:
        channels.send(message)
    except Exception as error:  # every failure of a send is recorded on the message, whatever its kind
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        if channels.refused_for_good(error):
            message.status = Status.FAILED
            logger.warning("Message %s refused for good: %s", message.pk, type(error))
        elif message.attempts >= MAX_ATTEMPTS:
            message.status = Status.FAILED
            logger.warning("Gave up on message %s after %s attempts: %s", message.pk, message.attempts, type(error))
        else:
            message.status = Status.PENDING
            message.send_after = now + retry_delay(message.attempts)
        message.save(update_fields=["status", "last_error", "send_after"])
        return message.status
    message.status, message.sent_at = Status.SENT, now
    message.save(update_fields=["status", "sent_at"])
    return message.status


def deliver_due(now: datetime) -> dict[str, int]:
    """Send the messages due now, for at most BATCH_TIME; return how many ended in each status.

    Every claim of the batch is stamped `now`. Against a slow mail server (up to EMAIL_TIMEOUT a send) a long
    batch would stamp a claim made many minutes later with that old time; another worker would take it for a
    dead worker's claim (older than STALE_CLAIM) while it is being sent, and send the message a second time.
    """
    outcome: dict[str, int] = {}
    started = monotonic()
    for message_id in due_ids(now):
        if monotonic() - started > BATCH_TIME.total_seconds():
            break
        status = deliver(message_id, now)
        if status is not None:
            outcome[status] = outcome.get(status, 0) + 1
    return outcome


def retry(message: OutboundMessage, now: datetime) -> None:
    """Staff asked to try a failed message again: it goes back to the queue with a fresh count."""
    OutboundMessage.objects.filter(pk=message.pk, status__in=selectors.RETRYABLE).update(
        status=Status.PENDING, send_after=now, attempts=0, claimed_at=None
    )
