"""Therapists' time off requests at the front desk: listed under "Waiting for approval" with the patients booked
inside them, approved (after confirming those patients, re-checked when approving) or declined with a reason,
and counted in the front desk's menu.

The clock is Monday 7 Dec 2026, 08:00 in Toronto. Alex works weekdays 9–12 and 13–17; Jordan Lee is booked with
Alex on Tuesday at 10:00, and Alex has asked for Tuesday off.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from booking import selectors
from booking.actors import Actor, Via
from booking.models import Appointment
from booking.selectors import SlotSearch
from tests.conftest import NOW, staff_user
from tests.factories import AppointmentFactory, PatientFactory, TimeOffFactory
from therapists import services
from therapists.models import TimeOff

TORONTO = ZoneInfo("America/Toronto")
PAGE = "/frontdesk/time-off/"
TUESDAY, WEDNESDAY = date(2026, 12, 8), date(2026, 12, 9)
# As tests/frontdesk/test_time_off.py: clinic settings, session, user, two for permissions; time off (approved
# and requested together, with therapists), the appointments inside them, the therapist choices. The menu's
# count of requests comes from the list already read; its count of failed messages is one query.
PAGE_QUERIES = 9
# The day sheet, the front desk page with an exact pin: its nine reads and the menu's two counts.
SHEET_QUERIES = 11

Status = TimeOff.Status


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def alex(therapist):
    therapist.user = staff_user("alex", "Therapist")
    therapist.save()
    return therapist.user


@pytest.fixture
def booked(therapist, service):
    return AppointmentFactory(
        therapist=therapist, service=service, start=local(TUESDAY, 10), patient=PatientFactory(name="Jordan Lee")
    )


@pytest.fixture
def request_(therapist, alex, booked, now) -> TimeOff:
    """Alex's request for Tuesday off, made on the schedule; it waits because Jordan is booked then."""
    outcome = services.time_off_request(
        therapist=therapist,
        start=local(TUESDAY, 0),
        end=local(WEDNESDAY, 0),
        reason="Family wedding",
        now=now,
        actor=Actor.staff(alex, Via.SCHEDULE),
    )
    assert outcome.time_off.status == Status.REQUESTED
    assert outcome.stranded == [booked]
    return outcome.time_off


def approve(client, time_off: TimeOff, *confirmed: Appointment, raw: str | None = None):
    value = raw if raw is not None else ",".join(str(a.pk) for a in confirmed)
    return client.post(reverse("frontdesk:time_off_approve", args=[time_off.pk]), {"confirm_stranded": value})


def decline(client, time_off: TimeOff, reason: str | None):
    data = {} if reason is None else {"decline_reason": reason}
    return client.post(reverse("frontdesk:time_off_decline", args=[time_off.pk]), data)


def free_on_tuesday(therapist, option, clinic, now) -> list[datetime]:
    search = SlotSearch(option=option, therapists=[therapist], first_day=TUESDAY, days=1)
    return [slot.start for slot in selectors.free_slots(search, clinic, now)]


def shown_messages(client) -> list[str]:
    return [str(message) for message in client.get(PAGE).context["messages"]]


def test_the_answers_have_their_url_names():
    assert reverse("frontdesk:time_off_approve", args=[3]) == "/frontdesk/time-off/3/approve/"
    assert reverse("frontdesk:time_off_decline", args=[3]) == "/frontdesk/time-off/3/decline/"


# The list


def test_waiting_requests_are_listed_with_the_patients_booked_inside(desk_client, request_, booked):
    response = desk_client.get(PAGE)
    body = response.content.decode()

    assert response.status_code == 200
    [row] = response.context["time_off_waiting"]
    assert row["time_off"] == request_
    assert row["booked"] == [booked]
    assert response.context["rows"] == []  # not time off yet
    assert "Waiting for approval" in body
    assert "Alex Moreau" in body
    assert "Tue 8 Dec 2026, all day" in body
    assert "Family wedding" in body
    assert "Jordan Lee" in body
    assert reverse("frontdesk:appointment", args=[booked.pk]) in body
    assert "Approve; I will move or cancel these" in body
    assert f'name="confirm_stranded" value="{booked.pk}"' in body
    assert "Why not" in body


def test_no_waiting_section_without_requests(desk_client, therapist):
    TimeOffFactory(therapist=therapist, start=local(WEDNESDAY, 9), end=local(WEDNESDAY, 12), status="declined")

    body = desk_client.get(PAGE).content.decode()

    assert "Waiting for approval" not in body


def test_the_page_reads_in_a_fixed_number_of_queries_with_requests(
    desk_client, therapist, second_therapist, service, django_assert_num_queries
):
    with django_assert_num_queries(PAGE_QUERIES - 1):  # nothing listed: no appointments to look for
        desk_client.get(PAGE)
    for day in range(8, 19):
        for who in (therapist, second_therapist):
            status = Status.REQUESTED if day % 2 else Status.APPROVED
            start = local(date(2026, 12, day), 9)
            TimeOffFactory(therapist=who, start=start, end=local(date(2026, 12, day), 12), status=status)
            AppointmentFactory(therapist=who, service=service, start=local(date(2026, 12, day), 10))

    with django_assert_num_queries(PAGE_QUERIES):
        response = desk_client.get(PAGE)

    assert len(response.context["time_off_waiting"]) == 10
    assert len(response.context["rows"]) == 12
    assert all(len(row["booked"]) == 1 for row in response.context["time_off_waiting"])


