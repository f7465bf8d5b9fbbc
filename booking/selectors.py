"""Reads for the booking pages and the API, each in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, IntegerField, Max, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from booking import availability, coverage, lifecycle, series
from booking.availability import Interval, Rules, Slot
from booking.models import Appointment, AppointmentEvent, Patient, Service, ServiceOption
from clinic.models import ClinicSettings
from therapists.models import Therapist, TimeOff, WorkingHours


def active_services() -> QuerySet[Service]:
    """Active services with their active lengths, in two queries."""
    return Service.objects.active().prefetch_related(
        Prefetch("options", queryset=ServiceOption.objects.filter(active=True))
    )


def service_options(service_slug: str) -> list[ServiceOption]:
    """The active lengths of an active service, with the service itself, in one query."""
    return list(
        ServiceOption.objects.select_related("service")
        .filter(service__slug=service_slug, service__active=True, active=True)
        .order_by("duration_minutes")
    )


def option_of_length(options: Sequence[ServiceOption], minutes: int | None) -> ServiceOption | None:
    """The option lasting `minutes`, or the default one when no length is given; None if there is no such length."""
    if minutes is None:
        return default_option(options)
    return next((option for option in options if option.duration_minutes == minutes), None)


def lengths_text(options: Sequence[ServiceOption]) -> str:
    """The lengths offered, for messages: "30, 60, 90"."""
    return ", ".join(str(option.duration_minutes) for option in options)


def default_option(options: Sequence[ServiceOption]) -> ServiceOption | None:
    for option in options:
        if option.is_default:
            return option
    return options[0] if options else None


def therapists_for(service: Service) -> list[Therapist]:
    return list(Therapist.objects.active().offering(service).order_by("order", "name", "pk"))


def active_therapists() -> QuerySet[Therapist]:
    return Therapist.objects.active().prefetch_related(Prefetch("services", queryset=Service.objects.active()))


@dataclass(frozen=True)
class SlotSearch:
    """What a slot search needs: the booking option, the therapists to consider and the days."""

    option: ServiceOption
    therapists: Sequence[Therapist]
    first_day: date
    days: int


def search_rules(option: ServiceOption, clinic: ClinicSettings, now: datetime) -> Rules:
    earliest, latest = availability.booking_window(
        now=now, notice=clinic.min_notice, horizon_days=clinic.horizon_days, tz=clinic.tz
    )
    return Rules(
        length=option.duration,
        buffer=option.service.buffer,
        step=clinic.slot_step,
        earliest=earliest,
        latest=latest,
        tz=clinic.tz,
    )


def calendars(
    therapists: Sequence[Therapist],
    first_day: date,
    last_day: date,
    clinic: ClinicSettings,
    ignore_appointment: int | None = None,
) -> dict[Therapist, tuple[list[Interval], list[Interval]]]:
    """Working and busy intervals of each therapist over the local days given, in two queries."""
    tz = clinic.tz
    ids = [therapist.pk for therapist in therapists]
    # One day of margin each side: a session late on one day can reach past midnight.
    range_start = availability.local_midnight(first_day - timedelta(days=1), tz)
    range_end = availability.local_midnight(last_day + timedelta(days=2), tz)

    weekly: dict[int, dict[int, list]] = {pk: {} for pk in ids}
    for therapist_id, weekday, start, end in WorkingHours.objects.filter(therapist_id__in=ids).values_list(
        "therapist_id", "weekday", "start", "end"
    ):
        weekly[therapist_id].setdefault(weekday, []).append((start, end))

    time_off = TimeOff.objects.approved().filter(therapist_id__in=ids, start__lt=range_end, end__gt=range_start)
    appointments = Appointment.objects.active().filter(
        therapist_id__in=ids, start__lt=range_end, blocked_until__gt=range_start
    )
    if ignore_appointment is not None:
        appointments = appointments.exclude(pk=ignore_appointment)
    # Time off and booked time (with its buffer) are both just busy: one query for both.
    busy_rows = (
        time_off.order_by()
        .values_list("therapist_id", "start", "end")
        .union(appointments.order_by().values_list("therapist_id", "start", "blocked_until"), all=True)
    )
    busy: dict[int, list[Interval]] = {pk: [] for pk in ids}
    for therapist_id, busy_from, busy_until in busy_rows:
        busy[therapist_id].append(Interval(busy_from, busy_until))

    return {
        therapist: (
            availability.working_intervals(weekly[therapist.pk], first_day, last_day, tz),
            busy[therapist.pk],
        )
        for therapist in therapists
    }


def free_slots(search: SlotSearch, clinic: ClinicSettings, now: datetime) -> list[Slot]:
    """Free slots of the therapists in `search`; each slot's `therapist` is the Therapist."""
    if not search.therapists or search.days < 1:
        return []
    last_day = search.first_day + timedelta(days=search.days - 1)
    return availability.free_slots_for_many(
        calendars(search.therapists, search.first_day, last_day, clinic),
        search_rules(search.option, clinic, now),
    )


