"""How fast are free times and the front desk? The slot engine and the JSON API, then the calendar feed
and the patient search, on a busy clinic.

Usage: python -m bench [--repeats N] [--seed S] [--check]

The clinic: 8 therapists, Monday to Friday 9:00–17:00 with lunch 12:00–13:00,
all offering one service, with 600 appointments over the 4 weeks from next
Monday, and 10,000 patients. It lives in a throwaway database made like a
test database (on whatever DATABASE_URL names, or SQLite) and dropped at the end.
"""

# Django must be set up before models are imported.
# ruff: noqa: E402

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
# The bench measures what a request costs, from one client that calls the API more often than the public's rate
# limit allows; the limits' own cost (one cache increment) is in the load test, which keeps them on.
os.environ["CLINIC_RATE_LIMITS"] = "off"

import django

django.setup()

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment
from django.utils import timezone

from booking import availability, calendar_events, selectors
from booking.availability import Interval, Rules
from booking.models import Appointment, Patient, Service, ServiceOption
from clinic import demo
from clinic.models import ClinicSettings
from therapists.models import Therapist

THERAPISTS = 8
APPOINTMENTS = 600
DAYS = 28
PATIENTS = 300
MAX_QUERIES = 6
DIRECTORY = 10_000
FEED_MAX_QUERIES = 5


def median_ms(action: Callable[[], object], repeats: int) -> float:
    action()  # warm up: first calls fill caches and compile templates
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


# The clinic --------------------------------------------------------------------------------------


@dataclass
class BenchClinic:
    clinic: ClinicSettings
    service: Service
    option: ServiceOption
    therapists: list[Therapist]
    first_day: date
    appointments: int


def build_clinic(now: datetime, rng: random.Random) -> BenchClinic:
    """The benchmark's clinic, from the demo's building blocks; appointments go in with one bulk insert."""
    clinic = demo.ensure_clinic_settings(horizon_days=60)
    service = demo.ensure_service(demo.MYOFASCIAL_RELEASE)
    therapists = [
        demo.ensure_therapist(
            demo.generated_therapist(index, hours=demo.WEEKDAYS_WITH_LUNCH, services=(service.slug,)),
            {service.slug: service},
        )[0]
        for index in range(THERAPISTS)
    ]
    options = list(ServiceOption.objects.filter(service=service).select_related("service"))
    option = selectors.default_option(options)
    if option is None:
        raise RuntimeError(f"{service} has no bookable length.")
    first_day = demo.next_monday(now.astimezone(clinic.tz).date())
    patients = Patient.objects.bulk_create(
        Patient(name=f"Patient {number}", email=f"patient{number}@example.com", phone="416-555-0100")
        for number in range(PATIENTS)
    )
    rows = place_appointments(clinic, service, options, therapists, first_day, patients, now, rng)
    Appointment.objects.bulk_create(rows, batch_size=300)
    return BenchClinic(clinic, service, option, therapists, first_day, len(rows))


def place_appointments(
    clinic: ClinicSettings,
    service: Service,
    options: list[ServiceOption],
    therapists: list[Therapist],
    first_day: date,
    patients: list[Patient],
    now: datetime,
    rng: random.Random,
) -> list[Appointment]:
    """APPOINTMENTS bookings at random free times found by the engine itself, so none overlap."""
    tz = clinic.tz
    far = availability.local_midnight(first_day + timedelta(days=DAYS + 1), tz)
    rules = {
        option: Rules(option.duration, service.buffer, clinic.slot_step, earliest=now, latest=far, tz=tz)
        for option in options
    }
    shortest = min(options, key=lambda option: option.duration_minutes)
    weights = [4 if option.is_default else 1 for option in options]
    days = [first_day + timedelta(days=offset) for offset in range(DAYS)]
    working = {day: availability.working_intervals(demo.WEEKDAYS_WITH_LUNCH, day, day, tz) for day in days}
    open_days = [(therapist, day) for therapist in therapists for day in days if working[day]]
    busy: dict[tuple[Therapist, date], list[Interval]] = {key: [] for key in open_days}
    rows: list[Appointment] = []
    while len(rows) < APPOINTMENTS:
        if not open_days:
            raise RuntimeError(f"Only {len(rows)} appointments fit; the bench needs {APPOINTMENTS}.")
        key = rng.choice(open_days)
        therapist, day = key
        option = rng.choices(options, weights)[0]
        slots = availability.free_slots(working=working[day], busy=busy[key], rules=rules[option])
        if not slots:
            option = shortest
            slots = availability.free_slots(working=working[day], busy=busy[key], rules=rules[option])
        if not slots:
            open_days.remove(key)
            continue
        start = rng.choice(slots).start
        end = start + option.duration
        busy[key].append(Interval(start, end + service.buffer))
        rows.append(
            Appointment(
                patient=rng.choice(patients),
                therapist=therapist,
                service=service,
                duration_minutes=option.duration_minutes,
                price=option.price,
                start=start,
                end=end,
                blocked_until=end + service.buffer,
                channel=Appointment.Channel.PHONE,
            )
        )
    return rows


