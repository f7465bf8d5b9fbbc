"""The worker's jobs, run by Huey: `manage.py run_huey` (make run starts it beside the web server).

Huey keeps the queue in a SQLite file by default, so a fresh machine needs no server, and in Redis in
production (CLINIC_TASK_QUEUE=redis), where any number of machines may run workers. The web pages only
put a "look at the outbox" job on the queue after their transaction commits; the sweep every minute
also catches retries and anything whose job was lost.
"""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from notifications import delivery


@db_task()
def deliver_due_messages() -> dict[str, int]:
    return delivery.deliver_due(timezone.now())


def deliver_due_messages_now() -> None:
    """Queue a look at the outbox (it does not send anything itself, so a web request never waits on mail)."""
    deliver_due_messages()


@db_periodic_task(crontab(minute="*"))
def sweep_outbox() -> dict[str, int]:
    return delivery.deliver_due(timezone.now())