def appointment_by_token(token: str) -> Appointment | None:
    if not token or len(token) > 64:
        return None
    return Appointment.objects.select_related("patient", "therapist", "service").filter(manage_token=token).first()


def staff_search_rules(option: ServiceOption, clinic: ClinicSettings, now: datetime) -> Rules:
    """The front desk's rules: the clinic's grid, from now (no minimum notice), up to the booking horizon."""
    return replace(search_rules(option, clinic, now), earliest=now)


def staff_free_slots(
    option: ServiceOption,
    therapists: Sequence[Therapist],
    first_day: date,
    days: int,
    clinic: ClinicSettings,
    now: datetime,
    *,
    ignore_appointment: int | None = None,
) -> list[Slot]:
    """Free times on the clinic's grid for the front desk: short notice allowed, nothing in the past."""
    if not therapists or days < 1:
        return []
    last_day = first_day + timedelta(days=days - 1)
    found = calendars(therapists, first_day, last_day, clinic, ignore_appointment=ignore_appointment)
    return availability.free_slots_for_many(found, staff_search_rules(option, clinic, now))


def bookable_options() -> list[ServiceOption]:
    """Every active length of every active service, with its service, in the services' order: one query."""
    return list(
        ServiceOption.objects.select_related("service")
        .filter(active=True, service__active=True)
        .order_by("service__order", "service__name", "duration_minutes")
    )


def calendars_on_days(
    therapists: Sequence[Therapist], days: Collection[date], clinic: ClinicSettings
) -> dict[Therapist, tuple[list[Interval], list[Interval]]]:
    """Like `calendars`, for scattered local days (the weeks of a repeat booking): two queries whatever the days."""
    tz = clinic.tz
    ids = [therapist.pk for therapist in therapists]
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] <= timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    if not ids or not runs:
        return {therapist: ([], []) for therapist in therapists}
    weekly: dict[int, dict[int, list]] = {pk: {} for pk in ids}
    for therapist_id, weekday, opens, closes in WorkingHours.objects.filter(therapist_id__in=ids).values_list(
        "therapist_id", "weekday", "start", "end"
    ):
        weekly[therapist_id].setdefault(weekday, []).append((opens, closes))
    near_time_off, near_appointments = Q(), Q()
    for first, last in runs:
        # A day of margin each side, as in `calendars`.
        range_start = availability.local_midnight(first - timedelta(days=1), tz)
        range_end = availability.local_midnight(last + timedelta(days=2), tz)
        near_time_off |= Q(start__lt=range_end, end__gt=range_start)
        near_appointments |= Q(start__lt=range_end, blocked_until__gt=range_start)
    busy_rows = (
        TimeOff.objects.approved()
        .filter(near_time_off, therapist_id__in=ids)
        .order_by()
        .values_list("therapist_id", "start", "end")
        .union(
            Appointment.objects.active()
            .filter(near_appointments, therapist_id__in=ids)
            .order_by()
            .values_list("therapist_id", "start", "blocked_until"),
            all=True,
        )
    )
    busy: dict[int, list[Interval]] = {pk: [] for pk in ids}
    for therapist_id, busy_from, busy_until in busy_rows:
        busy[therapist_id].append(Interval(busy_from, busy_until))
    return {
        therapist: (
            [
                interval
                for first, last in runs
                for interval in availability.working_intervals(weekly[therapist.pk], first, last, tz)
            ],
            busy[therapist.pk],
        )
        for therapist in therapists
    }


