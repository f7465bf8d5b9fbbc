"""The front desk's patient pages: directory and search, a patient's page and its edits, and merging duplicates."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from booking import services
from booking.actors import Actor, Via
from booking.errors import BookingError
from booking.models import Appointment, AppointmentEvent, Patient
from booking.services import PatientDetails
from clinic import change_log
from tests.conftest import NOW, staff_user
from tests.factories import AppointmentFactory, PatientFactory, UserFactory

TORONTO = ZoneInfo("America/Toronto")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TORONTO)


def login_as(client, username: str, group: str):
    user = staff_user(username, group)
    client.force_login(user)
    return user


@pytest.fixture(autouse=True)
def clinic_clock():
    """Pages read the clock: pin it to the suite's Monday, 08:00 in Toronto."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def desk_user(db, client):
    return login_as(client, "frontdesk-rosa", "Receptionist")


@pytest.fixture
def desk(client, desk_user):
    return client


@pytest.fixture
def ana(db):
    return PatientFactory(name="Ana Silva", email="ana.silva@example.org", phone="416-555-0108")


@pytest.fixture
def others(db):
    return [
        PatientFactory(name="Ben Okafor", email="ben@example.com", phone="647-555-0133"),
        PatientFactory(name="Chloé Martin", email="chloe@example.net", phone="905-555-0177"),
    ]


def book(patient, therapist, service, start, status=Appointment.Status.BOOKED, **kwargs) -> Appointment:
    return AppointmentFactory(
        patient=patient, therapist=therapist, service=service, start=start, status=status, **kwargs
    )


def page_urls(patient: Patient) -> list[str]:
    return [
        reverse("frontdesk:patients"),
        reverse("frontdesk:patient_search") + "?q=ana",
        reverse("frontdesk:patient", args=[patient.pk]),
        reverse("frontdesk:patient_merge", args=[patient.pk]),
    ]


# --- who may open them ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, ana):
    for url in page_urls(ana):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url


def test_therapists_are_refused_every_patient_page_and_change(client, ana, others):
    login_as(client, "therapist-tom", "Therapist")

    for url in page_urls(ana):
        assert client.get(url).status_code == 403, url
    edit = client.post(reverse("frontdesk:patient", args=[ana.pk]), {"name": "X", "email": "x@example.com"})
    merge = client.post(reverse("frontdesk:patient_merge", args=[ana.pk]), {"duplicate": others[0].pk})

    assert (edit.status_code, merge.status_code) == (403, 403)
    assert Patient.objects.count() == 3
    assert Patient.objects.get(pk=ana.pk).name == "Ana Silva"


def test_a_receptionist_opens_every_patient_page(desk, ana):
    for url in page_urls(ana):
        assert desk.get(url).status_code == 200, url


def test_the_nav_links_to_patients_and_marks_it_current_on_patient_pages(desk, ana):
    page = desk.get(reverse("frontdesk:patient", args=[ana.pk])).content.decode()
    calendar = desk.get(reverse("frontdesk:calendar")).content.decode()

    link = f'href="{reverse("frontdesk:patients")}" aria-current="page">Patients</a>'
    assert link in page
    assert f'href="{reverse("frontdesk:patients")}">Patients</a>' in calendar


def test_the_appointment_panel_links_to_the_patient(desk, ana, therapist, service):
    appointment = book(ana, therapist, service, at(date(2026, 12, 8), 10))

    response = desk.get(reverse("frontdesk:appointment", args=[appointment.pk]))

    assert f'href="{reverse("frontdesk:patient", args=[ana.pk])}"' in response.content.decode()


# --- the directory and search --------------------------------------------------------------------

SAME_PERSON = [
    "416-555-0108",
    "(416) 555-0108",
    "4165550108",
    "+1 416 555 0108",
    "ana",
    "SILVA",
    "ana silva",
    "a.silva@exa",
]


@pytest.mark.parametrize("query", SAME_PERSON)
def test_search_finds_the_patient_by_any_phone_format_or_part_of_name_or_email(desk, ana, others, query):
    page = desk.get(reverse("frontdesk:patients"), {"q": query})
    found = desk.get(reverse("frontdesk:patient_search"), {"q": query}).json()["patients"]

    assert [row["patient"] for row in page.context["rows"]] == [ana]
    assert [patient["id"] for patient in found] == [ana.pk]


