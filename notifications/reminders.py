"""Reminders before a session, by email and (for patients who asked) by text, each sent at most once.

`queue_due_reminders(now)` runs on the worker every few minutes (notifications.tasks). For each live
appointment (booked or checked in) that has not started, it works out which of the clinic's reminders
(`ClinicSettings.reminder_offsets`, e.g. 24 and 2 hours before) is the one to send now, and queues it in the
outbox under a dedupe key naming the appointment, the reminder, the start it is for and the channel:
`reminder:<appointment id>:<hours>h:<start, UTC ISO 8601>:<email|sms>`. The unique key makes each reminder
at most once however often, however late and on however many workers the job runs. A moved appointment has
a new start, hence new keys, so its reminders are armed again for the new time; a reminder still queued for
the old time is skipped when its turn comes (notifications.relevance reads the start back from the key).

Which reminder goes (the late-run rule):

- The one whose moment (start − offset) is the latest already passed, and only while the session has not
  started. A worker that was down through the 24-hour mark and comes back 90 minutes before a session sends
  the 2-hour reminder only: a 24-hour reminder never goes after the 2-hour one was due. Back 20 hours
  before, it sends the 24-hour one, late.
- Not a reminder whose moment had already passed when the appointment was booked, moved or restored: the
  patient has just had the email saying the same. So with the 24-hour reminder alone, a session booked
  this afternoon for tomorrow morning gets no reminder; a second, 2-hour reminder covers such bookings.
- Nothing for patients who stopped reminders (`Patient.reminders_stopped_at`); a text only for patients who
  asked for texts (`Patient.text_reminders`) and have a phone number.

Patients stop reminders from the link in every reminder email (a signed token naming the patient, see
`stop_token`) or by replying STOP to a text (notifications.views).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby

from django.core import signing
from django.db import transaction
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from booking import lifecycle
from booking.models import Appointment, AppointmentEvent, Patient
from clinic.models import ClinicSettings
from notifications import outbox
from notifications.models import OutboundMessage

Channel = OutboundMessage.Channel

# History entries that come with an email telling the patient the appointment's time.
ANNOUNCED_BY = (AppointmentEvent.Kind.BOOKED, AppointmentEvent.Kind.MOVED, AppointmentEvent.Kind.UNDONE)

STOP_SALT = "notifications.reminders.stop"
KEY_PATTERN = re.compile(r"^reminder:(?P<appointment>\d+):(?P<hours>\d+)h:(?P<start>.+):(?P<channel>email|sms)$")


@dataclass(frozen=True)
class ReminderKey:
    """What a reminder is for: one appointment, one reminder of the policy, one start time, one channel."""

    appointment_id: int
    offset: timedelta
    start: datetime
    channel: str

    @property
    def hours(self) -> int:
        return int(self.offset.total_seconds() // 3600)

    def __str__(self) -> str:
        return f"reminder:{self.appointment_id}:{self.hours}h:{self.start.astimezone(UTC).isoformat()}:{self.channel}"


def parse_key(value: str | None) -> ReminderKey | None:
    """The reminder a dedupe key names, or None if it is not a reminder's key."""
    match = KEY_PATTERN.match(value or "")
    if match is None:
        return None
    try:
        start = datetime.fromisoformat(match["start"])
    except ValueError:
        return None
    if start.tzinfo is None:
        return None
    return ReminderKey(
        appointment_id=int(match["appointment"]),
        offset=timedelta(hours=int(match["hours"])),
        start=start,
        channel=match["channel"],
    )


def offset_due(
    *, start: datetime, offsets: list[timedelta], announced_at: datetime | None, now: datetime
) -> timedelta | None:
    """The reminder (its offset) to send now for a session at `start`, or None. Pure: the late-run rule above.

    `announced_at` is when the patient was last emailed the appointment's time (booked, moved, restored).
    """
    if start <= now:
        return None
    passed = [offset for offset in offsets if start - offset <= now]
    if not passed:
        return None
    offset = min(passed)
    if announced_at is not None and start - offset <= announced_at:
        return None
    return offset


def superseded_by(*, key: ReminderKey, offsets: list[timedelta], now: datetime) -> timedelta | None:
    """A shorter reminder of the policy whose moment has passed too, which makes `key`'s reminder stale."""
    later = [offset for offset in offsets if offset < key.offset and key.start - offset <= now]
    return min(later) if later else None


def text_number(patient: Patient) -> str:
    """The patient's phone in E.164 if they asked for text reminders, else ""."""
    phone = patient.phone
    if not patient.text_reminders or not phone or not phone.is_valid():
        return ""
    return phone.as_e164


@dataclass
class ReminderRun:
    """What one run of the job did."""

    queued: int = 0
    already_queued: int = 0  # found by the look-up before writing: an earlier run queued them
    lost_race: int = 0  # turned away by the unique dedupe key: a run at the same moment wrote them first


def _candidates(now: datetime, horizon: timedelta) -> list[Appointment]:
    """Live appointments starting within `horizon`, of patients who take reminders: one query."""
    announced = (
        AppointmentEvent.objects.filter(appointment=OuterRef("pk"), kind__in=ANNOUNCED_BY)
        .order_by("-at")
        .values("at")[:1]
    )
    return list(
        Appointment.objects.filter(
            status__in=lifecycle.LIVE,
            start__gt=now,
            start__lte=now + horizon,
            patient__reminders_stopped_at__isnull=True,
        )
        .select_related("patient", "therapist", "service")
        .annotate(announced_at=Subquery(announced))
        .order_by("start", "pk")
    )