def series_plan(
    option: ServiceOption,
    therapist: Therapist | None,
    starts: Sequence[datetime],
    clinic: ClinicSettings,
    now: datetime,
) -> list[series.Session]:
    """Each session of a repeat booking checked on its own with the front desk's rules; those that do not
    fit come with their nearest free alternatives. At most five queries, whatever the number of sessions."""
    therapists = therapists_for(option.service)
    if therapist is not None and therapist not in therapists:
        return [
            series.Session(number, start, None, reason=series.CLOSED) for number, start in enumerate(starts, start=1)
        ]
    rules = staff_search_rules(option, clinic, now)
    tz = clinic.tz
    found = calendars_on_days(therapists, {start.astimezone(tz).date() for start in starts}, clinic)
    sessions = series.check(starts, found, rules, therapist=therapist)
    if all(session.fits for session in sessions):
        return sessions
    around = calendars_on_days(therapists, series.days_around(sessions, tz), clinic)
    return series.with_alternatives(sessions, around, rules, therapist=therapist)


def option_for(appointment: Appointment) -> ServiceOption | None:
    """The service length an appointment was booked with (active or not), with its service."""
    return (
        ServiceOption.objects.select_related("service")
        .filter(service_id=appointment.service_id, duration_minutes=appointment.duration_minutes)
        .first()
    )


def appointment_for_staff(pk: int) -> Appointment | None:
    """One appointment with everything the front desk panel shows, its history included, in two queries."""
    return (
        Appointment.objects.select_related("patient", "therapist", "service", "booked_by", "cancelled_by")
        .prefetch_related(Prefetch("events", queryset=AppointmentEvent.objects.order_by("-at", "-pk")))
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class PatientRecord:
    """How a patient has kept their appointments, for the front desk."""

    visits: int
    upcoming: int
    no_shows: int
    late_cancellations: int
    cancellations: int


def patient_record(patient_id: int, now: datetime) -> PatientRecord:
    """Counts of visits, upcoming appointments, no-shows and cancellations, in one query."""
    status = Appointment.Status
    counts = Appointment.objects.filter(patient_id=patient_id).aggregate(
        visits=Count("pk", filter=Q(status=status.COMPLETED)),
        upcoming=Count("pk", filter=Q(status__in=[status.BOOKED, status.CHECKED_IN], start__gte=now)),
        no_shows=Count("pk", filter=Q(status=status.NO_SHOW)),
        late_cancellations=Count("pk", filter=Q(status=status.CANCELLED, late_cancellation=True)),
        cancellations=Count("pk", filter=Q(status=status.CANCELLED)),
    )
    return PatientRecord(**counts)


# What counts as a visit to the clinic when telling a first visit from a returning patient.
VISIT_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN, Appointment.Status.COMPLETED)


def _earlier_visits() -> QuerySet[Appointment]:
    """The visits of an outer query's patient before its appointment's start, with any therapist."""
    return Appointment.objects.filter(
        patient_id=OuterRef("patient_id"), start__lt=OuterRef("start"), status__in=VISIT_STATUSES
    )


@dataclass(frozen=True)
class CalendarRange:
    """What the front desk calendar shows over some local days: therapists (the columns), their weekly hours,
    time off, and the appointments that are not cancelled, each marked `first_visit`."""

    therapists: list[Therapist]
    weekly_hours: dict[int, dict[int, list[tuple[time, time]]]]
    time_off: list[TimeOff]
    appointments: list[Appointment]