def test_search_json_gives_contact_details_with_the_phone_both_ways(desk, ana):
    ana.date_of_birth = date(1988, 3, 14)
    ana.save()

    response = desk.get(reverse("frontdesk:patient_search"), {"q": "(416) 555-0108"})

    assert response.json() == {
        "patients": [
            {
                "id": ana.pk,
                "name": "Ana Silva",
                "phone": "(416) 555-0108",
                "phone_e164": "+14165550108",
                "email": "ana.silva@example.org",
                "date_of_birth": "1988-03-14",
            }
        ]
    }


def test_search_json_refuses_a_query_too_long_to_be_a_name(desk, ana):
    response = desk.get(reverse("frontdesk:patient_search"), {"q": "a" * 101})

    assert response.status_code == 400
    assert "q" in response.json()["errors"]


def test_search_json_with_nothing_typed_finds_nobody(desk, ana):
    assert desk.get(reverse("frontdesk:patient_search")).json() == {"patients": []}


def test_directory_refuses_a_too_long_query_with_a_message(desk, ana):
    response = desk.get(reverse("frontdesk:patients"), {"q": "x" * 500})

    assert response.status_code == 400
    assert "at most 100 characters" in response.content.decode()


def test_directory_asks_for_more_than_one_letter(desk, ana):
    response = desk.get(reverse("frontdesk:patients"), {"q": "a"})

    assert response.context["rows"] == []
    assert "Keep typing" in response.content.decode()


def test_directory_without_a_query_lists_the_newest_patients_first_with_their_next_visit(
    desk, ana, others, therapist, service
):
    book(ana, therapist, service, at(date(2026, 12, 8), 10))
    book(ana, therapist, service, at(date(2026, 12, 15), 10))
    book(ana, therapist, service, at(date(2026, 12, 9), 10), status=Appointment.Status.CANCELLED)
    book(ana, therapist, service, at(date(2026, 11, 30), 10), status=Appointment.Status.COMPLETED)

    response = desk.get(reverse("frontdesk:patients"))

    rows = response.context["rows"]
    assert [row["patient"] for row in rows] == [others[1], others[0], ana]
    assert (rows[2]["upcoming"].count, rows[2]["upcoming"].next_start) == (2, at(date(2026, 12, 8), 10))
    assert rows[0]["upcoming"].count == 0
    html = response.content.decode()
    assert "Tue 8 Dec 2026, 10:00" in html  # the clinic's clock, not UTC (15:00)
    assert "and 1 more" in html
    assert 'href="tel:+14165550108"' in html
    assert "(416) 555-0108" in html


def test_directory_pages_through_everyone_and_survives_a_bad_page_number(desk, db):
    PatientFactory.create_batch(30)

    first = desk.get(reverse("frontdesk:patients"))
    second = desk.get(reverse("frontdesk:patients"), {"page": 2})
    nonsense = desk.get(reverse("frontdesk:patients"), {"page": "x"})

    assert len(first.context["rows"]) == 25
    assert len(second.context["rows"]) == 5
    assert nonsense.status_code == 400


def test_htmx_gets_just_the_results_and_a_browser_the_whole_page(desk, ana):
    fragment = desk.get(reverse("frontdesk:patients"), {"q": "ana"}, headers={"HX-Request": "true"})
    page = desk.get(reverse("frontdesk:patients"), {"q": "ana"})

    assert "<html" not in fragment.content.decode()
    assert "Ana Silva" in fragment.content.decode()
    assert 'hx-swap-oob="innerHTML"' in fragment.content.decode()
    assert "<html" in page.content.decode()
    assert "HX-Request" in fragment["Vary"]


def many_patients_with_appointments(count: int, therapist, service) -> None:
    for number in range(count):
        patient = PatientFactory(name=f"Ana Number{number}", phone=f"416-555-{number:04d}")
        book(patient, therapist, service, at(date(2026, 12, 8), 9) + timedelta(days=7 * number))
        past = at(date(2026, 11, 30), 9) - timedelta(weeks=number)
        book(patient, therapist, service, past, status=Appointment.Status.COMPLETED)


