"""The worker's jobs, run by Huey: `manage.py run_huey` (make run starts it beside the web server).

Huey keeps the queue in a SQLite file by default, so a fresh machine needs no server, and in Redis in
production (CLINIC_TASK_QUEUE=redis), where any number of machines may run workers. The web pages only
put a "look at the outbox" job on the queue after their transaction commits; the sweep every minute
also catches retries and anything whose job was lost.
"""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from notifications import delivery, reminders

logger = logging.getLogger(__name__)


@db_task()
def deliver_due_messages() -> dict[str, int]:
    return delivery.deliver_due(timezone.now())


def deliver_due_messages_now() -> None:
    """Queue a look at the outbox (it does not send anything itself, so a web request never waits on mail).

    Called after the change has committed: if the queue cannot be reached (Redis down or not answering), the
    message is already safe in the outbox and the sweep sends it once the queue is back. So the failure is
    logged and the page goes on, instead of showing an error for a booking that was made (and made again).
    """
    try:
        deliver_due_messages()
    except Exception:  # whatever the queue's client raises, the change is done and its messages are kept
        logger.warning("Could not ask the worker to send now; the outbox sweep will send the message", exc_info=True)


@db_periodic_task(crontab(minute="*"))
def sweep_outbox() -> dict[str, int]:
    return delivery.deliver_due(timezone.now())


@db_periodic_task(crontab(minute="*/5"))
def send_reminders() -> dict[str, int]:
    """Queue the reminders whose time has come, then send what is due. Every worker's scheduler runs this, so
    it may run on several machines at once: the reminders' dedupe keys and the outbox's claims keep each once."""
    now = timezone.now()
    reminders.queue_due_reminders(now)
    return delivery.deliver_due(now)