# Measuring ---------------------------------------------------------------------------------------


@dataclass
class Case:
    label: str
    therapists: list[Therapist]
    days: int
    url: str
    target_ms: float


@dataclass
class Result:
    case: Case
    engine_ms: float
    selector_ms: float
    engine_slots: int
    api_ms: float | None = None
    api_queries: int | None = None
    api_slots: int | None = None
    api_error: str = ""

    @property
    def passed(self) -> bool:
        return (
            self.api_ms is not None
            and self.api_ms < self.case.target_ms
            and self.api_queries is not None
            and self.api_queries <= MAX_QUERIES
            and self.api_slots == self.engine_slots
        )


def get_ok(client: Client, url: str) -> object:
    """A timed request; any answer but 200 would time something else, so it stops the bench."""
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered HTTP {response.status_code} while being timed")
    return response


def measure(case: Case, bench: BenchClinic, now: datetime, repeats: int, client: Client) -> Result:
    clinic, option = bench.clinic, bench.option
    last_day = bench.first_day + timedelta(days=case.days - 1)
    calendars = selectors.calendars(case.therapists, bench.first_day, last_day, clinic)
    rules = selectors.search_rules(option, clinic, now)
    engine_slots = len(availability.free_slots_for_many(calendars, rules))
    engine_ms = median_ms(lambda: availability.free_slots_for_many(calendars, rules), repeats)
    search = selectors.SlotSearch(option=option, therapists=case.therapists, first_day=bench.first_day, days=case.days)
    selector_ms = median_ms(lambda: selectors.free_slots(search, clinic, now), repeats)
    result = Result(case, engine_ms, selector_ms, engine_slots)

    try:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(case.url)
    except NotImplementedError:
        result.api_error = "not implemented yet"
        return result
    if response.status_code != 200:
        result.api_error = f"HTTP {response.status_code}: {response.content[:200]!r}"
        return result
    result.api_queries = len(queries.captured_queries)
    result.api_slots = len(response.json()["slots"])
    result.api_ms = median_ms(lambda: get_ok(client, case.url), repeats)
    return result