# Every front desk request: the clinic (time zone), session, user, the user's permissions (two); every full page
# the menu's count of time off requests waiting. Then the directory's own: the count (pages only), one page of
# patients, and their upcoming visits in one query. One more: the menu's count of failed messages.
DIRECTORY_QUERIES = 10
# The same five, then the search itself.
SEARCH_QUERIES = 6


@pytest.mark.parametrize("count", [3, 30])
def test_the_directory_reads_a_fixed_number_of_queries_whatever_the_number_of_rows(
    desk, therapist, service, django_assert_max_num_queries, count
):
    many_patients_with_appointments(count, therapist, service)

    with django_assert_max_num_queries(DIRECTORY_QUERIES):
        response = desk.get(reverse("frontdesk:patients"))
    with django_assert_max_num_queries(DIRECTORY_QUERIES - 1):  # a search needs no count
        searched = desk.get(reverse("frontdesk:patients"), {"q": "ana number"})

    assert len(response.context["rows"]) == min(count, 25)
    assert len(searched.context["rows"]) == min(count, 20)


@pytest.mark.parametrize("count", [3, 30])
def test_search_json_reads_a_fixed_number_of_queries(desk, therapist, service, django_assert_max_num_queries, count):
    many_patients_with_appointments(count, therapist, service)

    with django_assert_max_num_queries(SEARCH_QUERIES):
        found = desk.get(reverse("frontdesk:patient_search"), {"q": "416555"}).json()["patients"]

    assert len(found) == min(count, 20)


# --- the patient's page and its edits ------------------------------------------------------------


def test_patient_page_shows_the_record_and_appointments_on_the_clinic_clock(desk, ana, therapist, service):
    upcoming = book(ana, therapist, service, at(date(2026, 12, 8), 10))
    past = book(ana, therapist, service, at(date(2026, 11, 30), 14), status=Appointment.Status.NO_SHOW)
    book(ana, therapist, service, at(date(2026, 11, 23), 14), status=Appointment.Status.COMPLETED)

    response = desk.get(reverse("frontdesk:patient", args=[ana.pk]))

    assert response.context["appointments"].upcoming == [upcoming]
    assert [a.status for a in response.context["appointments"].past] == ["no_show", "completed"]
    record = response.context["record"]
    assert (record.visits, record.upcoming, record.no_shows) == (1, 1, 1)
    html = response.content.decode()
    assert "Tue 8 Dec 2026, 10:00" in html
    assert "Mon 30 Nov 2026, 14:00" in html
    assert f'href="{reverse("frontdesk:appointment", args=[upcoming.pk])}"' in html
    assert f'href="{reverse("frontdesk:appointment", args=[past.pk])}"' in html
    assert "No-show" in html


# The five of every request, the menu's count of time off requests, then the patient, their record, their
# appointments and possible duplicates. One more: the menu's count of failed messages. Two more: the changes to
# the record (clinic/change_log.py) and its content type, which a running process has cached after the first page.
PATIENT_PAGE_QUERIES = 13


@pytest.mark.parametrize("count", [1, 20])
def test_the_patient_page_reads_a_fixed_number_of_queries(
    desk, ana, therapist, second_therapist, service, django_assert_max_num_queries, count
):
    for week in range(count):
        book(ana, [therapist, second_therapist][week % 2], service, at(date(2026, 12, 8), 10) + timedelta(weeks=week))
        book(ana, therapist, service, at(date(2026, 11, 30), 10) - timedelta(weeks=week), status="completed")

    with django_assert_max_num_queries(PATIENT_PAGE_QUERIES):
        response = desk.get(reverse("frontdesk:patient", args=[ana.pk]))

    assert len(response.context["appointments"].upcoming) == count


def test_patient_page_is_404_for_a_missing_patient(desk):
    assert desk.get(reverse("frontdesk:patient", args=[999999])).status_code == 404


def details_form(**overrides) -> dict:
    return {"name": "Ana  Silva ", "email": " ana.silva@example.org ", "phone": "(416) 555-0199", **overrides}


