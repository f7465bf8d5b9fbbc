"""The demo clinic: Mo Therapy with its services, therapists, staff logins and a calendar of bookings.

`build_demo_clinic` is what `manage.py seed_demo` runs; the smaller `ensure_*`
helpers are shared with the benchmark (`python -m bench`). Everything is keyed
on slugs, usernames and emails and only created when missing, so running it
again adds nothing twice and never overwrites what a manager changed in the
admin panel. Appointments are booked through `booking.services`, the same door
the front desk uses, so the demo calendar obeys every booking rule.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from booking import availability, selectors, services
from booking.actors import Actor
from booking.availability import Slot
from booking.errors import BookingError
from booking.lifecycle import Action
from booking.models import Appointment, Service, ServiceOption
from clinic.models import ClinicSettings
from therapists.models import Therapist, TimeOff, WorkingHours

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - published on purpose: it is the demo's login


Hours = dict[int, tuple[tuple[time, time], ...]]

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY = range(6)


def _every(days: Sequence[int], *shifts: tuple[time, time]) -> Hours:
    return {day: tuple(shifts) for day in days}


# Monday to Friday 9:00–17:00 with lunch 12:00–13:00.
WEEKDAYS_WITH_LUNCH = _every(range(MONDAY, SATURDAY), (time(9), time(12)), (time(13), time(17)))
# Tuesday to Saturday, a split shift for patients who come before or after work.
SPLIT_SHIFT = _every(range(TUESDAY, SATURDAY + 1), (time(10), time(14)), (time(15), time(19)))
# Monday, Wednesday and Thursday 8:00–16:00 with a half-hour break; Tuesday and Friday off.
EARLY_THREE_DAYS = _every((MONDAY, WEDNESDAY, THURSDAY), (time(8), time(12)), (time(12, 30), time(16)))
HOUR_PATTERNS = (WEEKDAYS_WITH_LUNCH, SPLIT_SHIFT, EARLY_THREE_DAYS)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    slug: str
    summary: str
    description: str
    buffer_minutes: int
    lengths: tuple[tuple[int, Decimal], ...]
    default_minutes: int
    order: int = 0


MYOFASCIAL_RELEASE = ServiceSpec(
    name="Myofascial release",
    slug="myofascial-release",
    summary=(
        "Slow, sustained pressure that frees tight fascia around the hips, low back and legs, "
        "where much sciatic pain starts."
    ),
    description=(
        "Fascia is the thin, strong web of connective tissue that wraps every muscle, nerve and joint. "
        "After an injury, long hours of sitting or months of guarding a sore back, it can thicken and "
        "stick, pulling on the structures around it. Around the piriformis and the deep hip muscles, "
        "that pull can press on the sciatic nerve and send pain down the leg.\n\n"
        "In a myofascial release session your therapist works without oil, using gentle, sustained "
        "pressure and slow stretches held for a minute or more, until the tissue softens and lets go. "
        "It is not a deep, painful massage: most people feel a slow melting, sometimes a warmth or a "
        "mild ache that fades as the tissue releases.\n\n"
        "Your first visit starts with a short conversation about your pain and your health history, "
        "and a look at how you stand, walk and bend. Wear or bring comfortable clothing; you stay "
        "covered throughout, and you can ask to stop or change the pressure at any time.\n\n"
        "Many people with sciatica or chronic low back pain notice easier movement after one or two "
        "sessions; a short series a week or two apart usually works best, together with the simple "
        "stretches your therapist will show you. Sessions are given by registered massage therapists "
        "and receipts are accepted by most extended health plans."
    ),
    buffer_minutes=15,
    lengths=((30, Decimal("70.00")), (45, Decimal("95.00")), (60, Decimal("120.00")), (90, Decimal("165.00"))),
    default_minutes=60,
    order=0,
)

TRIGGER_POINT_THERAPY = ServiceSpec(
    name="Trigger point therapy",
    slug="trigger-point-therapy",
    summary=(
        "Focused pressure on tight, tender knots in muscle that refer pain elsewhere, such as down the back of the leg."
    ),
    description=(
        "A trigger point is a small, tight spot in a band of muscle that is tender to the touch and often "
        "sends pain somewhere else: a knot in the gluteal muscles can be felt as an ache down the back of "
        "the thigh, which is easily mistaken for sciatica or makes real sciatica worse.\n\n"
        "Your therapist finds these points by feeling along the muscle, then presses on each one steadily "
        "for up to a minute while you breathe slowly, until the tenderness eases. The pressure is firm but "
        "always within what you can comfortably tolerate; you will be asked to rate it, and it is adjusted "
        "as you go. Each point is followed by gentle stretching of the muscle around it.\n\n"
        "Expect some tenderness for a day or two afterwards, much like after a workout. Drinking water, "
        "light walking and a warm shower help. Your therapist will suggest a stretch or two to keep the "
        "points from returning between visits.\n\n"
        "Trigger point therapy pairs well with myofascial release, and the two are often combined over a "
        "course of treatment. If you have a bleeding disorder, take blood thinners or are pregnant, "
        "mention it on your intake form so the session can be adapted."
    ),
    buffer_minutes=10,
    lengths=((30, Decimal("70.00")), (45, Decimal("95.00")), (60, Decimal("120.00"))),
    default_minutes=60,
    order=1,
)

SERVICES = (MYOFASCIAL_RELEASE, TRIGGER_POINT_THERAPY)


@dataclass(frozen=True)
class TherapistSpec:
    name: str
    slug: str
    bio: str
    registration_number: str
    hours: Hours
    services: tuple[str, ...]
    order: int = 0


BASE_THERAPISTS = (
    TherapistSpec(
        name="Maya Lindqvist",
        slug="maya-lindqvist",
        bio=(
            "Maya has treated back and leg pain for eleven years, first in a sports medicine clinic and now "
            "at Mo Therapy. She combines myofascial release with trigger point work and sends every patient "
            "home with two or three stretches that fit into a busy day.\n\n"
            "Outside the clinic she teaches a weekly mobility class for runners."
        ),
        registration_number="R20417",
        hours=WEEKDAYS_WITH_LUNCH,
        services=(MYOFASCIAL_RELEASE.slug, TRIGGER_POINT_THERAPY.slug),
        order=0,
    ),
    TherapistSpec(
        name="Daniel Okoro",
        slug="daniel-okoro",
        bio=(
            "Daniel works mostly with people whose pain comes from long hours at a desk or behind the wheel. "
            "His sessions are slow and unhurried, with a focus on the deep hip muscles and the low back.\n\n"
            "He keeps evening and Saturday hours for patients who cannot come during the working day."
        ),
        registration_number="R31862",
        hours=SPLIT_SHIFT,
        services=(MYOFASCIAL_RELEASE.slug, TRIGGER_POINT_THERAPY.slug),
        order=1,
    ),
    TherapistSpec(
        name="Priya Raman",
        slug="priya-raman",
        bio=(
            "Priya specialises in trigger point therapy for sciatica, piriformis syndrome and hamstring pain. "
            "Before becoming a massage therapist she worked as a physiotherapy assistant, and she explains "
            "clearly what she finds and why it hurts.\n\n"
            "She works early days, so her first appointments suit people who want treatment before work."
        ),
        registration_number="R27395",
        hours=EARLY_THREE_DAYS,
        services=(TRIGGER_POINT_THERAPY.slug,),
        order=2,
    ),
)

_FIRST_NAMES = ("Ava", "Ben", "Chloe", "Diego", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonah", "Keiko", "Liam")
_LAST_NAMES = (
    "Bergeron",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fraser",
    "Gallo",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Leung",
    "Mensah",
)
MAX_THERAPISTS = len(BASE_THERAPISTS) + len(_FIRST_NAMES) * len(_LAST_NAMES)


def generated_therapist(index: int, *, hours: Hours | None = None, services: tuple[str, ...] | None = None):
    """A made-up therapist, the same for the same index, for demos and benchmarks with more staff."""
    first = _FIRST_NAMES[index % len(_FIRST_NAMES)]
    # Walking the last names one step further each round keeps every (first, last) pair distinct.
    last = _LAST_NAMES[(index + index // len(_FIRST_NAMES)) % len(_LAST_NAMES)]
    name = f"{first} {last}"
    return TherapistSpec(
        name=name,
        slug=slugify(name),
        bio=(
            f"{first} is a registered massage therapist who treats low back pain and sciatica with "
            "myofascial release and trigger point therapy."
        ),
        registration_number=f"R{10000 + (index * 7919) % 90000}",
        hours=hours if hours is not None else HOUR_PATTERNS[index % len(HOUR_PATTERNS)],
        services=services if services is not None else tuple(spec.slug for spec in SERVICES),
        order=len(BASE_THERAPISTS) + index,
    )


def therapist_specs(count: int) -> list[TherapistSpec]:
    """The demo's first `count` therapists: the three regulars, then generated ones."""
    if not 1 <= count <= MAX_THERAPISTS:
        raise ValueError(f"The demo has between 1 and {MAX_THERAPISTS} therapists.")
    specs = list(BASE_THERAPISTS[:count])
    specs += [generated_therapist(index) for index in range(count - len(specs))]
    return specs


