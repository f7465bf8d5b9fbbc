"""The waitlist's writes: joining and leaving it, offering freed time, letting offers lapse, and claiming one.

When a therapist's time frees up (a cancellation, a move, time off taken away, new working hours), the code
that freed it calls `offer_freed_time` inside its own transaction: the offers and their emails are written
with the change, so a rolled-back cancellation offers nothing. The free slots come from the slot engine with
the patients' rules (notice, horizon); who gets which is decided by `booking.waitlist.match`: in order of
joining, each time to one patient at a time, never overlapping another open offer of that therapist.

Offering takes the therapist's row lock (the one a booking takes), then the waiting entries' rows in key
order, so two offerings never hand overlapping times to two patients, nor two times to one patient.

A claim books through `booking.services.appointment_book` with the patient's record and patient rules, so
the time is checked again like any online booking; its request key comes from the offer, so a double click
books once. Two patients racing for one time get one booking, and the other a "slot_taken" refusal.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import availability, selectors, services, waitlist, waitlist_selectors
from booking.actors import Actor, Role, Via
from booking.availability import Interval
from booking.errors import BookingError
from booking.locks import lock, write_transaction
from booking.models import Appointment, ServiceOption, WaitlistEntry, WaitlistOffer
from clinic.models import ClinicSettings
from notifications import outbox
from notifications.models import OutboundMessage
from therapists.models import Therapist, TimeOff, WorkingHours

logger = logging.getLogger(__name__)

EntryStatus = WaitlistEntry.Status
OfferStatus = WaitlistOffer.Status

# Offers lapsed per run of the periodic job; the next run takes the rest.
EXPIRY_BATCH = 100


class WaitlistError(BookingError):
    """A refusal about the waitlist; like every BookingError it carries a code tests assert on."""

    messages = {
        **BookingError.messages,
        "no_offer": _("This link does not match any offer."),
        "claimed": _("You have already booked this time."),
        "expired": _("This offer has expired, so the time went to the next person on the waitlist."),
        "taken": _("That time was just taken by someone else."),
        "withdrawn": _("This offer was withdrawn: the time is no longer free, or the waitlist entry was closed."),
        "not_waiting": _("This patient is no longer on the waitlist."),
        "holding_offer": _("This patient already holds an offered time; wait for their answer or for it to lapse."),
        "held": _("That time is already offered to another patient on the waitlist."),
        "not_free": _("That time is not free for this patient's session."),
        "too_soon": _("That time starts too soon to offer: the patient would have no time to book it."),
    }


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("Freed time is offered inside the transaction of the change that freed it.")


# --- joining and leaving -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinOutcome:
    entry: WaitlistEntry
    created: bool
    """False: the patient was already waiting for this; the confirmation was sent again, nothing else changed."""


def waitlist_join(
    *,
    option: ServiceOption,
    therapist: Therapist | None,
    patient: services.PatientDetails,
    suits: int,
    note: str,
    now: datetime,
    request_key: str | None = None,
) -> JoinOutcome:
    """Put a patient on the waitlist for `option` (with `therapist`, or anyone who gives it) at the times in
    `suits` (booking.waitlist's bits), and email them a confirmation with the link to their place.

    The patient's record is found or made as the booking flow does, and never changed. Someone already
    waiting for the same thing is not added twice: they are sent their link again. A repeated
    `request_key` (a form sent twice) returns the entry it made.
    """
    if not 1 <= suits <= waitlist.ANY_TIME:
        raise BookingError("invalid", "Choose the days and times that suit you.")
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    with write_transaction():
        if request_key:
            made = WaitlistEntry.objects.filter(request_key=request_key).first()
            if made is not None:
                return JoinOutcome(made, True)
        services._check_option(option)
        if therapist is not None:
            services._candidates(option, therapist)
        record = services._patient_for(patient)
        same = (
            WaitlistEntry.objects.filter(
                patient=record,
                service=option.service,
                duration_minutes=option.duration_minutes,
                therapist=therapist,
                status__in=WaitlistEntry.ACTIVE_STATUSES,
            )
            .order_by("joined_at", "pk")
            .first()
        )
        if same is not None:
            # Hourly at most, so a form sent over and over cannot flood someone's inbox.
            _queue_joined(same, now, dedupe_key=f"waitlist-joined:{same.pk}:{now:%Y%m%d%H}")
            return JoinOutcome(same, False)
        entry = WaitlistEntry(
            patient=record,
            service=option.service,
            duration_minutes=option.duration_minutes,
            therapist=therapist,
            suits=suits,
            note=note.strip()[:500],
            joined_at=now,
            request_key=request_key or None,
        )
        entry.save()
        _queue_joined(entry, now)
    return JoinOutcome(entry, True)


def _entry_context(entry: WaitlistEntry, clinic: ClinicSettings) -> dict:
    return {
        "entry": entry,
        "patient": entry.patient,
        "clinic": clinic,
        "suits_text": waitlist.describe(entry.suits),
        "entry_url": outbox.site_url(entry.private_link_path()),
    }


def _queue_joined(entry: WaitlistEntry, now: datetime, dedupe_key: str | None = None) -> None:
    clinic = ClinicSettings.load()
    outbox.queue(
        # The outbox has one kind for the waitlist; the subject tells a confirmation from an offer.
        kind=OutboundMessage.Kind.WAITLIST_OFFER,
        recipient=entry.patient.email,
        subject=f"You're on the waitlist – {clinic.name}",
        template="notifications/email/waitlist_joined",
        context=_entry_context(entry, clinic),
        now=now,
        patient=entry.patient,
        dedupe_key=dedupe_key,
    )


def waitlist_leave(*, entry: WaitlistEntry, now: datetime) -> WaitlistEntry:
    """The patient leaves the waitlist through their link; a time offered to them goes to the next patient."""
    return _end_entry(entry, EntryStatus.LEFT, now, user=None)


def waitlist_remove(*, entry: WaitlistEntry, now: datetime, actor: Actor) -> WaitlistEntry:
    """The front desk takes an entry off the waitlist; a time offered to it goes to the next patient."""
    if actor.role not in (Role.FRONT_DESK, Role.SYSTEM):
        raise BookingError("not_allowed")
    return _end_entry(entry, EntryStatus.REMOVED, now, user=actor.user)


def _end_entry(entry: WaitlistEntry, status: str, now: datetime, *, user) -> WaitlistEntry:
    # Whose time is held, read first: the therapist's row is locked before the entry's, as everywhere else.
    holding = list(
        WaitlistOffer.objects.filter(entry_id=entry.pk, status=OfferStatus.OPEN).values_list("therapist_id", flat=True)
    )
    with write_transaction():
        therapists = {t.pk: t for t in lock(Therapist.objects.filter(pk__in=holding).order_by("pk"), no_key=True)}
        found = lock(WaitlistEntry.objects.filter(pk=entry.pk), no_key=True)
        if not found:
            raise WaitlistError("not_waiting")
        [current] = found
        if not current.is_active:
            return current
        current.status = status
        current.ended_at = now
        current.removed_by = user
        current.save(update_fields=["status", "ended_at", "removed_by"])
        for offer in lock(WaitlistOffer.objects.filter(entry_id=current.pk, status=OfferStatus.OPEN), no_key=True):
            _close(offer, OfferStatus.WITHDRAWN, now)
            therapist = therapists.get(offer.therapist_id)
            if therapist is None:
                # Offered since the first read, so its therapist is not locked yet: locking it now, after the
                # entry, could deadlock with a claim; a second try reads it first.
                raise BookingError("busy")
            _offer_stretches(
                therapist=therapist,
                stretches=[Interval(offer.start, offer.blocked_until)],
                now=now,
                skip_entries={current.pk},
            )
    return current


# --- offering freed time -------------------------------------------------------------------------------


def offer_freed_time(*, therapist: Therapist, start: datetime, end: datetime, now: datetime) -> list[WaitlistOffer]:
    """Offer the free slots in `therapist`'s time from `start` to `end`, just freed, to the waiting patients.

    Call it inside the transaction that freed the time. A slot counts when a session there would use some of
    that time; it must be one a patient could book online now (notice, horizon). One query when nobody waits.
    """
    _require_transaction()
    return _offer_stretches(therapist=therapist, stretches=[Interval(start, end)], now=now)


def _waiting_for(therapist: Therapist) -> QuerySet[WaitlistEntry]:
    """Waiting entries a time with `therapist` could suit: a service they give, and them or anyone."""
    return WaitlistEntry.objects.filter(
        Q(therapist__isnull=True) | Q(therapist_id=therapist.pk),
        status=EntryStatus.WAITING,
        service__active=True,
        service__therapists=therapist,
    )


def _offer_stretches(
    *,
    therapist: Therapist,
    stretches: Sequence[Interval],
    now: datetime,
    skip_entries: Collection[int] = (),
) -> list[WaitlistOffer]:
    stretches = [stretch for stretch in availability.merge(stretches) if stretch.end > now]
    if not stretches:
        return []
    candidates = _waiting_for(therapist).exclude(pk__in=list(skip_entries))
    if not candidates.exists():
        return []
    found = lock(Therapist.objects.filter(pk=therapist.pk, active=True), no_key=True)
    if not found:
        return []
    [locked] = found
    entries = lock(candidates.select_related("patient", "service").order_by("pk"), no_key=True)
    if not entries:
        return []
    clinic = ClinicSettings.load()
    tz = clinic.tz
    wanted = {(entry.service_id, entry.duration_minutes) for entry in entries}
    options = {
        (option.service_id, option.duration_minutes): option
        for option in ServiceOption.objects.select_related("service").filter(
            active=True, service_id__in={service for service, _ in wanted}
        )
        if (option.service_id, option.duration_minutes) in wanted
    }
    if not options:
        return []
    first = min(stretch.start for stretch in stretches)
    last = max(stretch.end for stretch in stretches)
    # A session touching the stretch may begin up to its length plus buffer earlier.
    longest = max(option.duration + option.service.buffer for option in options.values())
    first_day = (first - longest).astimezone(tz).date()
    last_day = last.astimezone(tz).date()
    working, busy = selectors.calendars([locked], first_day, last_day, clinic)[locked]
    openings: dict[tuple[int, int], list[waitlist.Opening]] = {}
    for key, option in options.items():
        slots = availability.free_slots(working=working, busy=busy, rules=selectors.search_rules(option, clinic, now))
        openings[key] = [
            opening
            for opening in (waitlist.Opening(slot.start, slot.end, slot.end + option.service.buffer) for slot in slots)
            if waitlist.touches(opening, stretches) and _expiry(opening, clinic, now) is not None
        ]
    held, offered_before, busy_patients = _offers_around(locked, entries, first - longest, last + longest)
    wishes = [
        waitlist.Wish(
            key=entry.pk,
            joined=entry.joined_at,
            length=(entry.service_id, entry.duration_minutes),
            therapist=entry.therapist_id,
            suits=entry.suits,
            patient=entry.patient_id,
        )
        for entry in entries
    ]
    by_pk = {entry.pk: entry for entry in entries}
    matches = waitlist.match(
        wishes,
        openings,
        therapist=locked.pk,
        tz=tz,
        held=held,
        offered_before=offered_before,
        busy_patients=busy_patients,
    )
    return [_make_offer(by_pk[m.wish.key], locked, m.opening, now, clinic) for m in matches]


def _offers_around(
    therapist: Therapist, entries: Sequence[WaitlistEntry], start: datetime, end: datetime
) -> tuple[list[Interval], set[tuple[int, datetime]], set[int]]:
    """In one query: the therapist's open offers near the stretch (held times), the times of this therapist these
    entries let lapse (not offered to them again; a time taken from under them may be), and the patients holding
    an open offer."""
    rows = WaitlistOffer.objects.filter(
        Q(therapist_id=therapist.pk, status=OfferStatus.OPEN, start__lt=end, blocked_until__gt=start)
        | Q(therapist_id=therapist.pk, status=OfferStatus.EXPIRED, entry_id__in=[entry.pk for entry in entries])
        | Q(status=OfferStatus.OPEN, entry__patient_id__in={entry.patient_id for entry in entries})
    ).values_list("therapist_id", "entry_id", "entry__patient_id", "start", "blocked_until", "status")
    held: list[Interval] = []
    offered_before: set[tuple[int, datetime]] = set()
    busy_patients: set[int] = set()
    for therapist_id, entry_id, patient_id, offer_start, blocked_until, status in rows:
        if status == OfferStatus.EXPIRED:
            offered_before.add((entry_id, offer_start.astimezone(UTC)))
            continue
        if therapist_id == therapist.pk:
            held.append(Interval(offer_start, blocked_until))
        busy_patients.add(patient_id)
    return held, offered_before, busy_patients


def _expiry(opening: waitlist.Opening, clinic: ClinicSettings, now: datetime) -> datetime | None:
    return waitlist.offer_expiry(
        now=now, lifetime=clinic.waitlist_offer_lifetime, start=opening.start, notice=clinic.min_notice
    )


def _make_offer(
    entry: WaitlistEntry,
    therapist: Therapist,
    opening: waitlist.Opening,
    now: datetime,
    clinic: ClinicSettings,
    offered_by=None,
) -> WaitlistOffer:
    expires = _expiry(opening, clinic, now)
    if expires is None:
        raise WaitlistError("too_soon")
    offer = WaitlistOffer(
        entry=entry,
        therapist=therapist,
        start=opening.start,
        end=opening.end,
        blocked_until=opening.blocked_until,
        sent_at=now,
        expires_at=expires,
        offered_by=offered_by,
    )
    offer.save()
    entry.status = EntryStatus.OFFERED
    entry.save(update_fields=["status"])
    _queue_offer(offer, clinic, now)
    return offer


def _queue_offer(offer: WaitlistOffer, clinic: ClinicSettings, now: datetime) -> None:
    entry = offer.entry
    tz = clinic.tz
    local_start = offer.start.astimezone(tz)
    context = {
        **_entry_context(entry, clinic),
        "offer": offer,
        "therapist": offer.therapist,
        "local_start": local_start,
        "local_end": offer.end.astimezone(tz),
        "local_expires": offer.expires_at.astimezone(tz),
        "offer_url": outbox.site_url(offer.private_link_path()),
    }
    with timezone.override(tz):
        outbox.queue(
            kind=OutboundMessage.Kind.WAITLIST_OFFER,
            recipient=entry.patient.email,
            subject=f"A time opened up: {local_start:%a %-d %b}, {local_start:%-I:%M %p} – {clinic.name}",
            template="notifications/email/waitlist_offer",
            context=context,
            now=now,
            patient=entry.patient,
        )


def _close(offer: WaitlistOffer, status: str, now: datetime, appointment: Appointment | None = None) -> None:
    offer.status = status
    offer.closed_at = now
    fields = ["status", "closed_at"]
    if appointment is not None:
        offer.appointment = appointment
        fields.append("appointment")
    offer.save(update_fields=fields)


# --- offers that lapse -------------------------------------------------------------------------------


def offers_expire(*, now: datetime) -> int:
    """Close the open offers whose time to answer is over, and offer each time to the next matching patient
    if it is still free. Each offer in a transaction of its own. Returns how many lapsed."""
    due = list(
        WaitlistOffer.objects.filter(status=OfferStatus.OPEN, expires_at__lte=now)
        .order_by("expires_at", "pk")
        .values_list("pk", "therapist_id")[:EXPIRY_BATCH]
    )
    return sum(1 for pk, therapist_id in due if _expire(pk, therapist_id, now))


def _expire(pk: int, therapist_id: int, now: datetime) -> bool:
    try:
        with write_transaction():
            [therapist] = lock(Therapist.objects.filter(pk=therapist_id), no_key=True)
            found = lock(WaitlistOffer.objects.filter(pk=pk, status=OfferStatus.OPEN, expires_at__lte=now), no_key=True)
            if not found:
                return False
            [offer] = found
            booked = Appointment.objects.filter(request_key=claim_key(offer)).first()
            if booked is not None:
                # Booked through the link, but the offer was never marked (the claim stopped half way).
                _close(offer, OfferStatus.CLAIMED, now, appointment=booked)
                WaitlistEntry.objects.filter(pk=offer.entry_id).update(status=EntryStatus.BOOKED, ended_at=now)
                return False
            _close(offer, OfferStatus.EXPIRED, now)
            _offer_stretches(
                therapist=therapist,
                stretches=[Interval(offer.start, offer.blocked_until)],
                now=now,
                skip_entries={offer.entry_id},
            )
            # Back to waiting for the next time that frees up; updated last, after the other entries' locks.
            WaitlistEntry.objects.filter(pk=offer.entry_id, status=EntryStatus.OFFERED).update(
                status=EntryStatus.WAITING
            )
    except BookingError:
        logger.warning("Waitlist offer %s could not be closed now (calendar busy); the next run retries", pk)
        return False
    return True


# --- claiming an offer -------------------------------------------------------------------------------


def claim_key(offer: WaitlistOffer) -> str:
    """The booking's request key: one booking per offer however often the button is pressed. Derived from the
    secret token, so nobody can guess it and replay it through the public booking form."""
    return "waitlist-" + hashlib.sha256(offer.token.encode()).hexdigest()[:40]


def offer_claim(*, offer: WaitlistOffer, now: datetime) -> Appointment:
    """Book the time offered, for the patient it was offered to: through `appointment_book` with patient rules.

    Refused (WaitlistError) when the offer is no longer open or its time to answer is over. If the time was
    taken meanwhile, the BookingError (slot_taken) is raised after the offer is closed and the patient put
    back on the waitlist. Pressing the button again once booked returns the same appointment.
    """
    if offer.status == OfferStatus.CLAIMED and offer.appointment is not None:
        return offer.appointment
    if offer.status != OfferStatus.OPEN:
        raise WaitlistError(offer.status)
    if offer.expires_at <= now:
        raise WaitlistError("expired")
    entry = offer.entry
    option = waitlist_selectors.option_for_length(entry.service_id, entry.duration_minutes)
    try:
        if option is None:
            raise BookingError("service_unavailable")
        appointment = services.appointment_book(
            option=option,
            therapist=offer.therapist,
            start=offer.start,
            patient=entry.patient,
            now=now,
            actor=Actor.patient(Via.WAITLIST),
            request_key=claim_key(offer),
        )
    except BookingError as error:
        if error.code != "busy":
            _after_refusal(offer, error, now)
        raise
    _after_booking(offer, appointment, now)
    return appointment


def _after_booking(offer: WaitlistOffer, appointment: Appointment, now: datetime) -> None:
    with write_transaction():
        [current] = lock(WaitlistOffer.objects.filter(pk=offer.pk), no_key=True)
        if current.status != OfferStatus.CLAIMED:
            _close(current, OfferStatus.CLAIMED, now, appointment=appointment)
        WaitlistEntry.objects.filter(pk=current.entry_id).exclude(status=EntryStatus.BOOKED).update(
            status=EntryStatus.BOOKED, ended_at=now
        )
    offer.refresh_from_db()


def _after_refusal(offer: WaitlistOffer, error: BookingError, now: datetime) -> None:
    """The time could not be booked: the offer is closed and the patient waits for the next time."""
    with write_transaction():
        found = lock(WaitlistOffer.objects.filter(pk=offer.pk, status=OfferStatus.OPEN), no_key=True)
        if not found:
            return
        [current] = found
        _close(current, OfferStatus.TAKEN if error.code == "slot_taken" else OfferStatus.WITHDRAWN, now)
        WaitlistEntry.objects.filter(pk=current.entry_id, status=EntryStatus.OFFERED).update(status=EntryStatus.WAITING)
    offer.refresh_from_db()


# --- the front desk offers a time by hand ------------------------------------------------------------


def offer_by_hand(
    *, entry: WaitlistEntry, therapist: Therapist, start: datetime, now: datetime, actor: Actor
) -> WaitlistOffer:
    """The front desk offers one free time to one waiting patient, as the waitlist would: by email, with a link.

    The time must be one the patient could book online now, with a therapist who gives the service, not
    offered to anyone else; the patient must not be holding another offer.
    """
    if actor.role not in (Role.FRONT_DESK, Role.SYSTEM):
        raise BookingError("not_allowed")
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    start = start.astimezone(UTC)
    with write_transaction():
        clinic = ClinicSettings.load()
        found = lock(Therapist.objects.filter(pk=therapist.pk), no_key=True)
        rows = lock(WaitlistEntry.objects.select_related("patient", "service").filter(pk=entry.pk), no_key=True)
        if not rows:
            raise WaitlistError("not_waiting")
        [current] = rows
        if current.status == EntryStatus.OFFERED:
            raise WaitlistError("holding_offer")
        if current.status != EntryStatus.WAITING:
            raise WaitlistError("not_waiting")
        option = waitlist_selectors.option_for_length(current.service_id, current.duration_minutes)
        if option is None or not (option.active and option.service.active):
            raise BookingError("service_unavailable")
        if not found or not found[0].active or not found[0].services.filter(pk=current.service_id).exists():
            raise BookingError("therapist_unavailable")
        [locked] = found
        day = start.astimezone(clinic.tz).date()
        working, busy = selectors.calendars([locked], day, day, clinic)[locked]
        slots = availability.free_slots(working=working, busy=busy, rules=selectors.search_rules(option, clinic, now))
        slot = next((slot for slot in slots if slot.start.astimezone(UTC) == start), None)
        if slot is None:
            raise WaitlistError("not_free")
        opening = waitlist.Opening(slot.start, slot.end, slot.end + option.service.buffer)
        held, _, busy_patients = _offers_around(locked, [current], opening.start, opening.blocked_until)
        if current.patient_id in busy_patients:
            raise WaitlistError("holding_offer")
        if waitlist.touches(opening, held):
            raise WaitlistError("held")
        return _make_offer(current, locked, opening, now, clinic, offered_by=actor.user)


# --- time that changes of hours or time off open up -------------------------------------------------


@dataclass(frozen=True)
class OpenTime:
    """A therapist's working time outside approved time off over the bookable days, before a change."""

    therapist: Therapist
    intervals: list[Interval]


def open_times(therapists: Iterable[Therapist], now: datetime) -> list[OpenTime]:
    """Each therapist's open time (working hours less approved time off) from now to the booking horizon, in
    three queries however many therapists. Taken before a change in the admin, for `offer_time_opened` after."""
    therapists = list({therapist.pk: therapist for therapist in therapists if therapist.pk is not None}.values())
    if not therapists:
        return []
    clinic = ClinicSettings.load()
    tz = clinic.tz
    first_day = timezone.localdate(now, tz)
    last_day = first_day + timedelta(days=clinic.horizon_days)
    ids = [therapist.pk for therapist in therapists]
    active = set(Therapist.objects.filter(pk__in=ids, active=True).values_list("pk", flat=True))
    weekly: dict[int, dict[int, list]] = {pk: {} for pk in ids}
    for therapist_id, weekday, opens, closes in WorkingHours.objects.filter(therapist_id__in=ids).values_list(
        "therapist_id", "weekday", "start", "end"
    ):
        weekly[therapist_id].setdefault(weekday, []).append((opens, closes))
    away: dict[int, list[Interval]] = {pk: [] for pk in ids}
    for therapist_id, start, end in (
        TimeOff.objects.approved().filter(therapist_id__in=ids, end__gt=now).values_list("therapist_id", "start", "end")
    ):
        away[therapist_id].append(Interval(start, end))
    return [
        OpenTime(
            therapist,
            _minus(availability.working_intervals(weekly[therapist.pk], first_day, last_day, tz), away[therapist.pk])
            if therapist.pk in active
            else [],
        )
        for therapist in therapists
    ]


def _minus(intervals: Iterable[Interval], away: Iterable[Interval]) -> list[Interval]:
    covered = availability.merge(away)
    return [piece for interval in availability.merge(intervals) for piece in waitlist.gained(covered, [interval])]


def offer_time_opened(*, before: Iterable[OpenTime], now: datetime) -> list[WaitlistOffer]:
    """After the admin saved hours, time off or the active flag: offer the time that change opened, therapist by
    therapist in key order (the order their rows are locked in)."""
    _require_transaction()
    before = sorted(before, key=lambda found: found.therapist.pk)
    offers: list[WaitlistOffer] = []
    for was, now_open in zip(before, open_times([found.therapist for found in before], now), strict=True):
        opened = waitlist.gained(was.intervals, now_open.intervals)
        if opened:
            offers += _offer_stretches(therapist=was.therapist, stretches=opened, now=now)
    return offers