def test_editing_stores_the_phone_in_e164_whatever_the_format(desk, ana):
    response = desk.post(
        reverse("frontdesk:patient", args=[ana.pk]), details_form(date_of_birth="1988-03-14"), follow=True
    )

    ana.refresh_from_db()
    assert ana.phone.as_e164 == "+14165550199"
    assert (ana.name, ana.email, ana.date_of_birth) == ("Ana Silva", "ana.silva@example.org", date(1988, 3, 14))
    assert response.redirect_chain == [(reverse("frontdesk:patient", args=[ana.pk]), 302)]
    assert "Saved Ana Silva" in response.content.decode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"phone": "555-12"}, "Enter a phone number that can be dialled"),
        ({"phone": ""}, "This field is required"),
        ({"email": "not an email"}, "Enter a valid email address"),
        ({"name": "   "}, "This field is required"),
        ({"date_of_birth": "2027-01-01"}, "cannot be in the future"),
        ({"date_of_birth": "14/03/88"}, "Enter a valid date"),
    ],
)
def test_a_bad_edit_is_refused_with_a_message_and_nothing_saved(desk, ana, change, message):
    response = desk.post(reverse("frontdesk:patient", args=[ana.pk]), details_form(**change))

    assert response.status_code == 400
    assert message in response.content.decode()
    ana.refresh_from_db()
    assert (ana.name, ana.phone.as_e164) == ("Ana Silva", "+14165550108")
    assert response.context["patient"].name == "Ana Silva"  # the heading still shows the saved name


def test_patient_update_is_for_the_front_desk_only(ana, therapist):
    therapist.user = UserFactory(username="therapist-login")
    therapist.save()
    details = PatientDetails(name="Someone Else", email="x@example.com", phone="416-555-0199")

    with pytest.raises(BookingError) as refused:
        services.patient_update(patient=ana, details=details, actor=Actor.staff(therapist.user, Via.SCHEDULE))

    assert refused.value.code == "not_allowed"
    ana.refresh_from_db()
    assert ana.name == "Ana Silva"


def test_patient_update_refuses_a_bad_phone_even_without_the_form(ana):
    details = PatientDetails(name="Ana Silva", email="ana@example.org", phone="12")

    with pytest.raises(BookingError) as refused:
        services.patient_update(patient=ana, details=details, actor=Actor.system("tests"))

    assert refused.value.code == "invalid"


# --- merging two records of one person -----------------------------------------------------------


@pytest.fixture
def duplicate(db):
    return PatientFactory(name="Ana Silva", email="ana.s@example.com", phone="416-555-0108")


def test_merge_moves_appointments_records_history_and_deletes_the_duplicate(
    desk, desk_user, ana, duplicate, therapist, service
):
    duplicate.date_of_birth = date(1988, 3, 14)
    duplicate.save()
    kept_visit = book(ana, therapist, service, at(date(2026, 12, 8), 10))
    moving = [
        book(duplicate, therapist, service, at(date(2026, 12, 9), 10)),
        book(duplicate, therapist, service, at(date(2026, 11, 30), 10), status=Appointment.Status.COMPLETED),
    ]

    response = desk.post(reverse("frontdesk:patient_merge", args=[ana.pk]), {"duplicate": duplicate.pk}, follow=True)

    assert response.redirect_chain == [(reverse("frontdesk:patient", args=[ana.pk]), 302)]
    assert "2 appointments moved over" in response.content.decode()
    assert not Patient.objects.filter(pk=duplicate.pk).exists()
    assert set(Appointment.objects.filter(patient=ana)) == {kept_visit, *moving}
    events = AppointmentEvent.objects.filter(kind=AppointmentEvent.Kind.PATIENT_MERGED)
    assert sorted(event.appointment_id for event in events) == sorted(a.pk for a in moving)
    for event in events:
        assert event.actor_user == desk_user
        assert event.actor_role == "front_desk"
        assert event.changes == {"patient": ["Ana Silva", "Ana Silva"]}
        assert event.at == NOW
    ana.refresh_from_db()
    assert ana.date_of_birth == date(1988, 3, 14)  # filled from the duplicate
    assert ana.email == "ana.silva@example.org"  # kept


