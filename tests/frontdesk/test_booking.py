"""Phone-in booking at the front desk: the dialog, finding the patient, "next free" and repeat bookings."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from booking import services
from booking.models import Appointment, Patient
from tests.conftest import NOW, weekday_therapist
from tests.factories import AppointmentFactory, PatientFactory, ServiceFactory, TherapistFactory, UserFactory

TORONTO = ZoneInfo("America/Toronto")
HTMX = {"HTTP_HX_REQUEST": "true"}
TUESDAY = date(2026, 12, 8)  # NOW is Monday 7 December 2026, 08:00 in Toronto

BOOK = reverse("frontdesk:book")
PATIENTS = reverse("frontdesk:book_patients")
NEXT_FREE = reverse("frontdesk:next_free")

pytestmark = pytest.mark.django_db


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def login(client, group: str, username: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


@pytest.fixture
def desk(client):
    login(client, "Receptionist", "rosa")
    return client


@pytest.fixture
def ana(db):
    return PatientFactory(name="Ana Silva", email="ana@example.com", phone="+14165550108")


def form(option, therapist, start: str, **fields) -> dict:
    data = {
        "option": option.pk,
        "therapist": therapist.pk if therapist else "",
        "start": start,
        "channel": "phone",
        "note": "",
        "notify": "on",
        "request_key": "",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def body(response) -> str:
    return response.content.decode()


# --- who may book --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [BOOK, PATIENTS + "?q=ana", NEXT_FREE])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_post_books_nothing(client, option, therapist, ana):
    response = client.post(BOOK, form(option, therapist, "2026-12-08T10:00", patient=ana.pk))

    assert response.status_code == 302
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("url", [BOOK, PATIENTS + "?q=ana", NEXT_FREE])
def test_therapists_are_refused(client, url, therapist):
    therapist.user = login(client, "Therapist", "alex")
    therapist.save()

    assert client.get(url).status_code == 403


def test_therapists_cannot_book(client, option, therapist, ana):
    login(client, "Therapist", "alex")

    assert client.post(BOOK, form(option, therapist, "2026-12-08T10:00", patient=ana.pk)).status_code == 403
    assert not Appointment.objects.exists()


# --- the dialog ----------------------------------------------------------------------------------


def test_calendar_offers_the_dialog_and_next_free(desk):
    response = desk.get(reverse("frontdesk:calendar"))

    assert response.context["config"]["bookUrl"] == BOOK
    assert f'href="{BOOK}"' in body(response) and f'href="{NEXT_FREE}"' in body(response)


def test_a_click_on_the_calendar_fills_in_therapist_time_and_the_services_usual_length(desk, option, therapist):
    response = desk.get(BOOK, {"therapist": therapist.pk, "start": "2026-12-08T10:30"}, **HTMX)

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "frontdesk/_book_dialog.html"
    page = body(response)
    assert 'value="2026-12-08T10:30"' in page
    assert f'<option value="{therapist.pk}" selected>' in page
    assert f'<option value="{option.pk}" selected>Myofascial release, 60 min – $125</option>' in page
    assert 'name="notify" class="checkboxinput form-check-input" id="book-notify" checked' in page


def test_the_dialog_as_a_page_without_htmx(desk, option, therapist):
    response = desk.get(BOOK)

    assert response.status_code == 200
    assert "<h1" in body(response) and "New booking" in body(response)


@pytest.mark.parametrize("query", ["therapist=abc", "start=tomorrow", "option=999999", "patient=999999"])
def test_a_bad_prefill_is_a_400_with_a_reason(desk, option, therapist, query):
    response = desk.get(f"{BOOK}?{query}", **HTMX)

    assert response.status_code == 400
    assert "could not be filled in" in body(response)


def test_the_patient_search_finds_a_phone_number_typed_in_any_format(desk, ana):
    PatientFactory(name="Leo Grant", email="leo@example.com", phone="+16475550100")

    for typed in ["416-555-0108", "(416) 555 0108", "4165550108", "555-0108"]:
        response = desk.get(PATIENTS, {"q": typed}, **HTMX)
        assert list(response.context["patients"]) == [ana], typed
        assert f'name="patient" value="{ana.pk}"' in body(response)


def test_the_patient_search_by_name_or_email_and_its_hints(desk, ana):
    assert list(desk.get(PATIENTS, {"q": "silv"}).context["patients"]) == [ana]
    assert list(desk.get(PATIENTS, {"q": "ana@example"}).context["patients"]) == [ana]
    assert "Type at least 2 letters" in body(desk.get(PATIENTS, {"q": "a"}))
    assert "Nobody found for “Zed”" in body(desk.get(PATIENTS, {"q": "Zed"}))


def test_booking_a_phone_caller_with_an_existing_patient(
    desk, option, therapist, ana, mailoutbox, deliver_outbox, django_capture_on_commit_callbacks
):
    data = form(option, therapist, "2026-12-08T10:05", patient=ana.pk, note="Pain down the left leg.")
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(BOOK, data, **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "calendar-changed"
    [appointment] = Appointment.objects.all()
    assert appointment.patient == ana
    assert appointment.therapist == therapist
    assert appointment.start == at(TUESDAY, 10, 5)  # staff may book any minute inside working hours
    assert appointment.channel == Appointment.Channel.PHONE
    assert appointment.booked_by.username == "rosa"
    assert appointment.patient_note == "Pain down the left leg."
    page = body(response)
    assert "Booked Ana Silva for Tue 8 Dec 2026, 10:05 with Alex Moreau." in page
    assert "A confirmation will be emailed to ana@example.com." in page
    assert reverse("frontdesk:appointment", args=[appointment.pk]) in page
    deliver_outbox()
    assert [message.to for message in mailoutbox] == [["ana@example.com"]]


def test_booking_an_in_person_patient_with_any_therapist(desk, option, therapist, second_therapist, ana):
    AppointmentFactory(therapist=therapist, service=option.service, start=at(TUESDAY, 10))

    response = desk.post(BOOK, form(option, None, "2026-12-08T10:00", patient=ana.pk, channel="front_desk"), **HTMX)

    assert response.status_code == 200
    appointment = Appointment.objects.get(patient=ana)
    assert appointment.therapist == second_therapist
    assert appointment.channel == Appointment.Channel.FRONT_DESK


def test_booking_a_new_patient_from_the_same_dialog(desk, option, therapist):
    data = form(
        option,
        therapist,
        "2026-12-08T13:00",
        patient="new",
        name="  Leo   Grant ",
        email="leo@example.com",
        phone="(647) 555-0100",
        date_of_birth="1980-04-02",
    )

    response = desk.post(BOOK, data, **HTMX)

    assert response.status_code == 200
    patient = Patient.objects.get()
    assert (patient.name, patient.email, str(patient.phone.as_e164)) == ("Leo Grant", "leo@example.com", "+16475550100")
    assert patient.date_of_birth == date(1980, 4, 2)
    assert Appointment.objects.get().patient == patient


def test_booking_without_the_email_sends_none(
    desk, option, therapist, ana, mailoutbox, deliver_outbox, django_capture_on_commit_callbacks
):
    data = form(option, therapist, "2026-12-08T10:00", patient=ana.pk, notify=None)
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(BOOK, data, **HTMX)

    assert response.status_code == 200
    assert "No confirmation will be emailed." in body(response)
    assert Appointment.objects.count() == 1
    deliver_outbox()
    assert mailoutbox == []


def test_a_refused_booking_keeps_everything_typed_and_says_why(desk, option, therapist):
    AppointmentFactory(therapist=therapist, service=option.service, start=at(TUESDAY, 10))
    data = form(
        option,
        therapist,
        "2026-12-08T10:30",
        patient="new",
        name="Leo Grant",
        email="leo@example.com",
        phone="647-555-0100",
        note="Left hip",
        notify=None,
        request_key="a" * 32,
    )

    response = desk.post(BOOK, data, **HTMX)

    assert response.status_code == 409
    page = body(response)
    assert "That time was just taken" in page
    for kept in ['value="2026-12-08T10:30"', 'value="Leo Grant"', 'value="leo@example.com"', "Left hip</textarea>"]:
        assert kept in page
    assert 'id="patient-new" checked' in page
    assert 'id="book-notify" checked' not in page  # still unticked
    assert Appointment.objects.count() == 1
    assert not Patient.objects.filter(email="leo@example.com").exists()  # no stray record from a refused booking


def test_a_time_outside_working_hours_is_refused_with_the_reason(desk, option, therapist, ana):
    response = desk.post(BOOK, form(option, therapist, "2026-12-08T12:30", patient=ana.pk), **HTMX)

    assert response.status_code == 409
    assert "outside the therapist&#x27;s working hours" in body(response)
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"patient": ""}, "patient", "Find the patient and choose them, or add a new patient."),
        ({"patient": "999999"}, "patient", "That patient record no longer exists"),
        ({"patient": "new", "name": "Leo", "email": "leo@example.com", "phone": "12"}, "phone", "valid phone"),
        ({"patient": "new", "name": "", "email": "x@example.com", "phone": "6475550100"}, "name", "full name"),
        ({"start": "2026-12-08T25:00"}, "start", "Enter a date and time"),
        ({"option": "999999"}, "option", "Choose a treatment"),
        ({"repeat": "1", "sessions": "40"}, "sessions", "at most 26"),
        ({"date_of_birth": "2090-01-01", "patient": "new"}, "date_of_birth", "date of birth"),
    ],
)
def test_bad_input_is_a_400_with_a_clear_message_and_nothing_saved(
    desk, option, therapist, ana, fields, field, message
):
    data = form(option, therapist, "2026-12-08T10:00", patient=ana.pk)
    data.update(fields)

    response = desk.post(BOOK, data, **HTMX)

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Appointment.objects.exists()
    assert Patient.objects.count() == 1


def test_a_therapist_who_does_not_give_the_service_is_refused_in_the_form(desk, option, ana):
    other = TherapistFactory(name="Kim Park", services=[ServiceFactory(name="Trigger point therapy")])

    response = desk.post(BOOK, form(option, other, "2026-12-08T10:00", patient=ana.pk), **HTMX)

    assert response.status_code == 400
    assert response.context["form"].errors["therapist"] == ["Kim Park does not give Myofascial release."]


def test_a_double_submitted_dialog_books_once(desk, option, therapist, second_therapist, ana):
    data = form(option, None, "2026-12-08T10:00", patient=ana.pk, request_key="b" * 32)

    first = desk.post(BOOK, data, **HTMX)
    second = desk.post(BOOK, data, **HTMX)

    assert (first.status_code, second.status_code) == (200, 200)
    assert Appointment.objects.count() == 1


def test_without_htmx_a_booking_goes_to_the_appointment_page(desk, option, therapist, ana):
    response = desk.post(BOOK, form(option, therapist, "2026-12-08T10:00", patient=ana.pk))

    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("frontdesk:appointment", args=[appointment.pk])


def test_without_javascript_the_find_button_searches_and_keeps_the_dialog(desk, option, therapist, ana):
    query = form(option, therapist, "2026-12-08T10:00", q="0108", note="Hip", find="1", notify=None)

    response = desk.get(BOOK, query)

    assert response.status_code == 200
    assert list(response.context["patients"]) == [ana]
    page = body(response)
    assert 'value="2026-12-08T10:00"' in page and "\nHip</textarea>" in page
    assert 'id="book-notify" checked' not in page


# --- next free -----------------------------------------------------------------------------------


def test_next_free_lists_the_next_times_each_opening_the_dialog(desk, option, therapist):
    AppointmentFactory(therapist=therapist, service=option.service, start=at(date(2026, 12, 7), 9))

    response = desk.get(NEXT_FREE, {"option": option.pk, "therapist": therapist.pk}, **HTMX)

    assert response.status_code == 200
    days = response.context["days"]
    starts = [free.start for times in days.values() for free in times]
    assert len(starts) == 15
    # Today (Monday, 08:00 now): the 9:00 booking and its buffer block until 10:15; staff may book at short notice.
    assert starts[0] == at(date(2026, 12, 7), 10, 15)
    assert starts == sorted(starts)
    link = f"{BOOK}?option={option.pk}&amp;therapist={therapist.pk}&amp;start=2026-12-07T10%3A15"
    assert link in body(response)


def test_a_patient_chosen_in_the_dialog_comes_back_with_a_next_free_pick(desk, option, therapist, ana):
    found = desk.get(NEXT_FREE, {"option": option.pk, "therapist": therapist.pk, "patient": ana.pk}, **HTMX)
    assert f"&amp;patient={ana.pk}" in body(found)

    dialog = desk.get(BOOK, {"option": option.pk, "start": "2026-12-08T10:00", "patient": ana.pk}, **HTMX)

    assert f'name="patient" value="{ana.pk}" id="patient-{ana.pk}" checked' in body(dialog)


def test_next_free_for_anyone_lists_each_time_once_with_everyone_free_then(desk, option, therapist, second_therapist):
    response = desk.get(NEXT_FREE, {"option": option.pk, "therapist": "", "date": "2026-12-08"}, **HTMX)

    first = next(iter(response.context["days"].values()))[0]
    assert first.start == at(TUESDAY, 9)
    assert [who.name for who in first.therapists] == ["Alex Moreau", "Sam Okafor"]


def test_next_free_without_parameters_shows_the_usual_length_from_today(desk, option, therapist):
    response = desk.get(NEXT_FREE)

    assert response.status_code == 200
    assert response.context["option"] == option
    assert response.context["first_day"] == date(2026, 12, 7)


def test_next_free_looks_further_when_the_first_week_is_full(desk, option, therapist):
    for offset in range(7):
        day = date(2026, 12, 7) + timedelta(days=offset)
        AppointmentFactory(therapist=therapist, service=option.service, start=at(day, 9), duration_minutes=480)

    response = desk.get(NEXT_FREE, {"option": option.pk, "therapist": therapist.pk}, **HTMX)

    first_day = next(iter(response.context["days"]))
    assert first_day == date(2026, 12, 14)


@pytest.mark.parametrize("query", [{"option": "x"}, {"option": "1", "therapist": "y"}, {"option": "1", "date": "soon"}])
def test_next_free_refuses_bad_parameters_with_400(desk, option, query):
    assert desk.get(NEXT_FREE, query, **HTMX).status_code == 400


def test_next_free_query_count_is_the_same_for_one_or_many_therapists_and_appointments(
    desk, option, service, therapist, django_assert_num_queries
):
    # Login and permissions (4), the clinic, the service lengths, the therapists and what they give (3),
    # then two per search: a week first, and only if that is not enough, the four weeks after it.
    with django_assert_num_queries(10):
        desk.get(NEXT_FREE, {"option": option.pk, "therapist": ""}, **HTMX)

    for number in range(6):
        extra = weekday_therapist(service, f"extra-{number}", f"Extra {number}", lunch=False, order=5 + number)
        for day in range(5):
            for hour in (9, 11, 14):
                start = at(date(2026, 12, 7) + timedelta(days=day), hour)
                AppointmentFactory(therapist=extra, service=service, start=start)
    for day in range(60):  # Alex is fully booked for two months: the second, wider search runs too
        start = at(date(2026, 12, 7) + timedelta(days=day), 8)
        AppointmentFactory(therapist=therapist, service=service, start=start, duration_minutes=600)

    with django_assert_num_queries(10):
        desk.get(NEXT_FREE, {"option": option.pk, "therapist": ""}, **HTMX)
    with django_assert_num_queries(12):
        full = desk.get(NEXT_FREE, {"option": option.pk, "therapist": therapist.pk}, **HTMX)
    assert full.context["days"] == {}
    assert "No free time for Myofascial release (60 min) with Alex Moreau" in body(full)


# --- repeat bookings -----------------------------------------------------------------------------


def series_form(option, therapist, patient, **fields) -> dict:
    return form(option, therapist, "2026-12-08T10:00", patient=patient.pk, repeat="1", sessions="6", **fields)


def test_a_repeat_booking_of_6_weekly_sessions_with_one_clash_offers_alternatives_and_saves_nothing_until_settled(
    desk, option, therapist, second_therapist, ana, mailoutbox, deliver_outbox, django_capture_on_commit_callbacks
):
    taken = AppointmentFactory(therapist=therapist, service=option.service, start=at(date(2026, 12, 22), 10))
    data = series_form(option, therapist, ana, request_key="c" * 32)

    checked = desk.post(BOOK, data, **HTMX)

    assert checked.status_code == 200
    assert Appointment.objects.count() == 1  # nothing saved yet
    assert "Nothing is booked yet: 1 of 6 sessions does not fit." in body(checked)
    rows = checked.context["sessions"]
    assert [row["session"].fits for row in rows] == [True, True, False, True, True, True]
    offered = {row["value"] for row in rows[2]["alternatives"]}
    assert f"2026-12-22T10:00@{second_therapist.pk}" in offered  # another therapist at the same time
    assert f"2026-12-22T13:00@{therapist.pk}" in offered  # the same therapist later that day
    assert f"2026-12-21T10:00@{therapist.pk}" in offered  # the same therapist, the day before
    plan = checked.context["plan_key"]

    unsettled = desk.post(BOOK, {**data, "plan": plan}, **HTMX)
    assert unsettled.status_code == 200 and Appointment.objects.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        settled = desk.post(BOOK, {**data, "plan": plan, "settle_3": f"2026-12-21T10:00@{therapist.pk}"}, **HTMX)

    assert settled.status_code == 200
    assert settled["HX-Trigger"] == "calendar-changed"
    booked = Appointment.objects.exclude(pk=taken.pk).order_by("start")
    assert [f"{a.start.astimezone(TORONTO):%a %d %b %H:%M}" for a in booked] == [
        "Tue 08 Dec 10:00",
        "Tue 15 Dec 10:00",
        "Mon 21 Dec 10:00",
        "Tue 29 Dec 10:00",
        "Tue 05 Jan 10:00",
        "Tue 12 Jan 10:00",
    ]
    assert {a.therapist for a in booked} == {therapist} and {a.patient for a in booked} == {ana}
    assert "Booked 6 sessions for Ana Silva" in body(settled)
    deliver_outbox()
    assert len(mailoutbox) == 1 and mailoutbox[0].subject.startswith("Your 6 appointments are booked")


def test_a_settled_series_is_all_saved_or_none_when_a_clash_appears_between_the_check_and_the_save(
    desk, option, therapist, second_therapist, ana, monkeypatch
):
    AppointmentFactory(therapist=therapist, service=option.service, start=at(date(2026, 12, 22), 10))
    data = series_form(option, therapist, ana)
    plan = desk.post(BOOK, data, **HTMX).context["plan_key"]
    real = services.appointment_book_series

    def someone_books_the_last_tuesday_first(**kwargs):
        AppointmentFactory(therapist=therapist, service=option.service, start=at(date(2027, 1, 12), 10))
        return real(**kwargs)

    monkeypatch.setattr(services, "appointment_book_series", someone_books_the_last_tuesday_first)
    before = Appointment.objects.count()

    response = desk.post(BOOK, {**data, "plan": plan, "settle_3": f"2026-12-22T10:00@{second_therapist.pk}"}, **HTMX)

    assert response.status_code == 409
    assert Appointment.objects.count() == before + 1  # only the other booking: none of the six
    assert not Appointment.objects.filter(patient=ana).exists()
    page = body(response)
    assert "Nothing was booked. Session 6, Tue 12 Jan 2027 10:00: That time was just taken." in page
    rows = response.context["sessions"]
    assert [row["session"].fits for row in rows] == [True, True, False, True, True, False]
    assert rows[2]["alternatives"][0]["checked"] or any(alt["checked"] for alt in rows[2]["alternatives"])


def test_a_skipped_session_is_left_out(desk, option, therapist, ana):
    AppointmentFactory(therapist=therapist, service=option.service, start=at(date(2026, 12, 22), 10))
    data = series_form(option, therapist, ana)
    plan = desk.post(BOOK, data, **HTMX).context["plan_key"]

    response = desk.post(BOOK, {**data, "plan": plan, "settle_3": "skip"}, **HTMX)

    assert response.status_code == 200
    assert Appointment.objects.filter(patient=ana).count() == 5


def test_choices_made_for_another_plan_are_not_applied(desk, option, therapist, ana):
    AppointmentFactory(therapist=therapist, service=option.service, start=at(date(2026, 12, 22), 10))
    data = series_form(option, therapist, ana)
    plan = desk.post(BOOK, data, **HTMX).context["plan_key"]

    # The receptionist changed the number of sessions after seeing the list: it is checked afresh.
    response = desk.post(BOOK, {**data, "sessions": "5", "plan": plan, "settle_3": "skip"}, **HTMX)

    assert response.status_code == 200
    assert not Appointment.objects.filter(patient=ana).exists()
    assert "Nothing is booked yet" in body(response)


def test_an_alternative_taken_since_must_be_chosen_again(desk, option, therapist, second_therapist, ana):
    AppointmentFactory(therapist=therapist, service=option.service, start=at(date(2026, 12, 22), 10))
    data = series_form(option, therapist, ana)
    plan = desk.post(BOOK, data, **HTMX).context["plan_key"]
    AppointmentFactory(therapist=second_therapist, service=option.service, start=at(date(2026, 12, 22), 10))

    response = desk.post(BOOK, {**data, "plan": plan, "settle_3": f"2026-12-22T10:00@{second_therapist.pk}"}, **HTMX)

    assert response.status_code == 200
    assert "Session 3: the time picked for it is no longer free; choose again." in body(response)
    assert not Appointment.objects.filter(patient=ana).exists()


def test_a_repeat_booking_that_fits_is_booked_straight_away(desk, option, therapist, ana):
    response = desk.post(BOOK, form(option, therapist, "2026-12-08T10:00", patient=ana.pk, repeat="2", sessions="3"))

    assert response.status_code == 302
    starts = [a.start for a in Appointment.objects.order_by("start")]
    assert starts == [at(TUESDAY, 10), at(date(2026, 12, 22), 10), at(date(2027, 1, 5), 10)]


def test_skipping_every_session_books_nothing(desk, option, therapist, ana):
    for week in range(2):
        AppointmentFactory(therapist=therapist, service=option.service, start=at(TUESDAY + timedelta(weeks=week), 10))
    data = form(option, therapist, "2026-12-08T10:00", patient=ana.pk, repeat="1", sessions="2")
    plan = desk.post(BOOK, data, **HTMX).context["plan_key"]

    response = desk.post(BOOK, {**data, "plan": plan, "settle_1": "skip", "settle_2": "skip"}, **HTMX)

    assert response.status_code == 400
    assert "Every session is skipped" in body(response)
    assert not Appointment.objects.filter(patient=ana).exists()


# --- reads stay cheap ----------------------------------------------------------------------------


def test_the_dialog_and_the_patient_search_take_a_fixed_number_of_queries(
    desk, option, therapist, second_therapist, ana, django_assert_num_queries
):
    for number in range(30):
        PatientFactory(name=f"Ana Other {number}", phone=f"+1416555{number:04d}")

    # Login and permissions (4), the clinic, the service lengths, the therapists and what they give (2).
    with django_assert_num_queries(8):
        desk.get(BOOK, {"therapist": therapist.pk, "start": "2026-12-08T10:00"}, **HTMX)
    # Login and permissions (4), the clinic, then one search.
    with django_assert_num_queries(6):
        response = desk.get(PATIENTS, {"q": "ana"}, **HTMX)
    assert len(response.context["patients"]) == 8


@pytest.mark.parametrize("sessions", ["2", "26"])
def test_checking_a_repeat_booking_takes_the_same_queries_whatever_its_length(
    desk, option, therapist, second_therapist, ana, sessions, django_assert_num_queries
):
    for week in range(26):
        AppointmentFactory(therapist=therapist, service=option.service, start=at(TUESDAY + timedelta(weeks=week), 10))
    data = form(option, therapist, "2026-12-08T10:00", patient=ana.pk, repeat="1", sessions=sessions)

    # The dialog's own reads (8) and the patient, then the check: who gives the service,
    # the sessions' days (2) and, for those that do not fit, the days around them (2).
    with django_assert_num_queries(14):
        response = desk.post(BOOK, data, **HTMX)

    assert response.status_code == 200
    assert not any(row["session"].fits for row in response.context["sessions"])
