"""The clinic under load: patients browsing, searching free times and booking, and receptionists on the calendar.

Run by `make loadtest` (loadtest/run.py) against the production server with the demo clinic grown to 8 therapists
and 600 appointments; it can also be pointed at any running copy: `locust -f loadtest/locustfile.py --host URL`.

Each request is named by its kind ("page: service", "api: availability", "book: confirm", ...), which is how the
report groups the latencies. A server error (5xx) is always a failure. A booking that loses the race for its time
(another patient took it first: 409, "that time was just taken") is a normal outcome, counted apart as
"outcome: time just taken" next to "outcome: booked".

Every simulated visitor sends its own made-up address in X-Forwarded-For, as a proxy would, and each booking comes
from a new visitor with a new email and phone: the server's rate limits stay on (run.py sets
DJANGO_TRUSTED_PROXY_HEADER) and count each simulated patient on their own, as they would real ones.
"""

from __future__ import annotations

import random
import re
import time
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from locust import FastHttpUser, between, events, task

CLINIC_TZ = ZoneInfo("America/Toronto")
SERVICES = {"myofascial-release": (30, 45, 60, 90), "trigger-point-therapy": (30, 45, 60)}
STAFF_PASSWORD = "demo-pass-2026"  # noqa: S105 - the demo clinic's published password
THERAPIST_LINK = re.compile(r'href="/therapists/([\w-]+)/"')
MANAGE_LINK = re.compile(r"/appointments/[\w-]{22,}/")
# Canadian area codes: with the fictional 555-01XX numbers, thousands of phones, so no simulated phone number comes
# near the per-phone booking limit.
AREA_CODES = (
    *(204, 226, 236, 249, 250, 289, 306, 343, 365, 403, 416, 418, 431, 437, 438, 450, 506, 514, 519, 548),
    *(579, 581, 587, 604, 613, 639, 647, 705, 709, 778, 780, 782, 807, 819, 825, 867, 873, 902, 905),
)


def clinic_today() -> date:
    return datetime.now(CLINIC_TZ).date()


def random_address() -> str:
    """A made-up (private) address, one per simulated visitor."""
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


class FormFields(HTMLParser):
    """The fields of the page's POST forms, as a browser would send them (text, hidden, checked boxes)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_post_form = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._in_post_form = attributes.get("method", "").lower() == "post"
        elif not self._in_post_form or "name" not in attributes:
            return
        elif tag == "input":
            kind = attributes.get("type", "text")
            if kind in ("submit", "button") or (kind in ("checkbox", "radio") and "checked" not in attributes):
                return
            self.fields.setdefault(attributes["name"], attributes.get("value", ""))
        elif tag == "textarea":
            self._textarea = attributes["name"]
            self.fields[self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_post_form = False
        elif tag == "textarea":
            self._textarea = None


def form_fields(html: str) -> dict[str, str]:
    parser = FormFields()
    parser.feed(html)
    return parser.fields


class Visitor(FastHttpUser):
    abstract = True
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.address = random_address()

    def get(self, url: str, name: str, **kwargs):
        return self.call("GET", url, name, **kwargs)

    def call(self, method: str, url: str, name: str, *, expect: tuple[int, ...] = (200,), **kwargs):
        """One request, named by its kind; anything but the expected statuses is a failure."""
        headers = {"X-Forwarded-For": self.address, **kwargs.pop("headers", {})}
        with self.client.request(method, url, name=name, headers=headers, catch_response=True, **kwargs) as response:
            if response.status_code >= 500:
                response.failure(f"server error {response.status_code}")
            elif response.status_code not in expect:
                response.failure(f"unexpected {response.status_code}")
            else:
                response.success()
            return response

    def outcome(self, name: str, started: float) -> None:
        """A booking's result, counted in the report beside the requests (never a failure)."""
        self.environment.events.request.fire(
            request_type="OUTCOME",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=None,
            context={},
        )

    def free_times(self, service: str, duration: int, day: date, days: int = 3) -> list[dict]:
        query = urlencode({"service": service, "duration": duration, "therapist": "any", "date": day, "days": days})
        response = self.get(f"/api/availability/?{query}", "api: availability")
        if response.status_code != 200:
            return []
        return response.json()["slots"]


class BrowsingPatient(Visitor):
    """Reads about the clinic: the home page, the services, one service, the therapists and one of them."""

    weight = 4

    @task
    def browse(self) -> None:
        self.get("/", "page: home")
        self.get("/services/", "page: services")
        self.get(f"/services/{random.choice(list(SERVICES))}/", "page: service")
        therapists = self.get("/therapists/", "page: therapists")
        slugs = THERAPIST_LINK.findall(therapists.text or "")
        if slugs:
            self.get(f"/therapists/{random.choice(slugs)}/", "page: therapist")
        if random.random() < 0.3:
            self.get("/conditions/sciatica/", "page: sciatica")