def test_merge_history_reads_as_a_sentence_in_the_appointment_panel(desk, ana, therapist, service):
    other = PatientFactory(name="Ana S.", email="ana.s@example.com")
    moved = book(other, therapist, service, at(date(2026, 12, 9), 10))

    desk.post(reverse("frontdesk:patient_merge", args=[ana.pk]), {"duplicate": other.pk})

    panel = desk.get(reverse("frontdesk:appointment", args=[moved.pk])).content.decode()
    assert "Patient record merged: Ana S. → Ana Silva" in panel


def test_merge_preview_shows_what_will_move_before_anything_changes(desk, ana, duplicate, therapist, service):
    duplicate.date_of_birth = date(1988, 3, 14)
    duplicate.save()
    book(duplicate, therapist, service, at(date(2026, 12, 9), 10))

    response = desk.get(reverse("frontdesk:patient_merge", args=[ana.pk]), {"duplicate": duplicate.pk})

    html = response.content.decode()
    assert "Wed 9 Dec 2026, 10:00" in html
    assert "1 appointment," in html
    assert "This record has no date of birth" in html
    assert f'name="duplicate" value="{duplicate.pk}"' in html
    assert Patient.objects.filter(pk=duplicate.pk).exists()


def test_merge_search_offers_other_records_never_this_one(desk, ana, duplicate, others):
    suggested = desk.get(reverse("frontdesk:patient_merge", args=[ana.pk]))
    searched = desk.get(
        reverse("frontdesk:patient_merge", args=[ana.pk]), {"q": "416 555 0108"}, headers={"HX-Request": "true"}
    )

    assert suggested.context["candidates"] == [duplicate]
    assert searched.context["candidates"] == [duplicate]
    assert "<html" not in searched.content.decode()


def test_merging_a_record_into_itself_is_refused(desk, ana, therapist, service):
    book(ana, therapist, service, at(date(2026, 12, 8), 10))

    response = desk.post(reverse("frontdesk:patient_merge", args=[ana.pk]), {"duplicate": ana.pk})
    preview = desk.get(reverse("frontdesk:patient_merge", args=[ana.pk]), {"duplicate": ana.pk})

    assert response.status_code == 409
    assert "cannot be merged into itself" in response.content.decode()
    assert preview.status_code == 400
    assert Patient.objects.filter(pk=ana.pk).exists()
    assert Appointment.objects.filter(patient=ana).count() == 1
    assert not AppointmentEvent.objects.exists()


def test_patient_merge_refuses_a_record_into_itself(ana):
    with pytest.raises(BookingError) as refused:
        services.patient_merge(keep=ana, duplicate=ana, now=NOW, actor=Actor.system("tests"))

    assert refused.value.code == "invalid"
    assert Patient.objects.filter(pk=ana.pk).exists()


def test_a_therapist_cannot_merge_records(ana, duplicate, therapist, service):
    therapist.user = UserFactory(username="therapist-login")
    therapist.save()
    book(duplicate, therapist, service, at(date(2026, 12, 9), 10))

    with pytest.raises(BookingError) as refused:
        services.patient_merge(keep=ana, duplicate=duplicate, now=NOW, actor=Actor.staff(therapist.user, Via.SCHEDULE))

    assert refused.value.code == "not_allowed"
    assert Patient.objects.filter(pk=duplicate.pk).exists()
    assert not AppointmentEvent.objects.exists()


def test_merging_a_record_already_merged_says_so(desk, ana, duplicate):
    desk.post(reverse("frontdesk:patient_merge", args=[ana.pk]), {"duplicate": duplicate.pk})

    again = desk.post(reverse("frontdesk:patient_merge", args=[ana.pk]), {"duplicate": duplicate.pk}, follow=True)

    assert "no longer exists" in again.content.decode()
    assert Patient.objects.filter(pk=ana.pk).exists()