# The menu


def test_the_menu_counts_requests_waiting_on_every_front_desk_page(desk_client, therapist, second_therapist):
    day_sheet = reverse("frontdesk:day_sheet")
    assert "waiting for approval" not in desk_client.get(day_sheet).content.decode()

    for who in (therapist, second_therapist):
        TimeOffFactory(therapist=who, start=local(WEDNESDAY, 9), end=local(WEDNESDAY, 12), status="requested")
    # Neither counts: one answered, one over.
    TimeOffFactory(therapist=therapist, start=local(TUESDAY, 9), end=local(TUESDAY, 12), status="declined")
    TimeOffFactory(
        therapist=therapist, start=local(date(2026, 12, 4), 9), end=local(date(2026, 12, 4), 12), status="requested"
    )

    for url in (day_sheet, reverse("frontdesk:calendar"), reverse("frontdesk:patients"), PAGE):
        body = desk_client.get(url).content.decode()
        assert '2<span class="visually-hidden"> waiting for approval</span>' in body, url


def test_the_menus_count_costs_one_query_whatever_the_number_of_requests(
    desk_client, therapist, django_assert_num_queries
):
    day_sheet = reverse("frontdesk:day_sheet")
    with django_assert_num_queries(SHEET_QUERIES):
        desk_client.get(day_sheet)
    for day in range(9, 19):
        start = local(date(2026, 12, day), 9)
        TimeOffFactory(therapist=therapist, start=start, end=local(date(2026, 12, day), 12), status="requested")

    with django_assert_num_queries(SHEET_QUERIES):
        body = desk_client.get(day_sheet).content.decode()

    assert '10<span class="visually-hidden"> waiting for approval</span>' in body


# Approving


def test_approving_blocks_the_time_and_keeps_the_appointment(
    desk_client, receptionist, request_, booked, therapist, option, clinic, now
):
    assert local(TUESDAY, 14) in free_on_tuesday(therapist, option, clinic, now)

    response = approve(desk_client, request_, booked)

    assert response.status_code == 302
    request_.refresh_from_db()
    assert (request_.status, request_.decided_by, request_.decided_at) == (Status.APPROVED, receptionist, now)
    assert free_on_tuesday(therapist, option, clinic, now) == []
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED
    page = desk_client.get(PAGE)
    [message] = [str(m) for m in page.context["messages"]]
    assert message.startswith("Approved Alex Moreau's time off (Tue 8 Dec 2026, all day): those times are blocked")
    assert page.context["time_off_waiting"] == []
    assert [row["time_off"] for row in page.context["rows"]] == [request_]
    assert [a.pk for a in page.context["rows"][0]["booked"]] == [booked.pk]


def test_a_booking_made_meanwhile_is_listed_again_before_approving(desk_client, request_, booked, therapist, service):
    newer = AppointmentFactory(
        therapist=therapist, service=service, start=local(TUESDAY, 14), patient=PatientFactory(name="Robin Roe")
    )

    response = approve(desk_client, request_, booked)
    body = response.content.decode()

    assert response.status_code == 409
    request_.refresh_from_db()
    assert request_.status == Status.REQUESTED
    assert "Not approved yet: 2 booked appointments are inside Alex Moreau&#x27;s time off" in body
    assert "Robin Roe" in body
    assert reverse("frontdesk:appointment", args=[newer.pk]) in body
    assert f'name="confirm_stranded" value="{booked.pk},{newer.pk}"' in body
    assert f'id="request-{request_.pk}"' in body

    assert approve(desk_client, request_, booked, newer).status_code == 302
    request_.refresh_from_db()
    assert request_.status == Status.APPROVED


@pytest.mark.parametrize("raw", ["", "x,<script>", ",".join(["1"] * 501)])
def test_approving_without_confirming_the_patients_changes_nothing(desk_client, request_, raw):
    response = approve(desk_client, request_, raw=raw)

    assert response.status_code == 409
    request_.refresh_from_db()
    assert request_.status == Status.REQUESTED


def test_a_request_with_nobody_booked_any_more_is_approved_with_one_click(desk_client, request_, booked):
    booked.status = Appointment.Status.CANCELLED
    booked.save()

    body = desk_client.get(PAGE).content.decode()
    assert "Nothing is booked inside it any more." in body
    assert ">Approve<" in body

    assert approve(desk_client, request_).status_code == 302
    request_.refresh_from_db()
    assert request_.status == Status.APPROVED


def test_an_answered_or_withdrawn_request_cannot_be_answered_again(desk_client, request_, booked, now):
    services.time_off_decline(time_off=request_, reason="Busy week", now=now, actor=Actor.system("tests"))

    for response in (approve(desk_client, request_, booked), decline(desk_client, request_, "Again")):
        assert response.status_code == 409
        assert "That request has already been approved or declined." in response.content.decode()
    request_.refresh_from_db()
    assert (request_.status, request_.decision_note) == (Status.DECLINED, "Busy week")

    TimeOff.objects.filter(pk=request_.pk).delete()
    assert approve(desk_client, request_, booked).status_code == 404