def calendar_range(
    first_day: date, last_day: date, clinic: ClinicSettings, *, therapist: Therapist | None = None
) -> CalendarRange:
    """The calendar from `first_day` to `last_day` (inclusive), in four queries whatever its size.

    With `therapist`, only their column (a therapist's own schedule), whether they are active or not.
    """
    tz = clinic.tz
    range_start = availability.local_midnight(first_day, tz)
    range_end = availability.local_midnight(last_day + timedelta(days=1), tz)
    only = None if therapist is None else therapist.pk
    columns = Therapist.objects.active() if only is None else Therapist.objects.filter(pk=only)
    therapists = list(
        columns.prefetch_related(
            Prefetch("working_hours", queryset=WorkingHours.objects.order_by("weekday", "start"))
        ).order_by("order", "name", "pk")
    )
    weekly: dict[int, dict[int, list[tuple[time, time]]]] = {}
    for therapist in therapists:
        for hours in therapist.working_hours.all():
            weekly.setdefault(therapist.pk, {}).setdefault(hours.weekday, []).append((hours.start, hours.end))
    whose = Q(therapist__active=True) if only is None else Q(therapist_id=only)
    time_off = list(
        TimeOff.objects.approved().filter(whose, start__lt=range_end, end__gt=range_start).order_by("start")
    )
    appointments = list(
        Appointment.objects.active()
        .filter(start__lt=range_end, end__gt=range_start)
        .filter(Q() if only is None else Q(therapist_id=only))
        .select_related("patient", "service", "therapist")
        .annotate(first_visit=~Exists(_earlier_visits()))
        .order_by("start", "pk")
    )
    shown = {therapist.pk for therapist in therapists}
    for appointment in appointments:
        if appointment.therapist_id not in shown:
            # Someone no longer active who still has bookings here: keep them visible until they are moved.
            shown.add(appointment.therapist_id)
            therapists.append(appointment.therapist)
    return CalendarRange(therapists, weekly, time_off, appointments)


def calendar_therapists(first_day: date, last_day: date, clinic: ClinicSettings) -> list[Therapist]:
    """The calendar's columns: active therapists, then anyone inactive who still has bookings in the range."""
    range_start = availability.local_midnight(first_day, clinic.tz)
    range_end = availability.local_midnight(last_day + timedelta(days=1), clinic.tz)
    booked = Appointment.objects.active().filter(start__lt=range_end, end__gt=range_start)
    return list(
        Therapist.objects.filter(Q(active=True) | Q(pk__in=booked.values("therapist_id"))).order_by(
            "-active", "order", "name", "pk"
        )
    )


def calendar_hours() -> tuple[time, time]:
    """The earliest start and latest end of any active therapist's hours: the span the calendar shows."""
    span = WorkingHours.objects.filter(therapist__active=True).aggregate(first=Min("start"), last=Max("end"))
    return span["first"] or time(9), span["last"] or time(17)


SEARCH_LIMIT = 20


def _digits(text: str) -> str:
    return "".join(character for character in text if character.isdigit())


def patient_search(query: str, *, limit: int = SEARCH_LIMIT) -> list[Patient]:
    """Patients whose name or email holds every word of `query`; a query without letters is a phone number.

    Phones are stored in E.164, so 416-555-0108, (416) 555-0108 and 4165550108 all find +14165550108.
    One query; a query shorter than two characters (or three digits) finds nobody.
    """
    query = " ".join(query.split())[:100]
    if len(query) < 2:
        return []
    if not any(character.isalpha() for character in query):
        digits = _digits(query)
        if len(digits) < 3:
            return []
        matches = Q(phone__contains=digits)
    else:
        matches = Q()
        for word in query.split(" "):
            matches &= Q(name__icontains=word) | Q(email__icontains=word)
    return list(Patient.objects.filter(matches).order_by("name", "pk")[:limit])


# --- the front desk's patient pages ---------------------------------------------------------------


def recent_patients() -> QuerySet[Patient]:
    """Every patient, the most recently added first: the directory before anything is typed."""
    return Patient.objects.order_by("-created_at", "-pk")


