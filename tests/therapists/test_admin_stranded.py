"""The admin lists the booked appointments a change to a therapist's time would strand, before saving it.

Time off, working hours (on their own and on the therapist page) and the active flag: each change is
refused with one message at the top of the form that lists the appointments and holds a "Save anyway"
box; ticked, the change is saved. The clock is Monday 7 Dec 2026, 08:00 in Toronto; Alex works weekdays
9–12 and 13–17 and has Jordan Lee booked on Tuesday at 10:00.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from booking.models import Appointment
from tests.conftest import NOW
from tests.factories import AppointmentFactory, PatientFactory, TimeOffFactory
from therapists.models import Therapist, TimeOff, WorkingHours

TORONTO = ZoneInfo("America/Toronto")
TUESDAY = "2026-12-08"


def local(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=TORONTO)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def appointment(therapist, service):
    return AppointmentFactory(
        therapist=therapist, service=service, start=local(TUESDAY, 10), patient=PatientFactory(name="Jordan Lee")
    )


def top_errors(response) -> list[str]:
    return [str(error) for error in response.context["adminform"].form.non_field_errors()]


def assert_refused_with(response, *appointments: Appointment) -> None:
    """Refused with one message at the top naming each appointment, its time in Toronto, and its front desk link."""
    assert response.status_code == 200
    [message] = top_errors(response)
    for appointment in appointments:
        assert appointment.patient.name in message
        assert reverse("frontdesk:appointment", args=[appointment.pk]) in message
    assert "Tue 8 Dec 2026, 10:00" in message
    assert f'name="save_anyway" value="{",".join(str(a.pk) for a in appointments)}"' in message
    body = response.content.decode()
    assert "Save anyway" in body
    assert "&lt;a href" not in body  # the links are links, not escaped text


def anyway(data: dict, *appointments: Appointment) -> dict:
    return {**data, "save_anyway": ",".join(str(appointment.pk) for appointment in appointments)}


# Time off, on its own


def time_off_data(therapist, start: datetime, end: datetime, reason: str = "Course") -> dict:
    return {
        "therapist": therapist.pk,
        "start_0": start.date().isoformat(),
        "start_1": start.strftime("%H:%M"),
        "end_0": end.date().isoformat(),
        "end_1": end.strftime("%H:%M"),
        "reason": reason,
    }


def test_new_time_off_over_a_booked_appointment_is_refused_until_saved_anyway(admin_client, therapist, appointment):
    url = reverse("admin:therapists_timeoff_add")
    data = time_off_data(therapist, local(TUESDAY, 9), local(TUESDAY, 17))

    refused = admin_client.post(url, data)

    assert_refused_with(refused, appointment)
    assert not TimeOff.objects.exists()

    saved = admin_client.post(url, anyway(data, appointment))

    assert saved.status_code == 302
    assert TimeOff.objects.get().start == local(TUESDAY, 9)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_time_off_that_strands_nothing_saves_at_once(admin_client, therapist, appointment):
    response = admin_client.post(
        reverse("admin:therapists_timeoff_add"), time_off_data(therapist, local(TUESDAY, 13), local(TUESDAY, 17))
    )

    assert response.status_code == 302
    assert TimeOff.objects.count() == 1


def test_moving_time_off_onto_an_appointment_is_refused(admin_client, therapist, appointment):
    time_off = TimeOffFactory(therapist=therapist, start=local(TUESDAY, 13), end=local(TUESDAY, 17))
    url = reverse("admin:therapists_timeoff_change", args=[time_off.pk])

    refused = admin_client.post(url, time_off_data(therapist, local(TUESDAY, 9), local(TUESDAY, 17)))

    assert_refused_with(refused, appointment)
    time_off.refresh_from_db()
    assert time_off.start == local(TUESDAY, 13)


def test_editing_the_reason_of_time_off_that_already_holds_an_appointment_asks_nothing(
    admin_client, therapist, appointment
):
    time_off = TimeOffFactory(therapist=therapist, start=local(TUESDAY, 9), end=local(TUESDAY, 17))
    url = reverse("admin:therapists_timeoff_change", args=[time_off.pk])

    response = admin_client.post(url, time_off_data(therapist, local(TUESDAY, 9), local(TUESDAY, 17), "Conference"))

    assert response.status_code == 302
    time_off.refresh_from_db()
    assert time_off.reason == "Conference"


def test_an_appointment_booked_after_the_list_was_shown_is_shown_too(admin_client, therapist, service, appointment):
    newer = AppointmentFactory(therapist=therapist, service=service, start=local(TUESDAY, 14))
    data = time_off_data(therapist, local(TUESDAY, 9), local(TUESDAY, 17))

    refused = admin_client.post(reverse("admin:therapists_timeoff_add"), anyway(data, appointment))

    assert refused.status_code == 200
    assert f'value="{appointment.pk},{newer.pk}"' in top_errors(refused)[0]
    assert not TimeOff.objects.exists()


# Working hours, on their own


def hours_data(therapist, weekday: int, start: str, end: str) -> dict:
    return {"therapist": therapist.pk, "weekday": str(weekday), "start": start, "end": end}


def tuesday_morning(therapist) -> WorkingHours:
    return therapist.working_hours.get(weekday=1, start=time(9))


def test_shorter_working_hours_are_refused_until_saved_anyway(admin_client, therapist, appointment):
    hours = tuesday_morning(therapist)
    url = reverse("admin:therapists_workinghours_change", args=[hours.pk])
    data = hours_data(therapist, 1, "10:30", "12:00")

    refused = admin_client.post(url, data)

    assert_refused_with(refused, appointment)
    hours.refresh_from_db()
    assert hours.start == time(9)

    assert admin_client.post(url, anyway(data, appointment)).status_code == 302
    hours.refresh_from_db()
    assert hours.start == time(10, 30)


def test_moving_hours_to_another_therapist_strands_the_first_ones_appointments(
    admin_client, therapist, second_therapist, appointment
):
    hours = tuesday_morning(therapist)
    second_therapist.working_hours.filter(weekday=1, start=time(9)).delete()
    url = reverse("admin:therapists_workinghours_change", args=[hours.pk])

    refused = admin_client.post(url, hours_data(second_therapist, 1, "09:00", "12:00"))

    assert_refused_with(refused, appointment)
    assert hours.therapist_id == WorkingHours.objects.get(pk=hours.pk).therapist_id


def test_hours_that_strand_nothing_save_at_once(admin_client, therapist, appointment):
    response = admin_client.post(
        reverse("admin:therapists_workinghours_add"), hours_data(therapist, 5, "09:00", "12:00")
    )

    assert response.status_code == 302


def test_deleting_hours_lists_the_appointments_on_the_confirmation_page(admin_client, therapist, appointment):
    hours = tuesday_morning(therapist)

    page = admin_client.get(reverse("admin:therapists_workinghours_delete", args=[hours.pk]))

    assert [a.pk for a in page.context["stranded"]] == [appointment.pk]
    body = page.content.decode()
    assert "Deleting these hours leaves 1 booked appointment with Alex Moreau outside working time" in body
    assert reverse("frontdesk:appointment", args=[appointment.pk]) in body
    assert "Tue 8 Dec 2026, 10:00" in body


def test_working_hours_cannot_be_deleted_in_bulk(admin_client, therapist):
    changelist = admin_client.get(reverse("admin:therapists_workinghours_changelist"))

    assert changelist.context["action_form"] is None


# The therapist page: its inlines and the active flag, checked together


def therapist_page_data(therapist, service, **overrides) -> dict:
    """What the therapist page posts back unchanged: the therapist, every weekly interval, upcoming time off."""
    saved = therapist.pk is not None
    hours = list(therapist.working_hours.order_by("weekday", "start")) if saved else []
    time_off = list(TimeOff.objects.filter(therapist=therapist, end__gt=NOW).order_by("start")) if saved else []
    data = {
        "name": therapist.name,
        "slug": therapist.slug,
        "title": therapist.title,
        "registration_number": therapist.registration_number,
        "bio": "",
        "services": [service.pk],
        "active": "on",
        "order": str(therapist.order),
        "user": "",
        "working_hours-TOTAL_FORMS": str(len(hours)),
        "working_hours-INITIAL_FORMS": str(len(hours)),
        "working_hours-MIN_NUM_FORMS": "0",
        "working_hours-MAX_NUM_FORMS": "1000",
        "time_off-TOTAL_FORMS": str(len(time_off)),
        "time_off-INITIAL_FORMS": str(len(time_off)),
        "time_off-MIN_NUM_FORMS": "0",
        "time_off-MAX_NUM_FORMS": "1000",
    }
    for index, interval in enumerate(hours):
        prefix = f"working_hours-{index}-"
        data |= {
            prefix + "id": str(interval.pk),
            prefix + "therapist": str(therapist.pk),
            prefix + "weekday": str(interval.weekday),
            prefix + "start": interval.start.strftime("%H:%M"),
            prefix + "end": interval.end.strftime("%H:%M"),
        }
    for index, entry in enumerate(time_off):
        prefix = f"time_off-{index}-"
        start, end = entry.start.astimezone(TORONTO), entry.end.astimezone(TORONTO)
        data |= {
            prefix + "id": str(entry.pk),
            prefix + "therapist": str(therapist.pk),
            prefix + "start_0": start.date().isoformat(),
            prefix + "start_1": start.strftime("%H:%M"),
            prefix + "end_0": end.date().isoformat(),
            prefix + "end_1": end.strftime("%H:%M"),
            prefix + "reason": entry.reason,
        }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def hours_index(therapist, weekday: int, start: time) -> int:
    return list(therapist.working_hours.order_by("weekday", "start")).index(
        therapist.working_hours.get(weekday=weekday, start=start)
    )


def page_url(therapist) -> str:
    return reverse("admin:therapists_therapist_change", args=[therapist.pk])


def test_the_page_saves_unchanged_at_once(admin_client, therapist, service, appointment):
    TimeOffFactory(therapist=therapist, start=local("2026-12-09", 9), end=local("2026-12-09", 17))

    response = admin_client.post(page_url(therapist), therapist_page_data(therapist, service, bio="New bio"))

    assert response.status_code == 302
    therapist.refresh_from_db()
    assert therapist.bio == "New bio"


def test_making_a_therapist_inactive_is_refused_until_saved_anyway(admin_client, therapist, service, appointment):
    data = therapist_page_data(therapist, service, active=None)

    refused = admin_client.post(page_url(therapist), data)

    assert_refused_with(refused, appointment)
    assert Therapist.objects.get(pk=therapist.pk).active

    assert admin_client.post(page_url(therapist), anyway(data, appointment)).status_code == 302
    assert not Therapist.objects.get(pk=therapist.pk).active


def test_deleting_an_inline_interval_is_refused_until_saved_anyway(admin_client, therapist, service, appointment):
    index = hours_index(therapist, 1, time(9))
    data = therapist_page_data(therapist, service, **{f"working_hours-{index}-DELETE": "on"})

    refused = admin_client.post(page_url(therapist), data)

    assert_refused_with(refused, appointment)
    assert therapist.working_hours.filter(weekday=1, start=time(9)).exists()

    assert admin_client.post(page_url(therapist), anyway(data, appointment)).status_code == 302
    assert not therapist.working_hours.filter(weekday=1, start=time(9)).exists()


def test_changing_an_inline_interval_is_refused(admin_client, therapist, service, appointment):
    index = hours_index(therapist, 1, time(9))
    data = therapist_page_data(therapist, service, **{f"working_hours-{index}-start": "10:30"})

    assert_refused_with(admin_client.post(page_url(therapist), data), appointment)
    assert therapist.working_hours.filter(weekday=1, start=time(9)).exists()


def test_new_inline_time_off_is_refused_until_saved_anyway(admin_client, therapist, service, appointment):
    data = therapist_page_data(therapist, service)
    data |= {
        "time_off-TOTAL_FORMS": "1",
        "time_off-0-therapist": str(therapist.pk),
        "time_off-0-start_0": TUESDAY,
        "time_off-0-start_1": "09:00",
        "time_off-0-end_0": TUESDAY,
        "time_off-0-end_1": "12:00",
        "time_off-0-reason": "Dentist",
    }

    refused = admin_client.post(page_url(therapist), data)

    assert_refused_with(refused, appointment)
    assert not TimeOff.objects.exists()

    assert admin_client.post(page_url(therapist), anyway(data, appointment)).status_code == 302
    assert TimeOff.objects.get().reason == "Dentist"


def test_changed_inline_time_off_is_refused(admin_client, therapist, service, appointment):
    TimeOffFactory(therapist=therapist, start=local(TUESDAY, 13), end=local(TUESDAY, 17))
    data = therapist_page_data(therapist, service, **{"time_off-0-start_1": "09:00"})

    assert_refused_with(admin_client.post(page_url(therapist), data), appointment)
    assert TimeOff.objects.get().start == local(TUESDAY, 13)


def test_more_hours_and_less_time_off_never_ask(admin_client, therapist, service, appointment):
    TimeOffFactory(therapist=therapist, start=local(TUESDAY, 9), end=local(TUESDAY, 17))
    data = therapist_page_data(therapist, service, **{"time_off-0-DELETE": "on"})
    data |= {
        "working_hours-TOTAL_FORMS": str(int(data["working_hours-TOTAL_FORMS"]) + 1),
        "working_hours-10-therapist": str(therapist.pk),
        "working_hours-10-weekday": "5",
        "working_hours-10-start": "10:00",
        "working_hours-10-end": "14:00",
    }

    response = admin_client.post(page_url(therapist), data)

    assert response.status_code == 302
    assert not TimeOff.objects.exists()
    assert therapist.working_hours.filter(weekday=5).exists()


def test_an_inline_error_comes_first_and_nothing_is_saved(admin_client, therapist, service, appointment):
    index = hours_index(therapist, 1, time(9))
    data = therapist_page_data(
        therapist,
        service,
        active=None,
        **{f"working_hours-{index}-start": "13:00", f"working_hours-{index}-end": "09:00"},
    )

    response = admin_client.post(page_url(therapist), data)

    assert response.status_code == 200
    assert top_errors(response) == []
    assert "The end must be after the start." in response.content.decode()
    assert Therapist.objects.get(pk=therapist.pk).active


def test_a_new_therapist_has_nothing_to_strand(admin_client, service):
    data = therapist_page_data(Therapist(name="Kim Park", slug="kim-park", registration_number="R1"), service)

    assert admin_client.post(reverse("admin:therapists_therapist_add"), data).status_code == 302


def test_a_patients_name_is_shown_as_text_in_the_message(admin_client, therapist, service):
    AppointmentFactory(
        therapist=therapist, service=service, start=local(TUESDAY, 10), patient=PatientFactory(name="<b>Jo</b> Lee")
    )

    refused = admin_client.post(
        reverse("admin:therapists_timeoff_add"), time_off_data(therapist, local(TUESDAY, 9), local(TUESDAY, 17))
    )

    [message] = top_errors(refused)
    assert "&lt;b&gt;Jo&lt;/b&gt; Lee" in message
    assert "<b>Jo</b>" not in refused.content.decode()