def test_approving_a_request_that_overlaps_approved_time_off_is_refused(desk_client, request_, booked, therapist):
    # Made in the admin meanwhile: the admin does not look at requests.
    TimeOffFactory(therapist=therapist, start=local(TUESDAY, 13), end=local(TUESDAY, 17))

    response = approve(desk_client, request_, booked)

    assert response.status_code == 409
    assert "overlaps time off already recorded" in response.content.decode()
    request_.refresh_from_db()
    assert request_.status == Status.REQUESTED


def test_of_two_overlapping_requests_the_first_approved_wins(desk_client, request_, booked, therapist):
    # Overlapping requests are refused when asked for; changed in the admin, they can still meet.
    other = TimeOffFactory(
        therapist=therapist, start=local(TUESDAY, 9), end=local(TUESDAY, 12), status=Status.REQUESTED
    )

    assert approve(desk_client, other, booked).status_code == 302
    response = approve(desk_client, request_, booked)

    assert response.status_code == 409
    assert "overlaps time off already recorded" in response.content.decode()
    assert list(TimeOff.objects.order_by("pk").values_list("status", flat=True)) == [Status.REQUESTED, Status.APPROVED]


def test_answers_are_post_only_and_for_the_front_desk(client, desk_client, request_, booked, alex):
    approve_url = reverse("frontdesk:time_off_approve", args=[request_.pk])
    decline_url = reverse("frontdesk:time_off_decline", args=[request_.pk])
    assert desk_client.get(approve_url).status_code == 405
    assert desk_client.get(decline_url).status_code == 405

    client.force_login(alex)
    assert approve(client, request_, booked).status_code == 403
    assert decline(client, request_, "No").status_code == 403
    request_.refresh_from_db()
    assert request_.status == Status.REQUESTED


# Declining


def test_declining_keeps_the_request_as_declined_and_blocks_nothing(
    client, desk_client, receptionist, request_, alex, therapist, option, clinic, now
):
    free_before = free_on_tuesday(therapist, option, clinic, now)

    response = decline(desk_client, request_, "  Two colleagues are   away that day. ")

    assert response.status_code == 302
    request_.refresh_from_db()
    assert (request_.status, request_.decided_by, request_.decided_at) == (Status.DECLINED, receptionist, now)
    assert request_.decision_note == "Two colleagues are away that day."
    assert free_on_tuesday(therapist, option, clinic, now) == free_before
    assert "They will see your reason on their schedule." in shown_messages(desk_client)[0]
    assert "Waiting for approval" not in desk_client.get(PAGE).content.decode()

    client.force_login(alex)
    body = client.get("/schedule/time-off/").content.decode()
    assert ">Declined<" in body
    assert "Two colleagues are away that day." in body


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        (None, "Say in a few words why, so the therapist knows."),
        ("   ", "Say in a few words why, so the therapist knows."),
        ("x" * 201, "Keep it under 200 characters."),
    ],
)
def test_declining_needs_a_short_reason(desk_client, request_, reason, message):
    response = decline(desk_client, request_, reason)
    body = response.content.decode()

    assert response.status_code == 400
    assert message in body
    assert f'id="request-{request_.pk}"' in body
    assert "is-invalid" in body
    request_.refresh_from_db()
    assert request_.status == Status.REQUESTED


def test_the_decline_service_needs_a_reason_too(request_, now):
    with pytest.raises(services.TimeOffError) as refused:
        services.time_off_decline(time_off=request_, reason=" ", now=now, actor=Actor.system("tests"))

    assert refused.value.code == "no_reason"


# Beside requests


def test_adding_time_off_over_a_waiting_request_is_refused(desk_client, request_, therapist):
    response = desk_client.post(
        PAGE, {"therapist": therapist.pk, "start_date": TUESDAY.isoformat(), "start_time": "13:00", "end_time": "14:00"}
    )

    assert response.status_code == 409
    assert "overlaps a time off request still waiting for approval" in response.content.decode()
    assert TimeOff.objects.count() == 1


def test_a_request_is_not_removed_as_if_it_were_time_off(desk_client, request_):
    response = desk_client.post(reverse("frontdesk:time_off_remove", args=[request_.pk]), follow=True)

    assert TimeOff.objects.filter(pk=request_.pk, status=Status.REQUESTED).exists()
    assert any("approve or decline the request instead" in str(m) for m in response.context["messages"])


def test_time_off_added_at_the_front_desk_records_who_added_it(desk_client, receptionist, therapist, now):
    desk_client.post(PAGE, {"therapist": therapist.pk, "start_date": WEDNESDAY.isoformat()})

    time_off = TimeOff.objects.get()
    assert (time_off.status, time_off.requested_by, time_off.decided_by, time_off.decided_at) == (
        Status.APPROVED,
        receptionist,
        receptionist,
        now,
    )