def _already_queued(keys: list[str]) -> set[str]:
    """Which of these reminders an earlier run queued: one query, so a run that finds nothing new writes nothing."""
    if not keys:
        return set()
    found = OutboundMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    return {key for key in found if key}


def _subject(context: dict, clinic: ClinicSettings) -> str:
    local_start = context["local_start"]
    return f"Reminder: {date_format(local_start, 'l j F')} at {date_format(local_start, 'g:i A')} – {clinic.name}"


def _queue_one(appointment: Appointment, key: ReminderKey, clinic: ClinicSettings, now: datetime) -> bool:
    patient = appointment.patient
    context = outbox.appointment_context(appointment, clinic)
    context.update(
        patient=patient,
        hours_before=key.hours,
        stop_url=outbox.site_url(reverse("reminders_stop", args=[stop_token(patient)])),
    )
    if key.channel == Channel.SMS:
        recipient, template, subject = text_number(patient), "notifications/sms/reminder", ""
    else:
        recipient, template, subject = patient.email, "notifications/email/reminder", _subject(context, clinic)
    message = outbox.queue(
        kind=OutboundMessage.Kind.REMINDER,
        channel=key.channel,
        recipient=recipient,
        subject=subject,
        template=template,
        context=context,
        now=now,
        appointment=appointment,
        patient=patient,
        dedupe_key=str(key),
    )
    return message is not None


def queue_due_reminders(now: datetime) -> ReminderRun:
    """Queue every reminder whose time has come (see the module's rule); safe to run often, late and in parallel.

    Reads are constant: the clinic's settings, the candidates with their last announcement, the keys already
    queued; then one insert per new reminder, each appointment's in its own short transaction.
    """
    run = ReminderRun()
    clinic = ClinicSettings.load()
    offsets = clinic.reminder_offsets
    if not offsets:
        return run
    planned: list[tuple[Appointment, ReminderKey]] = []
    for appointment in _candidates(now, max(offsets)):
        offset = offset_due(
            start=appointment.start,
            offsets=offsets,
            announced_at=getattr(appointment, "announced_at", None),
            now=now,
        )
        if offset is None:
            continue
        channels = [Channel.EMAIL] + ([Channel.SMS] if text_number(appointment.patient) else [])
        for channel in channels:
            planned.append((appointment, ReminderKey(appointment.pk, offset, appointment.start, channel)))
    existing = _already_queued([str(key) for _, key in planned])
    run.already_queued = sum(1 for _, key in planned if str(key) in existing)
    todo = [(appointment, key) for appointment, key in planned if str(key) not in existing]
    # Keys are written in one fixed order (start, appointment, channel), each appointment's in a short transaction
    # of its own, so two runs never wait on each other in a cycle: a run that meets a key another run is writing
    # waits for that transaction to commit, then the unique key turns it away.
    with timezone.override(clinic.tz):
        for _, group in groupby(todo, key=lambda item: item[0].pk):
            with transaction.atomic():
                for appointment, key in group:
                    if _queue_one(appointment, key, clinic, now):
                        run.queued += 1
                    else:
                        run.lost_race += 1
    return run


# --- stopping and resuming reminders ------------------------------------------------------------------------


def stop_token(patient: Patient) -> str:
    """The token of the patient's stop-reminders link: signed, naming only the patient, and without expiry,
    so the link in an old email still works (it can only stop or resume reminders)."""
    return signing.dumps(patient.pk, salt=STOP_SALT)


def patient_for_token(token: str) -> Patient | None:
    """The patient a stop-reminders token names, or None for a tampered, foreign or stale one."""
    try:
        patient_id = signing.loads(token, salt=STOP_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(patient_id, int):
        return None
    return Patient.objects.filter(pk=patient_id).first()


def stop_reminders(*, patient: Patient, now: datetime) -> None:
    """The patient asked for no more reminders. Idempotent: a second request keeps the first moment."""
    Patient.objects.filter(pk=patient.pk, reminders_stopped_at__isnull=True).update(reminders_stopped_at=now)
    patient.refresh_from_db(fields=["reminders_stopped_at"])


def resume_reminders(*, patient: Patient) -> None:
    """The patient wants reminders again (texts too, if they had asked for texts and did not text STOP)."""
    Patient.objects.filter(pk=patient.pk).update(reminders_stopped_at=None)
    patient.refresh_from_db(fields=["reminders_stopped_at"])


def stop_reminders_for_phone(*, phone: str, now: datetime) -> int:
    """STOP by text: no more reminders, by any channel, for the patients with this phone (E.164).

    Texts are turned off too: the carrier blocks texts to the number until it sends START, so a later
    "turn reminders back on" from an email brings back the emails only.
    """
    return Patient.objects.filter(phone=phone).update(
        reminders_stopped_at=Coalesce(F("reminders_stopped_at"), Value(now)), text_reminders=False
    )


def resume_reminders_for_phone(*, phone: str) -> int:
    """START by text: reminders again, by text too, for the patients with this phone (E.164)."""
    return Patient.objects.filter(phone=phone).update(reminders_stopped_at=None, text_reminders=True)