@dataclass(frozen=True)
class UpcomingVisits:
    count: int
    next_start: datetime | None


def upcoming_by_patient(patient_ids: Sequence[int], now: datetime) -> dict[int, UpcomingVisits]:
    """How many booked or checked-in appointments each patient has from `now`, and the next one's start: one query."""
    rows = (
        Appointment.objects.filter(
            patient_id__in=list(patient_ids),
            status__in=lifecycle.LIVE,
            start__gte=now,
        )
        .order_by()
        .values("patient_id")
        .annotate(count=Count("pk"), next_start=Min("start"))
    )
    found = {row["patient_id"]: UpcomingVisits(row["count"], row["next_start"]) for row in rows}
    return {pk: found.get(pk, UpcomingVisits(0, None)) for pk in patient_ids}


@dataclass(frozen=True)
class PatientAppointments:
    upcoming: list[Appointment]
    past: list[Appointment]


def patient_appointments(patient_id: int, now: datetime) -> PatientAppointments:
    """A patient's appointments with therapist and service: upcoming soonest first, past latest first; one query."""
    rows = list(
        Appointment.objects.filter(patient_id=patient_id).select_related("therapist", "service").order_by("start", "pk")
    )
    return PatientAppointments(
        upcoming=[row for row in rows if row.start >= now],
        past=[row for row in reversed(rows) if row.start < now],
    )


def possible_duplicates(patient: Patient, *, limit: int = 10) -> list[Patient]:
    """Other records with the same name, email or phone as `patient`: likely the same person, in one query."""
    same = Q(name__iexact=patient.name) | Q(email__iexact=patient.email)
    if patient.phone:
        same |= Q(phone=patient.phone)
    return list(Patient.objects.filter(same).exclude(pk=patient.pk).order_by("name", "pk")[:limit])


def stranded_appointments(
    therapist: Therapist,
    *,
    now: datetime,
    clinic: ClinicSettings,
    weekly: Mapping[int, Sequence[tuple[time, time]]] | None = None,
    add_time_off: Sequence[tuple[datetime, datetime]] = (),
    active: bool | None = None,
) -> list[Appointment]:
    """The upcoming booked or checked-in appointments that a change to `therapist`'s time would strand.

    The change: `weekly`, all of the new weekly hours (None: unchanged); `add_time_off`, new or changed
    time off; `active`, the new active flag (None: unchanged). An appointment is stranded when it is
    inside working time and outside time off now, and would not be after the change (booking.coverage).
    Time off taken away needs no mention: it strands nothing, and what lay inside it was not covered before.
    In at most three queries: the appointments (with patient and service), the hours, the time off.
    """
    if any(moment.tzinfo is None for pair in add_time_off for moment in pair):
        raise ValueError("time off must be given as aware datetimes")
    upcoming = Appointment.objects.filter(therapist_id=therapist.pk, status__in=lifecycle.LIVE, start__gte=now)
    if weekly is None and active is not False:
        # Only time off changes: nothing outside the added intervals can be stranded.
        if not add_time_off:
            return []
        near = Q()
        for start, end in add_time_off:
            near |= Q(start__lt=end, end__gt=start)
        upcoming = upcoming.filter(near)
    found = list(upcoming.select_related("patient", "service", "therapist").order_by("start", "pk"))
    if not found:
        return []
    first, last = found[0].start, max(appointment.end for appointment in found)
    current: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens, closes in WorkingHours.objects.filter(therapist_id=therapist.pk).values_list(
        "weekday", "start", "end"
    ):
        current.setdefault(weekday, []).append((opens, closes))
    existing = list(
        TimeOff.objects.approved()
        .filter(therapist_id=therapist.pk, start__lt=last, end__gt=first)
        .values_list("start", "end")
    )
    # The stored flag, read with the appointments: the `therapist` given may already carry the proposed one.
    stored_active = found[0].therapist.active
    before = coverage.Schedule(current, [Interval(start, end) for start, end in existing], stored_active)
    after = coverage.Schedule(
        current if weekly is None else weekly,
        [Interval(start, end) for start, end in [*existing, *add_time_off]],
        stored_active if active is None else active,
    )
    sessions = {appointment.pk: Interval(appointment.start, appointment.end) for appointment in found}
    by_pk = {appointment.pk: appointment for appointment in found}
    return [by_pk[pk] for pk in coverage.newly_stranded(sessions, before, after, clinic.tz)]