@dataclass(frozen=True)
class LoginSpec:
    username: str
    role: str
    first_name: str
    last_name: str
    start_path: str
    what: str


LOGINS = (
    LoginSpec(
        "manager", "Manager", "Morgan", "Tremblay", "/frontdesk/", "the calendar; services, prices, hours in /admin/"
    ),
    LoginSpec("reception", "Receptionist", "Rosa", "Almeida", "/frontdesk/", "the calendar, phone bookings, patients"),
    LoginSpec("therapist", "Therapist", "Maya", "Lindqvist", "/schedule/", "their own day, week and patients"),
)


# Creating what is missing -------------------------------------------------------------------------


def ensure_clinic_settings(*, horizon_days: int | None = None) -> ClinicSettings:
    """The clinic's settings row: Mo Therapy in Toronto with the model's default policies."""
    clinic, created = ClinicSettings.objects.get_or_create(
        pk=ClinicSettings.SINGLETON_PK, defaults={"name": "Mo Therapy", "time_zone": "America/Toronto"}
    )
    if horizon_days is not None and clinic.horizon_days < horizon_days:
        clinic.horizon_days = horizon_days
        clinic.save(update_fields=["horizon_days"])
    return clinic


def ensure_service(spec: ServiceSpec) -> Service:
    """The service with this slug; when it is new, with all its lengths and prices."""
    service, created = Service.objects.get_or_create(
        slug=spec.slug,
        defaults={
            "name": spec.name,
            "summary": spec.summary,
            "description": spec.description,
            "buffer_minutes": spec.buffer_minutes,
            "order": spec.order,
        },
    )
    if created:
        ServiceOption.objects.bulk_create(
            ServiceOption(
                service=service,
                duration_minutes=minutes,
                price=price,
                is_default=minutes == spec.default_minutes,
            )
            for minutes, price in spec.lengths
        )
    return service


