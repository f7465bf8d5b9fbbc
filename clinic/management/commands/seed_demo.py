from argparse import ArgumentTypeError
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic import demo, two_factor


def _day(moment) -> str:
    return f"{moment:%a %b} {moment.day}"


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise ArgumentTypeError(f"{value} is negative")
    return number


class Command(BaseCommand):
    help = (
        "Create the Mo Therapy demo clinic: services, therapists with hours and time off, one staff login per "
        "role and a calendar of phone bookings. Safe to run again: it only adds what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--therapists", type=_count, default=3, help="How many therapists (default 3; more are generated)."
        )
        parser.add_argument("--weeks", type=_count, default=4, help="Weeks of bookings from today (default 4).")
        parser.add_argument(
            "--appointments",
            type=_count,
            default=60,
            help="Upcoming appointments to have in the calendar (default 60); only the missing ones are added.",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed for patients and times (default 1).")
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Run even with DJANGO_DEBUG off: for a throwaway database such as the load test's, never a real "
            "clinic's (the demo logins' password is public).",
        )

    def handle(
        self, *args, therapists: int, weeks: int, appointments: int, seed: int, allow_without_debug: bool, **options
    ) -> None:
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError(
                "seed_demo is for development: it creates staff logins whose password is published in the README. "
                "DJANGO_DEBUG is off here, so this looks like a production database; nothing was changed. "
                "Set DJANGO_DEBUG=true for a development machine, or pass --allow-without-debug for a throwaway "
                "database."
            )
        if not 1 <= therapists <= demo.MAX_THERAPISTS:
            raise CommandError(f"--therapists must be between 1 and {demo.MAX_THERAPISTS}.")
        if not 1 <= weeks <= 52:
            raise CommandError("--weeks must be between 1 and 52.")
        try:
            result = demo.build_demo_clinic(
                therapists=therapists,
                weeks=weeks,
                appointments=appointments,
                seed=seed,
                site_url=settings.SITE_URL,
            )
        except RuntimeError as error:
            raise CommandError(str(error)) from error

        tz = result.clinic.tz
        write = self.stdout.write
        write(self.style.SUCCESS(f"{result.clinic.name} demo clinic is ready ({result.clinic.time_zone})."))
        write(f"  Services:     {', '.join(service.name for service in result.services)}")
        write(
            f"  Therapists:   {', '.join(therapist.name for therapist in result.therapists)}"
            + (f" ({result.created_therapists} new)" if result.created_therapists else "")
        )
        for time_off in result.time_off:
            write(
                f"  Time off:     {time_off.therapist.name}, "
                f"{_day(time_off.start.astimezone(tz))} – {_day((time_off.end - timedelta(seconds=1)).astimezone(tz))}"
            )
        write(
            f"  Appointments: {result.upcoming} upcoming from {_day(result.first_day)} to "
            f"{_day(result.last_day)} ({result.booked} added"
            + (f", {result.skipped} tries skipped" if result.skipped else "")
            + f"); {result.completed} completed in the past week"
        )

        base = settings.SITE_URL.rstrip("/")
        write("")
        write(self.style.MIGRATE_HEADING(f"Demo logins (password for each: {demo.DEMO_PASSWORD})"))
        rows = [("Username", "Role", "Start page", "Sees")]
        for login in result.logins:
            sees = login.what + (f" ({login.therapist})" if login.therapist else "")
            rows.append((login.username, login.role, login.url, sees))
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        for row in rows:
            write("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3])
        kept = [login.username for login in result.logins if not login.created]
        if kept:
            write(f"  ({', '.join(kept)} already existed: their passwords were left as they were.)")
        write("")
        write(self.style.MIGRATE_HEADING("Two-factor code (managers need one after the password)"))
        for line in two_factor.demo_authenticator_for(
            [login.username for login in result.logins if login.role == "Manager"], debug=settings.DEBUG
        ):
            write(f"  {line}")
        write("")
        write(self.style.MIGRATE_HEADING("Where to go"))
        for label, path in (("Site", "/"), ("Staff login", "/accounts/login/"), ("Admin panel", "/admin/")):
            write(f"  {label.ljust(13)}{base}{path}")
