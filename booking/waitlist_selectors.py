"""Reads for the waitlist's pages: the patient's join form, their entry and offer links, and the front desk's list.

Each in a fixed number of queries, whatever the size of the waitlist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Prefetch, Q

from booking import availability, selectors, waitlist
from booking.availability import Slot
from booking.models import ServiceOption, WaitlistEntry, WaitlistOffer
from clinic.models import ClinicSettings
from therapists.models import Therapist, WorkingHours

# How long the front desk still sees an entry once it was booked, left or removed.
RECENTLY_CLOSED = timedelta(days=14)
CLOSED_SHOWN = 50


def option_for_length(service_id: int, minutes: int) -> ServiceOption | None:
    """The service length an entry asks for (active or not), with its service: one query."""
    return (
        ServiceOption.objects.select_related("service").filter(service_id=service_id, duration_minutes=minutes).first()
    )


def entry_by_token(token: str) -> WaitlistEntry | None:
    """A patient's place on the waitlist, from the link in their email: one query."""
    if not selectors.token_shape_ok(token):
        return None
    return WaitlistEntry.objects.select_related("patient", "service", "therapist").filter(token=token).first()


def offer_by_token(token: str) -> WaitlistOffer | None:
    """The offer a link opens, with everything its page shows, in one query; None for a wrong token."""
    if not selectors.token_shape_ok(token):
        return None
    return (
        WaitlistOffer.objects.select_related(
            "entry__patient", "entry__service", "entry__therapist", "therapist", "appointment"
        )
        .filter(token=token)
        .first()
    )


def open_parts() -> dict[int, set[waitlist.Part]]:
    """The parts of each weekday in which some active therapist works: the join form offers only those. One query."""
    weekly: dict[int, list] = {}
    for weekday, opens, closes in WorkingHours.objects.filter(therapist__active=True).values_list(
        "weekday", "start", "end"
    ):
        weekly.setdefault(weekday, []).append((opens, closes))
    return waitlist.open_parts(weekly)


def waitlist_for_front_desk(now: datetime) -> tuple[list[WaitlistEntry], list[WaitlistEntry]]:
    """Everyone waiting (or holding an offer) in order of joining, and the entries closed lately (newest first),
    each with its patient, service, therapist and its offers (newest first, with their therapist). Two queries."""
    rows = list(
        WaitlistEntry.objects.filter(
            Q(status__in=WaitlistEntry.ACTIVE_STATUSES) | Q(ended_at__gte=now - RECENTLY_CLOSED)
        )
        .select_related("patient", "service", "therapist")
        .prefetch_related(
            Prefetch("offers", queryset=WaitlistOffer.objects.select_related("therapist").order_by("-sent_at", "-pk"))
        )
        .order_by("joined_at", "pk")
    )
    active = [entry for entry in rows if entry.is_active]
    closed = sorted((entry for entry in rows if not entry.is_active), key=lambda e: e.ended_at or now, reverse=True)
    return active, closed[:CLOSED_SHOWN]


def entry_for_front_desk(pk: int) -> WaitlistEntry | None:
    return WaitlistEntry.objects.select_related("patient", "service", "therapist").filter(pk=pk).first()


@dataclass(frozen=True)
class TimeToOffer:
    slot: Slot
    suits: bool
    held: bool

    @property
    def value(self) -> str:
        return self.slot.start.astimezone(UTC).isoformat()


def times_to_offer(
    entry: WaitlistEntry, option: ServiceOption, first_day: date, days: int, clinic: ClinicSettings, now: datetime
) -> list[TimeToOffer]:
    """Free times for the entry's session, as a patient could book them online, over `days` local days from
    `first_day`, with the therapist it asks for or anyone who gives the service: each marked whether it suits
    the patient and whether it is already offered to someone. Four queries."""
    therapists = selectors.therapists_for(option.service)
    if entry.therapist_id is not None:
        therapists = [therapist for therapist in therapists if therapist.pk == entry.therapist_id]
    if not therapists:
        return []
    last_day = first_day + timedelta(days=days - 1)
    found = selectors.calendars(therapists, first_day, last_day, clinic)
    slots = availability.free_slots_for_many(found, selectors.search_rules(option, clinic, now))
    held: dict[int, list[availability.Interval]] = {}
    start = availability.local_midnight(first_day, clinic.tz)
    end = availability.local_midnight(last_day + timedelta(days=2), clinic.tz)
    for therapist_id, offer_start, blocked_until in WaitlistOffer.objects.filter(
        status=WaitlistOffer.Status.OPEN, therapist__in=therapists, start__lt=end, blocked_until__gt=start
    ).values_list("therapist_id", "start", "blocked_until"):
        held.setdefault(therapist_id, []).append(availability.Interval(offer_start, blocked_until))
    buffer = option.service.buffer
    return [
        TimeToOffer(
            slot,
            waitlist.suits(entry.suits, slot.start, clinic.tz),
            waitlist.touches(
                waitlist.Opening(slot.start, slot.end, slot.end + buffer), held.get(slot.therapist.pk, [])
            ),
        )
        for slot in slots
    ]


def therapist_for_offer(slug: str) -> Therapist | None:
    return Therapist.objects.filter(slug=slug).first() if slug and len(slug) <= 100 else None
