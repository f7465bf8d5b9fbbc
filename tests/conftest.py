"""Shared fixtures: a small clinic, a fixed clock, and the switches that say why a test cannot run here."""

import os
import shutil
import uuid
from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from clinic import sessions
from clinic.models import ClinicSettings
from tests.factories import ServiceFactory, ServiceOptionFactory, TherapistFactory, WorkingHoursFactory

CHROMIUM = "/usr/bin/chromium"

# Monday 2026-12-07 08:00 in Toronto (13:00 UTC): the clock most tests run at.
NOW = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)


def require_or_skip(available: bool, what: str, env_flag: str) -> None:
    """Skip with a reason on a machine without `what`; in CI (env flag set) a missing one is a failure."""
    if available:
        return
    if os.environ.get(env_flag):
        pytest.fail(f"{what} is required here ({env_flag} is set) but is not available")
    pytest.skip(f"{what} is not available on this machine")


def pytest_configure(config) -> None:
    """A file-based SQLite test database needs its folder (test-output/ is not in the repository)."""
    from django.conf import settings

    test_name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and test_name:
        Path(test_name).parent.mkdir(parents=True, exist_ok=True)


def pytest_collection_modifyitems(items):
    """Tests that need PostgreSQL carry the `postgres` marker, so a SQLite run can deselect them (-m "not postgres")."""
    for item in items:
        if "postgres_only" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(autouse=True)
def fresh_content_type_cache():
    """Transactional tests flush and reload the tables, which can give content types new ids."""
    ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Each test counts its own tries against the rate limits (clinic.ratelimit): a cache key prefix of its own, so
    counts never carry over from one test to the next, nor between test processes sharing one Redis."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl:{uuid.uuid4().hex}:"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing costs a second per user; tests check permissions, not password strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def force_login_includes_two_factor(monkeypatch):
    """`client.force_login(user)` stands for the whole staff login, at whatever time the test's clock shows:

    - the authenticator's code: a manager or superuser gets an authenticator if they have none, and the session
      counts as verified, as after the code;
    - the idle timeout: the session's last request is stamped far in the future, so tests that log in and then
      move the clock by hours or years stay logged in.

    tests/clinic/test_login_protection.py and tests/e2e/test_two_factor.py log in through the forms instead."""
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        pass_two_factor(self, user)
        session = self.session
        session[sessions.LAST_SEEN] = int(datetime(9000, 1, 1, tzinfo=UTC).timestamp())
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


def pass_two_factor(client, user) -> None:
    """Mark `client`'s session as having passed the second step for `user`, when their login has one."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from clinic import two_factor

    # A fresh copy: asking for the role fills a permission cache, which must not go stale on the test's own object.
    fresh = type(user)._default_manager.get(pk=user.pk)
    device = two_factor.confirmed_device(fresh)
    if device is None:
        if not two_factor.required_for(fresh):
            return
        device = TOTPDevice.objects.create(user=fresh, name="Test authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.pop(two_factor.SESSION_DUE, None)
    session.save()


@pytest.fixture
def postgres_only(db):
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL)", "CLINIC_REQUIRE_POSTGRES")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    require_or_skip(shutil.which(CHROMIUM) is not None, f"Chromium at {CHROMIUM}", "CLINIC_REQUIRE_BROWSER")
    return CHROMIUM


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def clinic(db) -> ClinicSettings:
    return ClinicSettings.load()


@pytest.fixture
def service(db):
    service = ServiceFactory(name="Myofascial release", slug="myofascial-release", buffer_minutes=15)
    ServiceOptionFactory(service=service, duration_minutes=30, price=Decimal("70.00"), is_default=False)
    ServiceOptionFactory(service=service, duration_minutes=60, price=Decimal("125.00"), is_default=True)
    ServiceOptionFactory(service=service, duration_minutes=90, price=Decimal("175.00"), is_default=False)
    return service


@pytest.fixture
def option(service):
    return service.options.get(duration_minutes=60)


def weekday_therapist(service, slug: str, name: str, *, lunch: bool = True, order: int = 0):
    """A therapist who works Monday to Friday 9:00–17:00, with lunch 12:00–13:00 unless `lunch` is off."""
    therapist = TherapistFactory(slug=slug, name=name, order=order, services=[service])
    for weekday in range(5):
        if lunch:
            WorkingHoursFactory(therapist=therapist, weekday=weekday, start=time(9), end=time(12))
            WorkingHoursFactory(therapist=therapist, weekday=weekday, start=time(13), end=time(17))
        else:
            WorkingHoursFactory(therapist=therapist, weekday=weekday, start=time(9), end=time(17))
    return therapist


@pytest.fixture
def therapist(service):
    return weekday_therapist(service, "alex-moreau", "Alex Moreau")


@pytest.fixture
def second_therapist(service):
    return weekday_therapist(service, "sam-okafor", "Sam Okafor", order=1)


def ensure_roles() -> None:
    """The roles the data migration made; a transactional test's flush empties the groups table, so remake them."""
    import importlib

    from django.contrib.auth.models import Group, Permission

    roles = importlib.import_module("clinic.migrations.0002_roles").ROLES
    revoked = importlib.import_module("clinic.migrations.0006_managers_without_user_admin").REVOKED
    granted = importlib.import_module("clinic.migrations.0007_managers_unlock_logins").GRANTED
    for role, grants in roles.items():
        group, created = Group.objects.get_or_create(name=role)
        if created:
            for model_label, actions in {**grants, **granted.get(role, {})}.items():
                taken = revoked.get(role, {}).get(model_label, [])
                app_label, model = model_label.split(".")
                group.permissions.add(
                    *Permission.objects.filter(
                        content_type__app_label=app_label,
                        codename__in=[f"{action}_{model}" for action in actions if action not in taken],
                    )
                )


def staff_user(username: str, group: str):
    """A staff login in one of the roles the data migration creates."""
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    ensure_roles()
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def receptionist(db):
    return staff_user("rosa", "Receptionist")


@pytest.fixture
def desk_client(client, receptionist):
    """A test client logged in as a receptionist."""
    client.force_login(receptionist)
    return client


@pytest.fixture
def deliver_outbox(mailoutbox):
    """What the worker does after a commit: send the queued messages (by default, at the moment the last one is
    due, as tests run on their own clock). Returns the mail sent."""
    from django.db.models import Max
    from django.utils import timezone

    from notifications import delivery
    from notifications.models import OutboundMessage

    def deliver(now=None):
        latest = OutboundMessage.objects.aggregate(latest=Max("send_after"))["latest"]
        delivery.deliver_due(now or max(filter(None, (latest, timezone.now()))))
        return mailoutbox

    return deliver