def ensure_therapist(spec: TherapistSpec, services_by_slug: dict[str, Service]) -> tuple[Therapist, bool]:
    """The therapist with this slug; when new, with their services and weekly hours. Returns (therapist, created)."""
    therapist, created = Therapist.objects.get_or_create(
        slug=spec.slug,
        defaults={
            "name": spec.name,
            "bio": spec.bio,
            "registration_number": spec.registration_number,
            "order": spec.order,
        },
    )
    if created:
        therapist.services.set([services_by_slug[slug] for slug in spec.services if slug in services_by_slug])
        WorkingHours.objects.bulk_create(
            WorkingHours(therapist=therapist, weekday=weekday, start=start, end=end)
            for weekday, shifts in sorted(spec.hours.items())
            for start, end in shifts
        )
    return therapist, created


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    url: str
    what: str
    created: bool
    therapist: str = ""


def ensure_logins(first_therapist: Therapist | None, site_url: str) -> list[DemoLogin]:
    """One staff login per role. The password is set when a login is created; an existing one keeps its own."""
    users = get_user_model()
    logins = []
    for spec in LOGINS:
        try:
            group = Group.objects.get(name=spec.role)
        except Group.DoesNotExist as error:
            raise RuntimeError(f"The {spec.role} group is missing: run `manage.py migrate` first.") from error
        user, created = users.objects.get_or_create(
            username=spec.username,
            defaults={
                "email": f"{spec.username}@motherapy.example",
                "first_name": spec.first_name,
                "last_name": spec.last_name,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        # The demo logins must work as printed, whatever happened to them since.
        user.is_staff, user.is_superuser, user.is_active = True, False, True
        user.save()
        user.groups.add(group)
        linked = ""
        if spec.role == "Therapist" and first_therapist is not None:
            if first_therapist.user_id is None and not Therapist.objects.filter(user=user).exists():
                first_therapist.user = user
                first_therapist.save(update_fields=["user"])
            own = Therapist.objects.filter(user=user).first()
            linked = own.name if own else ""
        logins.append(
            DemoLogin(spec.username, spec.role, site_url.rstrip("/") + spec.start_path, spec.what, created, linked)
        )
    return logins


def next_monday(day: date) -> date:
    """The first Monday after `day` (a week later when `day` is a Monday)."""
    return day + timedelta(days=7 - day.weekday())


def ensure_week_off(therapist: Therapist, week_start: date, clinic: ClinicSettings, now: datetime) -> TimeOff | None:
    """A week of holiday from `week_start`, unless the therapist already has time off ahead or bookings that week."""
    if TimeOff.objects.filter(therapist=therapist, end__gt=now).exists():
        return None
    start = availability.local_midnight(week_start, clinic.tz)
    end = availability.local_midnight(week_start + timedelta(days=7), clinic.tz)
    if Appointment.objects.active().filter(therapist=therapist).overlapping(start, end).exists():
        return None
    return TimeOff.objects.create(therapist=therapist, start=start, end=end, reason="Vacation")


# Booking ------------------------------------------------------------------------------------------

_PATIENT_FIRST = (
    "Aaliyah",
    "Bruno",
    "Carmen",
    "Dev",
    "Emily",
    "Fatima",
    "George",
    "Hannah",
    "Isaac",
    "Julia",
    "Kofi",
    "Laura",
    "Mateo",
    "Nadia",
    "Owen",
    "Paula",
    "Quentin",
    "Rachel",
    "Samir",
    "Tanya",
)
_PATIENT_LAST = (
    "Abbott",
    "Bouchard",
    "Chen",
    "Desai",
    "Evans",
    "Ferreira",
    "Gagnon",
    "Hughes",
    "Ibrahim",
    "Joseph",
    "Kim",
    "Lavoie",
    "Morales",
    "Nguyen",
    "O'Brien",
    "Patel",
    "Roy",
    "Singh",
    "Thompson",
    "Walsh",
)


def random_patient(rng: random.Random) -> services.PatientDetails:
    """A made-up patient; the same name always has the same email and phone, so it is one patient record."""
    first_index, last_index = rng.randrange(len(_PATIENT_FIRST)), rng.randrange(len(_PATIENT_LAST))
    first, last = _PATIENT_FIRST[first_index], _PATIENT_LAST[last_index]
    number = first_index * len(_PATIENT_LAST) + last_index
    return services.PatientDetails(
        name=f"{first} {last}",
        email=f"{first}.{last.replace(chr(39), '')}@example.com".lower(),
        # 555-01xx numbers are reserved for fiction.
        phone=f"416-555-01{number % 100:02d}",
    )


def free_slots_between(
    *,
    option: ServiceOption,
    therapists: Sequence[Therapist],
    first_day: date,
    last_day: date,
    clinic: ClinicSettings,
    earliest: datetime,
    latest: datetime,
) -> list[Slot]:
    """Free starts of `therapists` for `option` between two moments, on the clinic's grid."""
    if not therapists:
        return []
    rules = replace(selectors.search_rules(option, clinic, earliest), earliest=earliest, latest=latest)
    return availability.free_slots_for_many(selectors.calendars(therapists, first_day, last_day, clinic), rules)


@dataclass
class BookingTally:
    booked: list[Appointment] = field(default_factory=list)
    skipped: int = 0


def book_random(
    *,
    count: int,
    options: Sequence[ServiceOption],
    offered_by: dict[int, list[Therapist]],
    clinic: ClinicSettings,
    first_day: date,
    last_day: date,
    earliest: datetime,
    latest: datetime,
    actor: Actor,
    now: datetime,
    rng: random.Random,
    must_end_by: datetime | None = None,
    on_booked: Callable[[Appointment], None] | None = None,
) -> BookingTally:
    """Book up to `count` phone appointments at random free times, as the receptionist would.

    Each attempt reads the calendar afresh, so a booking never lands on an earlier one;
    whatever the booking service refuses is counted as skipped.
    """
    tally = BookingTally()
    # Default lengths are the most common, as in a real clinic.
    weights = [4 if option.is_default else 1 for option in options]
    attempts = 0
    while len(tally.booked) < count and attempts < count * 3 + 10:
        attempts += 1
        option = rng.choices(options, weights)[0]
        slots = free_slots_between(
            option=option,
            therapists=offered_by.get(option.service_id, []),
            first_day=first_day,
            last_day=last_day,
            clinic=clinic,
            earliest=earliest,
            latest=latest if must_end_by is None else min(latest, must_end_by - option.duration + timedelta(seconds=1)),
        )
        if not slots:
            tally.skipped += 1
            continue
        slot = rng.choice(slots)
        try:
            appointment = services.appointment_book(
                option=option,
                therapist=slot.therapist,
                start=slot.start,
                patient=random_patient(rng),
                now=now,
                channel=Appointment.Channel.PHONE,
                actor=actor,
                notify=False,  # made-up patients with example.com addresses: nothing to send them
            )
        except BookingError:
            tally.skipped += 1
            continue
        if on_booked is not None:
            on_booked(appointment)
        tally.booked.append(appointment)
    return tally


# The whole demo -----------------------------------------------------------------------------------


@dataclass
class DemoClinic:
    clinic: ClinicSettings
    services: list[Service]
    therapists: list[Therapist]
    logins: list[DemoLogin]
    first_day: date
    last_day: date
    created_therapists: int = 0
    time_off: list[TimeOff] = field(default_factory=list)
    upcoming: int = 0
    booked: int = 0
    skipped: int = 0
    completed: int = 0


def build_demo_clinic(
    *,
    therapists: int = 3,
    weeks: int = 4,
    appointments: int = 60,
    seed: int = 1,
    now: datetime | None = None,
    site_url: str = "http://127.0.0.1:8000/",
) -> DemoClinic:
    """Create whatever of the demo clinic is missing, then top its calendar up to `appointments` upcoming
    bookings over the next `weeks` weeks. A few sessions in the past week are booked and marked completed."""
    if weeks < 1:
        raise ValueError("The demo needs at least one week.")
    if appointments < 0:
        raise ValueError("The number of appointments cannot be negative.")
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 - made-up demo data, repeatable on purpose

    with transaction.atomic():
        clinic = ensure_clinic_settings()
        service_list = [ensure_service(spec) for spec in SERVICES]
        by_slug = {service.slug: service for service in service_list}
        staff = [ensure_therapist(spec, by_slug) for spec in therapist_specs(therapists)]
        therapist_list = [therapist for therapist, _ in staff]
        logins = ensure_logins(therapist_list[0], site_url)
        today = now.astimezone(clinic.tz).date()
        first_day, last_day = today, today + timedelta(days=7 * weeks - 1)
        result = DemoClinic(
            clinic=clinic,
            services=service_list,
            therapists=therapist_list,
            logins=logins,
            first_day=first_day,
            last_day=last_day,
            created_therapists=sum(created for _, created in staff),
        )
        on_holiday = therapist_list[min(1, len(therapist_list) - 1)]
        week_start = next_monday(today) + timedelta(days=7 if weeks >= 3 else 0)
        time_off = ensure_week_off(on_holiday, week_start, clinic, now)
        if time_off is not None:
            result.time_off.append(time_off)

    actor = Actor.system("Demo clinic (seed_demo)")
    options = list(
        ServiceOption.objects.select_related("service")
        .filter(service__in=service_list, active=True, service__active=True)
        .order_by("service__order", "duration_minutes")
    )
    offered_by: dict[int, list[Therapist]] = {}
    for therapist in (
        Therapist.objects.active().filter(pk__in=[t.pk for t in therapist_list]).prefetch_related("services")
    ):
        for service in therapist.services.all():
            offered_by.setdefault(service.pk, []).append(therapist)
    # The whole calendar counts, so a second run with other numbers tops it up rather than piling on.
    upcoming = Appointment.objects.active().filter(start__gte=now).count()
    past_start = availability.local_midnight(today - timedelta(days=7), clinic.tz)
    completed = Appointment.objects.filter(
        status=Appointment.Status.COMPLETED, start__gte=past_start, start__lt=now
    ).count()
    past_wanted = min(10, appointments // 6)

    def complete(appointment: Appointment) -> None:
        for action in (Action.CHECK_IN, Action.COMPLETE):
            services.appointment_change_status(appointment=appointment, action=action, now=now, actor=actor)

    future = book_random(
        count=max(0, appointments - upcoming),
        options=options,
        offered_by=offered_by,
        clinic=clinic,
        first_day=first_day,
        last_day=last_day,
        earliest=now + clinic.min_notice,
        latest=availability.local_midnight(last_day + timedelta(days=1), clinic.tz),
        actor=actor,
        now=now,
        rng=rng,
    )
    past = book_random(
        count=max(0, past_wanted - completed),
        options=options,
        offered_by=offered_by,
        clinic=clinic,
        first_day=today - timedelta(days=7),
        last_day=today,
        earliest=past_start,
        latest=now,
        actor=actor,
        now=now,
        rng=rng,
        must_end_by=now,
        on_booked=complete,
    )
    result.booked, result.skipped = len(future.booked), future.skipped + past.skipped
    result.upcoming = upcoming + result.booked
    result.completed = completed + len(past.booked)
    return result