class SearchingPatient(Visitor):
    """Looks for a free time: the availability API, and the booking flow's day-and-time step."""

    weight = 3

    @task
    def search(self) -> None:
        service = random.choice(list(SERVICES))
        duration = random.choice(SERVICES[service])
        day = clinic_today() + timedelta(days=random.randint(0, 20))
        self.free_times(service, duration, day, days=random.choice((1, 3, 7)))
        query = urlencode({"service": service, "duration": duration, "therapist": "any", "date": day})
        self.get(f"/book/?{query}", "book: time step")


class BookingPatient(Visitor):
    """Books from start to end: the flow's steps, a free time taken from the API, details, review and confirm.

    Each booking is a new patient (name, email, phone) from a new address, as real patients are. Losing the time to
    another patient between the search and the confirm (409) is the normal answer to a race, not an error.
    """

    weight = 2

    @task
    def book(self) -> None:
        started = time.perf_counter()
        self.address = random_address()
        service = random.choice(list(SERVICES))
        duration = random.choice(SERVICES[service])
        self.get("/book/", "book: service step")
        self.get(f"/book/?service={service}", "book: length step")
        self.get(f"/book/?service={service}&duration={duration}", "book: therapist step")
        day = clinic_today() + timedelta(days=random.randint(1, 14))
        self.get(f"/book/?service={service}&duration={duration}&therapist=any&date={day}", "book: time step")
        slots = self.free_times(service, duration, day)
        if not slots:
            self.outcome("outcome: no free time found", started)
            return
        slot = random.choice(slots[:40])
        therapist = random.choice((slot["therapist"], "any"))
        query = urlencode({"service": service, "duration": duration, "therapist": therapist, "start": slot["start"]})
        details = self.get(f"/book/?{query}", "book: details step")
        fields = form_fields(details.text or "")
        if "request_key" not in fields:  # the time went while we looked: the page offers the day's other times
            self.outcome("outcome: time just taken", started)
            return
        number = random.randint(0, 10**9)
        fields.update(
            name=f"Load Test {number}",
            email=f"patient{number}@loadtest.example.com",
            phone=f"{random.choice(AREA_CODES)}-555-01{random.randint(0, 99):02d}",
            note="Lower back pain, left leg.",
            intent="review",
        )
        headers = {"Referer": f"{self.host}/book/"}
        review = self.call("POST", "/book/", "book: review", data=fields, headers=headers)
        fields = form_fields(review.text or "")
        fields["intent"] = "confirm"
        confirm = self.call(
            "POST", "/book/", "book: confirm", data=fields, headers=headers, expect=(302, 409), allow_redirects=False
        )
        location = confirm.headers.get("Location", "") if confirm.status_code == 302 else ""
        if confirm.status_code == 409:
            self.outcome("outcome: time just taken", started)
        elif MANAGE_LINK.search(location):
            self.get(location, "book: your appointment")
            self.outcome("outcome: booked", started)
        else:
            self.outcome("outcome: booking not confirmed", started)


class Receptionist(Visitor):
    """Runs the front desk: logs in once, then loads the calendar and its events for a day and a week."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        super().on_start()
        login = self.get("/accounts/login/", "staff: login page")
        fields = form_fields(login.text or "")
        fields.update(username="reception", password=STAFF_PASSWORD)
        self.call(
            "POST",
            "/accounts/login/",
            "staff: log in",
            data=fields,
            headers={"Referer": f"{self.host}/accounts/login/"},
            expect=(302,),
            allow_redirects=False,
        )

    @task
    def calendar(self) -> None:
        day = clinic_today() + timedelta(days=random.randint(-3, 14))
        day_range = f"start={day}&end={day + timedelta(days=1)}"
        self.get(f"/frontdesk/?date={day}", "frontdesk: calendar")
        self.get(f"/frontdesk/resources/?{day_range}", "frontdesk: resources")
        self.get(f"/frontdesk/events/?{day_range}", "frontdesk: events (day)")
        monday = day - timedelta(days=day.weekday())
        self.get(f"/frontdesk/events/?start={monday}&end={monday + timedelta(days=7)}", "frontdesk: events (week)")


@events.quitting.add_listener
def _no_failures_allowed(environment, **kwargs) -> None:
    """Locust's exit status: not zero when any request failed (the runner's report says which)."""
    if environment.stats.total.num_failures:
        environment.process_exit_code = 1