def test_merge_stops_and_changes_nothing_if_deleting_would_take_other_records(
    ana, duplicate, therapist, service, monkeypatch
):
    """A future model pointing at patients with CASCADE must not lose its rows silently in a merge."""
    moving = book(duplicate, therapist, service, at(date(2026, 12, 9), 10))
    real_delete = Patient.delete

    def delete_taking_more(self, *args, **kwargs):
        count, deleted = real_delete(self, *args, **kwargs)
        return count + 1, {**deleted, "records.IntakeForm": 1}

    monkeypatch.setattr(Patient, "delete", delete_taking_more)

    with pytest.raises(RuntimeError, match="would also delete"):
        services.patient_merge(keep=ana, duplicate=duplicate, now=NOW, actor=Actor.system("tests"))

    assert Patient.objects.filter(pk=duplicate.pk).exists()
    moving.refresh_from_db()
    assert moving.patient_id == duplicate.pk
    assert not AppointmentEvent.objects.exists()


def test_merge_or_edit_of_a_record_merged_away_meanwhile_is_refused_cleanly(ana, duplicate):
    """Two receptionists on the same pair: the second finds the duplicate gone, and is told so."""
    stale = Patient.objects.get(pk=duplicate.pk)
    services.patient_merge(keep=ana, duplicate=duplicate, now=NOW, actor=Actor.system("tests"))
    details = PatientDetails(name="Ana Silva", email="ana.s@example.com", phone="416-555-0108")

    with pytest.raises(BookingError) as merging:
        services.patient_merge(keep=ana, duplicate=stale, now=NOW, actor=Actor.system("tests"))
    with pytest.raises(BookingError) as editing:
        services.patient_update(patient=stale, details=details, actor=Actor.system("tests"))

    assert (merging.value.code, editing.value.code) == ("invalid", "invalid")
    assert "no longer exists" in merging.value.message
    assert not Patient.objects.filter(pk=duplicate.pk).exists()


# --- changes to the record: who, when, what (clinic/change_log.py) ---------------------------------------


def changes_of(patient) -> list[str]:
    return [entry.get_change_message() for entry in reversed(change_log.history_of(patient))]


def details(ana, **fields) -> dict:
    return {"name": ana.name, "email": ana.email, "phone": "416-555-0108", **fields}


def test_an_edit_at_the_front_desk_is_recorded_with_who_and_what_and_shown_on_the_page(desk, desk_user, ana):
    response = desk.post(
        reverse("frontdesk:patient", args=[ana.pk]),
        details(ana, email="ana.new@example.org", phone="(647) 555-0199", date_of_birth="1990-04-02"),
        follow=True,
    )

    assert response.status_code == 200
    assert changes_of(ana) == [
        "Changed email ana.silva@example.org → ana.new@example.org; phone +14165550108 → +16475550199; "
        "date of birth none → 1990-04-02."
    ]
    entry = LogEntry.objects.get()
    assert (entry.user, entry.object_id, entry.is_change()) == (desk_user, str(ana.pk), True)
    page = response.content.decode().split("Changes to this record")[1]
    assert "Changed email ana.silva@example.org → ana.new@example.org" in page
    assert desk_user.username in page


def test_saving_the_same_details_records_nothing(desk, ana):
    desk.post(reverse("frontdesk:patient", args=[ana.pk]), details(ana, phone="416 555 0108"))

    assert changes_of(ana) == []
    page = desk.get(reverse("frontdesk:patient", args=[ana.pk])).content.decode()
    assert "No changes by staff since the record was opened." in page


def test_a_merge_is_recorded_on_the_kept_record(desk, ana, duplicate, therapist, service):
    duplicate.date_of_birth = date(1988, 3, 14)
    duplicate.save()
    book(duplicate, therapist, service, at(date(2026, 12, 9), 10))

    desk.post(reverse("frontdesk:patient_merge", args=[ana.pk]), {"duplicate": duplicate.pk})

    assert changes_of(ana) == [
        "Merged in a second record of Ana Silva (email ana.s@example.com, phone +14165550108): "
        "1 appointment moved, date of birth filled in."
    ]


def test_changes_without_a_member_of_staff_are_not_in_the_staff_log(ana):
    services.patient_update(
        patient=ana,
        details=PatientDetails(name="Ana Silva", email="ana@example.org", phone="416-555-0108"),
        actor=Actor.system("an import"),
    )

    assert changes_of(ana) == []