def table(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.rjust(w) if column in right else cell.ljust(w)
            for column, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(results: list[Result]) -> str:
    rows = [
        [
            "request",
            "engine ms",
            "selectors+engine ms",
            "API ms",
            "API queries",
            "slots",
            "target (API)",
            "result",
        ]
    ]
    for result in results:
        api_ms = f"{result.api_ms:.2f}" if result.api_ms is not None else "-"
        queries = str(result.api_queries) if result.api_queries is not None else "-"
        slots = str(result.engine_slots)
        if result.api_slots is not None and result.api_slots != result.engine_slots:
            slots += f" (API {result.api_slots})"
        rows.append(
            [
                result.case.label,
                f"{result.engine_ms:.2f}",
                f"{result.selector_ms:.2f}",
                api_ms,
                queries,
                slots,
                f"< {result.case.target_ms:g} ms, <= {MAX_QUERIES} queries",
                "PASS" if result.passed else "FAIL",
            ]
        )
    return table(rows, right={1, 2, 3, 4, 5})


# The front desk ----------------------------------------------------------------------------------


@dataclass
class DeskCase:
    label: str
    read: Callable[[], object]
    target_ms: float
    max_queries: int
    url: str = ""


@dataclass
class DeskResult:
    case: DeskCase
    median_ms: float
    queries: int
    size: int
    request_ms: float | None = None
    request_queries: int | None = None
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and self.median_ms < self.case.target_ms and self.queries <= self.case.max_queries


def add_patients(count: int, rng: random.Random) -> None:
    """A patient directory of `count` people with distinct names, emails and phone numbers."""
    first, last = demo._PATIENT_FIRST, demo._PATIENT_LAST
    Patient.objects.bulk_create(
        (
            Patient(
                name=f"{rng.choice(first)} {rng.choice(last)}-{number}",
                email=f"person{number}@example.com",
                phone=f"+1647555{number:04d}",
            )
            for number in range(count)
        ),
        batch_size=1000,
    )


def measure_desk(case: DeskCase, repeats: int, client: Client) -> DeskResult:
    with CaptureQueriesContext(connection) as queries:
        found = case.read()
    size = len(found) if isinstance(found, list | tuple) else 0
    result = DeskResult(case, median_ms(case.read, repeats), len(queries.captured_queries), size)
    if case.url:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(case.url)
        if response.status_code != 200:
            result.error = f"HTTP {response.status_code}"
            return result
        result.request_queries = len(queries.captured_queries)
        result.request_ms = median_ms(lambda: get_ok(client, case.url), repeats)
    return result


def desk_cases(bench: BenchClinic) -> list[DeskCase]:
    clinic, monday = bench.clinic, bench.first_day
    sunday = monday + timedelta(days=6)

    def feed(last_day: date) -> Callable[[], object]:
        return lambda: calendar_events.feed(
            selectors.calendar_range(monday, last_day, clinic), monday, last_day, clinic.tz
        )

    day_url = f"/frontdesk/events/?start={monday}&end={monday + timedelta(days=1)}"
    week_url = f"/frontdesk/events/?start={monday}&end={sunday + timedelta(days=1)}"
    return [
        DeskCase(f"calendar feed, 1 day ({monday:%a %b %-d})", feed(monday), 40, FEED_MAX_QUERIES, day_url),
        DeskCase(
            f"calendar feed, 1 week ({monday:%b %-d} – {sunday:%b %-d})", feed(sunday), 80, FEED_MAX_QUERIES, week_url
        ),
        DeskCase("patient search by name part", lambda: selectors.patient_search("nadia gag"), 20, 1),
        DeskCase("patient search by phone (647-555-01)", lambda: selectors.patient_search("647-555-01"), 20, 1),
        DeskCase("patient search by email part", lambda: selectors.patient_search("person9876@"), 20, 1),
    ]


def desk_report(results: list[DeskResult]) -> str:
    rows = [["read", "median ms", "queries", "rows", "request ms", "request queries", "target", "result"]]
    for result in results:
        rows.append(
            [
                result.case.label,
                f"{result.median_ms:.2f}",
                str(result.queries),
                str(result.size),
                f"{result.request_ms:.2f}" if result.request_ms is not None else "-",
                str(result.request_queries) if result.request_queries is not None else "-",
                f"< {result.case.target_ms:g} ms, <= {result.case.max_queries} queries",
                "PASS" if result.passed else f"FAIL {result.error}".strip(),
            ]
        )
    return table(rows, right={1, 2, 3, 4, 5})


def log_in_front_desk(client: Client) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user("bench-desk", password=None, is_staff=True)
    user.groups.add(Group.objects.get(name="Receptionist"))
    client.force_login(user)


# The run -----------------------------------------------------------------------------------------


def database_label() -> str:
    version = ".".join(str(part) for part in connection.get_database_version())
    return f"{connection.display_name} {version}"


def connection_policy() -> str:
    max_age = connection.settings_dict["CONN_MAX_AGE"]
    if max_age is None:
        return "kept open between requests"
    if max_age == 0:
        return "opened for each request (DJANGO_CONN_MAX_AGE=0)"
    return f"kept open for {max_age} s"


def machine_load(load: float) -> str:
    cpus = os.cpu_count() or 1
    note = f"load average {load:.1f} on {cpus} CPUs"
    if load > cpus:
        note += " (a busy machine: timings are inflated)"
    return note


def use_throwaway_database() -> tuple[str, str | None]:
    """Point the test database somewhere no test run or developer uses; return the old name and a temp dir."""
    settings_dict = connection.settings_dict
    if "DJANGO_CONN_MAX_AGE" not in os.environ:
        # Measure the queries, not a new connection per request: production keeps connections open.
        settings_dict["CONN_MAX_AGE"] = None
    temp_dir = None
    if connection.vendor == "sqlite":
        temp_dir = tempfile.mkdtemp(prefix="clinic-bench-")
        settings_dict["TEST"]["NAME"] = os.path.join(temp_dir, "bench.sqlite3")
    else:
        settings_dict["TEST"]["NAME"] = f"test_{settings_dict['NAME']}_bench"
    return settings_dict["NAME"], temp_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per measurement (median); default 30")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the clinic's calendar; default 1")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a row fails its target")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    setup_test_environment(debug=False)
    old_name, temp_dir = use_throwaway_database()
    try:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
        created = time.perf_counter()
        database = database_label()
        now = timezone.now()
        rng = random.Random(args.seed)
        bench = build_clinic(now, rng)
        add_patients(DIRECTORY, rng)
        built = time.perf_counter()

        slug, first = bench.service.slug, bench.first_day.isoformat()
        one = bench.therapists[0]
        cases = [
            Case(
                f"(a) 1 therapist, 1 day ({first})",
                [one],
                1,
                f"/api/availability/?service={slug}&therapist={one.slug}&date={first}&days=1",
                10,
            ),
            Case(
                f"(b) {THERAPISTS} therapists, {DAYS} days",
                bench.therapists,
                DAYS,
                f"/api/availability/?service={slug}&therapist=any&date={first}&days={DAYS}",
                50,
            ),
        ]
        load = os.getloadavg()[0]
        client = Client()
        results = [measure(case, bench, now, args.repeats, client) for case in cases]
        log_in_front_desk(client)
        desk_results = [measure_desk(case, args.repeats, client) for case in desk_cases(bench)]
        patients = Patient.objects.count()
        measured = time.perf_counter()

        tracemalloc.start()
        client.get(cases[-1].url)
        _, api_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
    finished = time.perf_counter()

    last = bench.first_day + timedelta(days=DAYS - 1)
    print(
        f"Availability benchmark on {database}: {THERAPISTS} therapists, {bench.appointments} appointments, "
        f"{bench.first_day:%a %Y-%m-%d} to {last:%a %Y-%m-%d}, {bench.option} sessions; median of {args.repeats} runs"
    )
    print(f"Database connections {connection_policy()}; {machine_load(load)}")
    print()
    print(report(results))
    print()
    for result in results:
        if result.api_error:
            print(f"API for {result.case.label}: {result.api_error}")
    print()
    print(
        f"Front desk on the same clinic ({patients:,} patients). 'queries' and 'median ms' are the read itself "
        "(selectors and the feed's JSON); 'request' adds the session, the login and the clinic's settings."
    )
    print()
    print(desk_report(desk_results))
    print()
    if connection.vendor != "postgresql":
        print("The targets are set for PostgreSQL; on other databases they are for information.")
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"Memory: peak resident {peak_rss_mb:.0f} MB; one {DAYS}-day API call allocates at most {api_peak / 1e6:.1f} MB"
    )
    print(
        f"Time: database {created - started:.1f} s, clinic {built - created:.1f} s, "
        f"measuring {measured - built:.1f} s, clean-up {finished - measured:.1f} s; total {finished - started:.1f} s"
    )
    failed = not all(result.passed for result in results) or not all(result.passed for result in desk_results)
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
