from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import timezone

from booking.models import Appointment, AppointmentEvent, Patient, Service, ServiceOption
from clinic import demo
from clinic.models import ClinicSettings
from therapists.models import Therapist, TimeOff, WorkingHours

SMALL = ["--weeks", "2", "--appointments", "15"]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def development(settings):
    """seed_demo is a development command; with debug off it refuses (tests/clinic/test_settings.py)."""
    settings.DEBUG = True


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *SMALL, *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [
        ClinicSettings,
        Service,
        ServiceOption,
        Therapist,
        WorkingHours,
        TimeOff,
        Patient,
        Appointment,
        get_user_model(),
    ]
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
def test_seed_demo_creates_one_login_per_role_in_its_group():
    seed()

    users = get_user_model().objects
    for username, group in [("manager", "Manager"), ("reception", "Receptionist"), ("therapist", "Therapist")]:
        user = users.get(username=username)
        assert user.is_staff and user.is_active
        assert not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert user.check_password(demo.DEMO_PASSWORD)
    assert Group.objects.get(name="Manager").permissions.exists()
    assert Therapist.objects.get(user__username="therapist").slug == "maya-lindqvist"


@pytest.mark.django_db
def test_seed_demo_creates_the_clinic_and_its_two_services_with_lengths_and_prices():
    seed()

    clinic = ClinicSettings.objects.get()
    assert (clinic.name, clinic.time_zone) == ("Mo Therapy", "America/Toronto")
    lengths = {
        service.slug: sorted(service.options.values_list("duration_minutes", flat=True))
        for service in Service.objects.all()
    }
    assert lengths == {"myofascial-release": [30, 45, 60, 90], "trigger-point-therapy": [30, 45, 60]}
    for service in Service.objects.all():
        assert service.options.get(is_default=True).duration_minutes == 60
        assert service.summary
        assert service.description.count("\n\n") >= 2
        assert all(option.price > 0 for option in service.options.all())
    assert Service.objects.get(slug="myofascial-release").buffer_minutes == 15
    assert Service.objects.get(slug="trigger-point-therapy").buffer_minutes == 10


@pytest.mark.django_db
def test_seed_demo_gives_each_therapist_a_bio_a_registration_and_their_own_hours():
    seed()

    therapists = list(Therapist.objects.prefetch_related("working_hours", "services"))
    assert len(therapists) == 3
    weekly = []
    for therapist in therapists:
        assert therapist.bio and therapist.registration_number and therapist.active
        assert therapist.services.exists()
        hours = [(h.weekday, h.start, h.end) for h in therapist.working_hours.all()]
        assert hours
        weekly.append(hours)
    assert len({tuple(hours) for hours in weekly}) == 3
    # Someone works a split shift, and someone has a weekday off.
    assert any(len([h for h in hours if h[0] == 1]) == 2 for hours in weekly)
    assert any({h[0] for h in hours} != set(range(5)) for hours in weekly)
    assert TimeOff.objects.filter(end__gt=timezone.now()).count() == 1


@pytest.mark.django_db
def test_seed_demo_books_upcoming_phone_appointments_recorded_as_the_command():
    seed()

    upcoming = Appointment.objects.active().filter(start__gte=timezone.now())
    assert upcoming.count() == 15
    assert set(upcoming.values_list("channel", flat=True)) == {Appointment.Channel.PHONE}
    assert set(upcoming.values_list("booked_by", flat=True)) == {None}
    events = AppointmentEvent.objects.filter(appointment__in=upcoming)
    assert events.count() == 15
    assert set(events.values_list("kind", "actor_role", "via")) == {("booked", "system", "command")}
    assert Appointment.objects.filter(status=Appointment.Status.COMPLETED, start__lt=timezone.now()).exists()


@pytest.mark.django_db
def test_seed_demo_never_double_books_a_therapist():
    seed("--therapists", "4", "--appointments", "40")

    by_therapist: dict[int, list[Appointment]] = {}
    for appointment in Appointment.objects.active().order_by("start"):
        by_therapist.setdefault(appointment.therapist_id, []).append(appointment)
    for appointments in by_therapist.values():
        for earlier, later in zip(appointments, appointments[1:], strict=False):
            assert earlier.blocked_until <= later.start, (earlier, later)
    for time_off in TimeOff.objects.all():
        assert (
            not Appointment.objects.active()
            .filter(therapist=time_off.therapist)
            .overlapping(time_off.start, time_off.end)
        )


@pytest.mark.django_db
def test_running_seed_demo_twice_adds_nothing():
    seed()
    before = counts()

    seed()

    assert counts() == before


@pytest.mark.django_db
def test_seed_demo_adds_generated_therapists_when_asked_for_more():
    seed("--therapists", "5", "--appointments", "0")

    assert Therapist.objects.count() == 5
    assert all(therapist.working_hours.exists() for therapist in Therapist.objects.all())
    assert Appointment.objects.filter(start__gte=timezone.now()).count() == 0


@pytest.mark.django_db
def test_seed_demo_prints_the_logins_and_where_to_use_them():
    output = seed()

    for text in ["manager", "reception", "therapist", demo.DEMO_PASSWORD]:
        assert text in output
    for url in ["http://127.0.0.1:8000/", "http://127.0.0.1:8000/admin/", "http://127.0.0.1:8000/accounts/login/"]:
        assert url in output


@pytest.mark.django_db
def test_seed_demo_keeps_what_the_manager_changed():
    seed("--appointments", "0")
    Service.objects.filter(slug="myofascial-release").update(name="Fascia release")
    ServiceOption.objects.filter(service__slug="myofascial-release", duration_minutes=90).delete()

    seed("--appointments", "0")

    service = Service.objects.get(slug="myofascial-release")
    assert service.name == "Fascia release"
    assert not service.options.filter(duration_minutes=90).exists()


@pytest.mark.parametrize("args", [["--therapists", "0"], ["--weeks", "0"], ["--appointments", "-1"]])
def test_seed_demo_refuses_nonsense_numbers(args):
    with pytest.raises(CommandError):
        call_command("seed_demo", *args, stdout=StringIO())