@dataclass(frozen=True)
class TimeOffEntry:
    """One current or upcoming time off, with the live appointments still booked inside it."""

    time_off: TimeOff
    booked: list[Appointment]


def upcoming_time_off(
    now: datetime,
    *,
    limit: int = 200,
    statuses: Collection[str] = (TimeOff.Status.APPROVED,),
    therapist: Therapist | None = None,
) -> list[TimeOffEntry]:
    """Every therapist's (or one `therapist`'s) current and upcoming time off, soonest first, in two queries.

    Approved time off only, unless `statuses` says otherwise: a request waiting for approval is not time off yet.
    """
    entries = list(
        TimeOff.objects.filter(end__gt=now, status__in=statuses)
        .filter(Q() if therapist is None else Q(therapist_id=therapist.pk))
        .select_related("therapist")
        .order_by("start", "therapist__order", "pk")[:limit]
    )
    if not entries:
        return []
    appointments = Appointment.objects.filter(
        therapist_id__in={entry.therapist_id for entry in entries},
        status__in=lifecycle.LIVE,
        end__gt=now,
        start__lt=max(entry.end for entry in entries),
    ).select_related("patient", "service")
    by_therapist: dict[int, list[Appointment]] = {}
    for appointment in appointments.order_by("start", "pk"):
        by_therapist.setdefault(appointment.therapist_id, []).append(appointment)
    return [
        TimeOffEntry(
            entry,
            [a for a in by_therapist.get(entry.therapist_id, []) if a.start < entry.end and a.end > entry.start],
        )
        for entry in entries
    ]


def time_off_requests_waiting(now: datetime) -> int:
    """How many therapists' time off requests are waiting for the front desk (not yet over): one query."""
    return TimeOff.objects.requested().filter(end__gt=now).count()


# The width of the token columns (Therapist.feed_token, the waitlist's entry and offer tokens).
TOKEN_MAX_LENGTH = 64


def token_shape_ok(token: str) -> bool:
    """Whether `token` looks like one of the site's tokens: URL-safe base64 (letters, digits, - and _) of at most
    TOKEN_MAX_LENGTH characters. Anything else is refused before it reaches the database, which keeps oddities such
    as a NUL character (that PostgreSQL rejects outright) out of the query."""
    shape = token.replace("-", "").replace("_", "")
    return 0 < len(token) <= TOKEN_MAX_LENGTH and shape.isascii() and shape.isalnum()


def therapist_by_feed_token(token: str) -> Therapist | None:
    """The therapist whose calendar feed `token` opens, in one query; None for a wrong or replaced token."""
    if not token_shape_ok(token):
        return None
    return Therapist.objects.filter(feed_token=token).only("pk", "name", "slug").first()


# All a calendar feed entry may show. Notes, contact details and the private link are never even loaded.
FEED_FIELDS = (
    "pk",
    "start",
    "end",
    "status",
    "sequence",
    "duration_minutes",
    "created_at",
    "updated_at",
    "patient",
    "patient__name",
    "service",
    "service__name",
)


def feed_appointments(therapist: Therapist, start: datetime, end: datetime) -> list[Appointment]:
    """The therapist's appointments meeting [start, end), cancelled ones included, for their feed: one query."""
    return list(
        Appointment.objects.filter(therapist=therapist, start__lt=end, end__gt=start)
        .select_related("patient", "service")
        .only(*FEED_FIELDS)
        .order_by("start", "pk")
    )


# --- a therapist's own schedule (/schedule/) -----------------------------------------------------


