from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        # Their receivers of user_logged_in: the session's idle clock, the two-factor step owed, and forgetting the
        # account's failed logins.
        from clinic import login_protection, sessions, two_factor  # noqa: F401
