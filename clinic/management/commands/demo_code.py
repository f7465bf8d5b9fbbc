from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone
from django_otp.oath import TOTP

from clinic import two_factor


class Command(BaseCommand):
    help = (
        "Print the current two-factor code of the demo manager's authenticator (the published demo key that "
        "seed_demo gives them), for logging in to the demo clinic without an authenticator app. Development only."
    )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_code is for the demo clinic on a development machine (DJANGO_DEBUG=true).")
        try:
            device = two_factor.demo_device()
        except DatabaseError:
            device = None  # a database not yet migrated: `make run` sets it up
        if device is None:
            raise CommandError("No login has the demo authenticator yet: start the demo clinic with `make run` first.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = timezone.now().timestamp()
        if totp.t() <= device.last_t:
            # Each code works once: this one has been used, the app's next one comes with the next time step.
            totp.time += device.step
            self.stdout.write("The current code was just used; the next one (it works already):")
        self.stdout.write(
            f"{totp.token():0{device.digits}d}  (for {device.user.get_username()}; a new code every {device.step} "
            f"seconds, each works once)"
        )
