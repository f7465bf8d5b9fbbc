from datetime import time, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from booking.models import Appointment, Patient, Service, ServiceOption
from therapists.models import Therapist, TimeOff, WorkingHours


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("a-long-test-password")
    is_staff = True


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")
    summary = "A treatment."
    buffer_minutes = 10


class ServiceOptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceOption
        django_get_or_create = ("service", "duration_minutes")

    service = factory.SubFactory(ServiceFactory)
    duration_minutes = 60
    price = Decimal("120.00")
    is_default = True


class TherapistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Therapist
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Therapist {n}")
    slug = factory.Sequence(lambda n: f"therapist-{n}")
    registration_number = factory.Sequence(lambda n: f"R{n:05d}")

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.add(*extracted)


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    therapist = factory.SubFactory(TherapistFactory)
    weekday = 0
    start = time(9, 0)
    end = time(17, 0)


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    therapist = factory.SubFactory(TherapistFactory)
    reason = "Holiday"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    name = factory.Sequence(lambda n: f"Patient {n}")
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    phone = "416-555-0100"


class AppointmentFactory(factory.django.DjangoModelFactory):
    """Writes straight to the table, bypassing the booking service: for setting up calendars in tests."""

    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    therapist = factory.SubFactory(TherapistFactory)
    service = factory.SubFactory(ServiceFactory)
    duration_minutes = 60
    price = Decimal("120.00")
    end = factory.LazyAttribute(lambda a: a.start + timedelta(minutes=a.duration_minutes))
    blocked_until = factory.LazyAttribute(lambda a: a.end + timedelta(minutes=a.service.buffer_minutes))