@dataclass(frozen=True)
class ScheduleDay:
    """One local day of a therapist's schedule: their working hours that weekday (none while inactive), the
    time off that meets the day (approved, or their request still waiting), and their appointments that are
    not cancelled, each with `previous_visits`: the patient's visits to the clinic before it, with any
    therapist (0 for a first visit)."""

    hours: list[tuple[time, time]]
    time_off: list[TimeOff]
    appointments: list[Appointment]


def schedule_day(therapist: Therapist, day: date, clinic: ClinicSettings) -> ScheduleDay:
    """A therapist's agenda for one local day, in three queries however many appointments it holds."""
    day_start = availability.local_midnight(day, clinic.tz)
    day_end = availability.local_midnight(day + timedelta(days=1), clinic.tz)
    hours = list(
        WorkingHours.objects.filter(therapist_id=therapist.pk, weekday=day.weekday())
        .order_by("start")
        .values_list("start", "end")
    )
    time_off = list(
        TimeOff.objects.filter(therapist_id=therapist.pk, start__lt=day_end, end__gt=day_start)
        .exclude(status=TimeOff.Status.DECLINED)
        .order_by("start")
    )
    appointments = list(
        _with_previous_visits(Appointment.objects.active())
        .filter(therapist_id=therapist.pk, start__lt=day_end, end__gt=day_start)
        .select_related("patient", "service")
        .order_by("start", "pk")
    )
    return ScheduleDay(hours if therapist.active else [], time_off, appointments)


def _with_previous_visits(appointments: QuerySet[Appointment]) -> QuerySet[Appointment]:
    """Each appointment with `previous_visits`, its patient's visits before it (any therapist), in the same query."""
    counted = _earlier_visits().order_by().values("patient_id").annotate(count=Count("pk")).values("count")
    return appointments.annotate(previous_visits=Coalesce(Subquery(counted, output_field=IntegerField()), 0))


def schedule_appointment(pk: int, therapist: Therapist) -> Appointment | None:
    """One of `therapist`'s appointments with its patient, service and `previous_visits`, in one query; None if
    it is not theirs."""
    return (
        _with_previous_visits(Appointment.objects.select_related("patient", "service", "therapist"))
        .filter(pk=pk, therapist_id=therapist.pk)
        .first()
    )


@dataclass(frozen=True)
class TherapistVisits:
    """A patient's appointments with one therapist, and how many visits they made to that therapist's
    colleagues: a number only, since a therapist does not see their colleagues' appointments."""

    upcoming: list[Appointment]
    past: list[Appointment]
    with_colleagues: int


def visits_with_therapist(
    patient_id: int, therapist: Therapist, now: datetime, *, leave_out: int | None = None
) -> TherapistVisits:
    """The patient's appointments with `therapist` (any status; `leave_out` is the one on screen), upcoming
    soonest first and past latest first, with their service; and their completed visits with anyone else.
    Two queries."""
    mine = Appointment.objects.filter(patient_id=patient_id, therapist_id=therapist.pk)
    if leave_out is not None:
        mine = mine.exclude(pk=leave_out)
    rows = list(mine.select_related("service").order_by("start", "pk"))
    with_colleagues = (
        Appointment.objects.filter(patient_id=patient_id, status=Appointment.Status.COMPLETED)
        .exclude(therapist_id=therapist.pk)
        .count()
    )
    return TherapistVisits(
        upcoming=[row for row in rows if row.start >= now],
        past=[row for row in reversed(rows) if row.start < now],
        with_colleagues=with_colleagues,
    )


def schedule_therapists() -> list[Therapist]:
    """Every therapist, the active ones first, for a manager choosing whose schedule to see: one query."""
    return list(Therapist.objects.order_by("-active", "order", "name", "pk"))


def schedule_hours(therapist: Therapist) -> tuple[time, time]:
    """The earliest start and latest end of the therapist's weekly hours: the span their week shows."""
    span = WorkingHours.objects.filter(therapist_id=therapist.pk).aggregate(first=Min("start"), last=Max("end"))
    return span["first"] or time(9), span["last"] or time(17)
