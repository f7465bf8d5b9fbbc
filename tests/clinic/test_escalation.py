"""The escalation table: each role tries what it must not do, in the admin and at the front desk, and each try is
refused with nothing changed in the database.

Roles: anonymous, a therapist, a receptionist, a manager, and a superuser as the control. Each row of `ATTEMPTS` is a
request an attacker in that role would send (crafted POSTs included): making oneself superuser, granting oneself
permissions or groups, setting another user's or a superuser's password, opening or editing a superuser's account,
changing clinic settings without the role, opening the staff accounts page, giving oneself or a colleague a second
role... A row marked `control` is sent by the superuser too and must then change the database: the request is well
formed, so the refusal is the guard's doing and not a typo's.

Then a sweep of every admin page of every model in `admin.site._registry` (so a model registered later is covered):
whatever the role lacks the permission for is refused, GET and POST; and the user and group admin stay closed to
anyone but a superuser even when a role's group is given every permission on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Model
from django.test import Client
from django.urls import NoReverseMatch, reverse

from clinic.models import ClinicSettings
from notifications.models import OutboundMessage
from tests.conftest import staff_user
from tests.factories import AppointmentFactory, TimeOffFactory

User = get_user_model()

ANONYMOUS, THERAPIST, RECEPTIONIST, MANAGER, SUPERUSER = (
    "anonymous",
    "therapist",
    "receptionist",
    "manager",
    "superuser",
)
NOT_SUPERUSER = (ANONYMOUS, THERAPIST, RECEPTIONIST, MANAGER)
NOT_FRONT_DESK = (ANONYMOUS, THERAPIST)
NOT_MANAGER = (ANONYMOUS, THERAPIST, RECEPTIONIST)
NEW_PASSWORD = "taken-over-by-mallory-1"

# The clinic: a login per role, a colleague (tom) whose account others try to take over, and a superuser (root).


@dataclass
class People:
    therapist: Any
    receptionist: Any
    manager: Any
    superuser: Any
    colleague: Any
    raw_permission: Any
    therapist_record: Any
    clients: dict[str, Client] = field(default_factory=dict)

    def login(self, role: str) -> Any:
        return None if role == ANONYMOUS else getattr(self, role)


@pytest.fixture
def people(db, therapist, service) -> People:
    alex = staff_user("alex", "Therapist")
    therapist.user = alex
    therapist.save()
    # Rows for every admin page that takes an object.
    start = datetime(2026, 12, 8, 10, tzinfo=ZoneInfo("America/Toronto"))
    AppointmentFactory(therapist=therapist, service=service, start=start)
    TimeOffFactory(therapist=therapist, start=start + timedelta(days=7), end=start + timedelta(days=8))
    ClinicSettings.load()
    granted = staff_user("granted", "Receptionist")
    granted.user_permissions.add(Permission.objects.get(codename="add_user"))
    people = People(
        therapist=alex,
        receptionist=staff_user("rosa", "Receptionist"),
        manager=staff_user("maria", "Manager"),
        superuser=User.objects.create_superuser("root", "root@example.com", "a-long-test-password"),
        colleague=staff_user("tom", "Receptionist"),
        raw_permission=granted,
        therapist_record=therapist,
    )
    User.objects.update(first_name="Sam")  # the staff form asks for one
    for user in (people.therapist, people.receptionist, people.manager, people.superuser, people.colleague, granted):
        user.refresh_from_db()
    return people


def client_for(people: People, role: str) -> Client:
    """One logged-in client per role and test: logging in writes (the last login, the login log), so each role
    logs in once, before anything is compared."""
    if role not in people.clients:
        client = Client()
        user = people.login(role)
        if user is not None:
            client.force_login(user)
        people.clients[role] = client
    return people.clients[role]


def snapshot() -> dict:
    """What an escalation would change: accounts, roles, permissions, every admin-registered model's rows, the
    outbox."""
    through = {
        "user groups": User.groups.through,
        "user permissions": User.user_permissions.through,
        "group permissions": Group.permissions.through,
    }
    state: dict[str, Any] = {
        "users": list(
            User.objects.order_by("pk").values_list(
                "pk", "username", "email", "password", "is_superuser", "is_staff", "is_active", "first_name"
            )
        ),
        "outbox": list(OutboundMessage.objects.values_list("pk", "recipient")),
    }
    for name, model in through.items():
        state[name] = sorted(model.objects.values_list(*[f.attname for f in model._meta.concrete_fields][1:]))
    for model in admin.site._registry:
        state[model._meta.label] = list(model._default_manager.order_by("pk").values())
    return state


# Submitting a page's form as a browser would: every field with the value it shows.


class FormFields(HTMLParser):
    def __init__(self, form_id: str | None) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = form_id is None
        self.fields: dict[str, list[str]] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def add(self, name: str | None, value: str | None) -> None:
        if name:
            self.fields.setdefault(name, []).append(value or "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "form" and self.form_id is not None and attr.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "input":
            kind = (attr.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attr:
                return
            self.add(attr.get("name"), attr.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select":
            self.select = attr.get("name")
        elif tag == "option" and self.select and "selected" in attr:
            self.add(self.select, attr.get("value"))
        elif tag == "textarea":
            self.textarea = attr.get("name")
            self.fields.setdefault(self.textarea or "", [])

    def handle_data(self, data: str) -> None:
        if self.textarea:
            values = self.fields[self.textarea]
            values.append(("" if not values else values.pop()) + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.inside and self.form_id is not None:
            self.inside = False


def form_data(client: Client, url: str, form_id: str | None = None) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parser = FormFields(form_id)
    parser.feed(response.content.decode())
    return {name: values if len(values) > 1 else values[0] for name, values in parser.fields.items()}


def as_superuser(people: People) -> Client:
    return client_for(people, SUPERUSER)


def admin_url(obj_or_model: Any, view: str, *args: Any) -> str:
    opts = obj_or_model._meta
    if isinstance(obj_or_model, Model):
        args = (obj_or_model.pk, *args)
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


# The attempts


def own_or_colleague(people: People, me: Any) -> Any:
    """ "Oneself" for an attacker; for the superuser's control run (already all-powerful), a colleague."""
    return people.colleague if me is None or me.is_superuser else me


def admin_make_superuser(client: Client, people: People, me: Any):
    target = own_or_colleague(people, me)
    data = form_data(as_superuser(people), admin_url(target, "change"), "user_form")
    data.update(is_superuser="on", is_staff="on")
    return client.post(admin_url(target, "change"), data)


def admin_grant_every_permission(client: Client, people: People, me: Any):
    target = own_or_colleague(people, me)
    data = form_data(as_superuser(people), admin_url(target, "change"), "user_form")
    data["user_permissions"] = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]
    return client.post(admin_url(target, "change"), data)


def admin_join_manager_group(client: Client, people: People, me: Any):
    target = own_or_colleague(people, me)
    data = form_data(as_superuser(people), admin_url(target, "change"), "user_form")
    data["groups"] = [str(pk) for pk in Group.objects.values_list("pk", flat=True)]
    return client.post(admin_url(target, "change"), data)


def admin_add_superuser(client: Client, people: People, me: Any):
    data = form_data(as_superuser(people), admin_url(User, "add"), "user_form")
    data.update(username="mallory", password1=NEW_PASSWORD, password2=NEW_PASSWORD, usable_password="true")
    data.update(is_superuser="on", is_staff="on")
    return client.post(admin_url(User, "add"), data)


def admin_set_password(whose: str) -> Callable:
    def attempt(client: Client, people: People, me: Any):
        target = getattr(people, whose)
        url = admin_url(target, "password_change")
        data = form_data(as_superuser(people), url, "user_form")
        data.update(password1=NEW_PASSWORD, password2=NEW_PASSWORD)
        return client.post(url, data)

    return attempt


def admin_open_superuser(client: Client, people: People, me: Any):
    return client.get(admin_url(people.superuser, "change"))


def admin_edit_superuser(client: Client, people: People, me: Any):
    data = form_data(as_superuser(people), admin_url(people.superuser, "change"), "user_form")
    data["email"] = "mallory@example.com"
    return client.post(admin_url(people.superuser, "change"), data)


def admin_delete_superuser(client: Client, people: People, me: Any):
    return client.post(admin_url(people.superuser, "delete"), {"post": "yes"})


def admin_bulk_delete_users(client: Client, people: People, me: Any):
    return client.post(
        admin_url(User, "changelist"),
        {"action": "delete_selected", "_selected_action": [people.colleague.pk], "post": "yes"},
    )


def admin_grant_group_everything(client: Client, people: People, me: Any):
    group = Group.objects.get(name="Manager")
    data = form_data(as_superuser(people), admin_url(group, "change"), "group_form")
    data["permissions"] = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]
    return client.post(admin_url(group, "change"), data)


def admin_new_group_with_everything(client: Client, people: People, me: Any):
    data = {"name": "Root", "permissions": [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]}
    return client.post(admin_url(Group, "add"), data)


def admin_edit_clinic_settings(client: Client, people: People, me: Any):
    settings_row = ClinicSettings.load()
    data = form_data(as_superuser(people), admin_url(settings_row, "change"), "clinicsettings_form")
    data["name"] = "Mallory's Clinic"
    return client.post(admin_url(settings_row, "change"), data)


def admin_open_clinic_settings(client: Client, people: People, me: Any):
    return client.get(admin_url(ClinicSettings.load(), "change"))


def admin_link_therapist_to_superuser(client: Client, people: People, me: Any):
    record = people.therapist_record
    data = form_data(as_superuser(people), admin_url(record, "change"), "therapist_form")
    data["user"] = str(people.superuser.pk)
    return client.post(admin_url(record, "change"), data)


def staff_fields(account: Any, **changes: Any) -> dict[str, Any]:
    """The staff form as the page shows it for `account`, with `changes`."""
    from clinic.staff_accounts import role_of_account

    role = role_of_account(account)
    therapist = getattr(account, "therapist", None)
    data = {
        "username": account.username,
        "first_name": account.first_name,
        "last_name": account.last_name,
        "email": account.email,
        "role": role.value if role else "Receptionist",
        "therapist": therapist.pk if therapist else "",
        "is_active": "on",
    }
    return {**data, **changes}


def staff_open_page(client: Client, people: People, me: Any):
    return client.get(reverse("frontdesk:staff"))


def staff_add_manager(client: Client, people: People, me: Any):
    data = {"username": "mallory", "first_name": "M", "email": "m@example.com", "role": "Manager", "is_active": "on"}
    return client.post(reverse("frontdesk:staff_add"), data)


def staff_promote_oneself(client: Client, people: People, me: Any):
    target = own_or_colleague(people, me)
    return client.post(reverse("frontdesk:staff_edit", args=[target.pk]), staff_fields(target, role="Manager"))


def staff_second_role_for_oneself(client: Client, people: People, me: Any):
    target = own_or_colleague(people, me)
    data = staff_fields(target, role=["Manager", "Receptionist", "Therapist"])
    return client.post(reverse("frontdesk:staff_edit", args=[target.pk]), data)


def staff_two_roles_for_a_colleague(client: Client, people: People, me: Any):
    data = staff_fields(people.colleague, role=["Receptionist", "Manager"])
    return client.post(reverse("frontdesk:staff_edit", args=[people.colleague.pk]), data)


def staff_deactivate_oneself(client: Client, people: People, me: Any):
    target = own_or_colleague(people, me)
    return client.post(reverse("frontdesk:staff_edit", args=[target.pk]), staff_fields(target, is_active=""))


def staff_open_superuser(client: Client, people: People, me: Any):
    return client.get(reverse("frontdesk:staff_edit", args=[people.superuser.pk]))


def staff_edit_superuser(client: Client, people: People, me: Any):
    data = staff_fields(people.superuser, email="mallory@example.com", role="Manager")
    return client.post(reverse("frontdesk:staff_edit", args=[people.superuser.pk]), data)


def staff_link_for(whose: str) -> Callable:
    def attempt(client: Client, people: People, me: Any):
        return client.post(reverse("frontdesk:staff_password_link", args=[getattr(people, whose).pk]))

    return attempt


def staff_unlock_superuser(client: Client, people: People, me: Any):
    return client.post(reverse("frontdesk:staff_unlock", args=[people.superuser.pk]))


def staff_edit_privileged_login(client: Client, people: People, me: Any):
    data = staff_fields(people.raw_permission, email="mallory@example.com")
    return client.post(reverse("frontdesk:staff_edit", args=[people.raw_permission.pk]), data)


def staff_crafted_privileges_for_a_colleague(client: Client, people: People, me: Any):
    everything = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]
    data = staff_fields(
        people.colleague,
        is_superuser="on",
        is_staff="on",
        user_permissions=everything,
        groups=[str(pk) for pk in Group.objects.values_list("pk", flat=True)],
        password=NEW_PASSWORD,
        password1=NEW_PASSWORD,
        password2=NEW_PASSWORD,
        new_password1=NEW_PASSWORD,
        new_password2=NEW_PASSWORD,
    )
    return client.post(reverse("frontdesk:staff_edit", args=[people.colleague.pk]), data)


@dataclass(frozen=True)
class Attempt:
    name: str
    send: Callable[[Client, People, Any], Any]
    refused_for: tuple[str, ...]
    # The superuser sending it changes the database: the request itself works.
    control: bool = True
    # Accepted with the dangerous part ignored (a field the form does not have): refused just the same.
    ignored_for: tuple[str, ...] = ()


ATTEMPTS = [
    Attempt("admin: make oneself superuser", admin_make_superuser, NOT_SUPERUSER),
    Attempt("admin: grant oneself every permission", admin_grant_every_permission, NOT_SUPERUSER),
    Attempt("admin: join every group", admin_join_manager_group, NOT_SUPERUSER),
    Attempt("admin: add a superuser", admin_add_superuser, NOT_SUPERUSER),
    Attempt("admin: set a superuser's password", admin_set_password("superuser"), NOT_SUPERUSER),
    Attempt("admin: set a colleague's password", admin_set_password("colleague"), NOT_SUPERUSER),
    Attempt("admin: open a superuser's account", admin_open_superuser, NOT_SUPERUSER, control=False),
    Attempt("admin: edit a superuser's account", admin_edit_superuser, NOT_SUPERUSER),
    Attempt("admin: delete a superuser", admin_delete_superuser, NOT_SUPERUSER),
    Attempt("admin: delete users from the list", admin_bulk_delete_users, NOT_SUPERUSER),
    Attempt("admin: give the Manager group every permission", admin_grant_group_everything, NOT_SUPERUSER),
    Attempt("admin: add a group with every permission", admin_new_group_with_everything, NOT_SUPERUSER),
    Attempt("admin: open clinic settings", admin_open_clinic_settings, NOT_MANAGER, control=False),
    Attempt("admin: edit clinic settings", admin_edit_clinic_settings, NOT_MANAGER),
    Attempt(
        "admin: point a therapist record at a superuser's login",
        admin_link_therapist_to_superuser,
        NOT_SUPERUSER,
        ignored_for=(MANAGER,),
    ),
    Attempt("staff page: open it", staff_open_page, NOT_MANAGER, control=False),
    Attempt("staff page: add a manager", staff_add_manager, NOT_MANAGER),
    Attempt("staff page: make oneself manager", staff_promote_oneself, NOT_MANAGER),
    Attempt("staff page: give oneself a second role", staff_second_role_for_oneself, NOT_SUPERUSER, control=False),
    Attempt("staff page: give a colleague two roles", staff_two_roles_for_a_colleague, NOT_SUPERUSER, control=False),
    Attempt("staff page: deactivate oneself", staff_deactivate_oneself, NOT_MANAGER + (MANAGER,)),
    Attempt("staff page: open a superuser's account", staff_open_superuser, NOT_SUPERUSER, control=False),
    Attempt("staff page: edit a superuser's account", staff_edit_superuser, NOT_SUPERUSER, control=False),
    Attempt("staff page: send a superuser a password link", staff_link_for("superuser"), NOT_SUPERUSER, control=False),
    Attempt("staff page: unlock a superuser", staff_unlock_superuser, NOT_SUPERUSER, control=False),
    Attempt("staff page: send a colleague a password link", staff_link_for("colleague"), NOT_MANAGER),
    Attempt(
        "staff page: edit a login holding a raw permission",
        staff_edit_privileged_login,
        NOT_SUPERUSER,
        control=False,
    ),
    Attempt(
        "staff page: superuser flag, permissions, groups and password for a colleague",
        staff_crafted_privileges_for_a_colleague,
        NOT_SUPERUSER,
        control=False,
        ignored_for=(MANAGER,),
    ),
]

LOGIN_PAGES = ("/admin/login/", "/accounts/login/")


def refused(response: Any, role: str, attempt: Attempt) -> bool:
    status = response.status_code
    if status in (400, 403, 404, 405):
        return True
    location = response.get("Location", "") if status == 302 else ""
    if role == ANONYMOUS:
        return location.startswith(LOGIN_PAGES)
    return role in attempt.ignored_for and status in (200, 302)


ROWS = [
    pytest.param(attempt, role, id=f"{role}: {attempt.name}") for attempt in ATTEMPTS for role in attempt.refused_for
]


@pytest.mark.django_db
@pytest.mark.parametrize(("attempt", "role"), ROWS)
def test_the_role_is_refused_and_nothing_changes(people, attempt, role):
    client = client_for(people, role)
    as_superuser(people)  # reads the forms as a browser would see them
    before = snapshot()

    response = attempt.send(client, people, people.login(role))

    assert refused(response, role, attempt), (response.status_code, response.get("Location"))
    assert response.status_code != 500
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("attempt", [a for a in ATTEMPTS if a.control], ids=lambda a: a.name)
def test_the_superuser_sending_the_same_request_changes_the_database(people, attempt):
    client = client_for(people, SUPERUSER)
    before = snapshot()

    response = attempt.send(client, people, people.superuser)

    assert response.status_code in (200, 302), response.status_code
    assert snapshot() != before, "the request changes nothing even for a superuser: it proves no refusal"


def test_every_role_and_every_refusal_is_in_the_table():
    roles = {role for attempt in ATTEMPTS for role in attempt.refused_for}
    assert roles == set(NOT_SUPERUSER)
    assert len(ROWS) >= 90


# The sweep: every admin page of every registered model


def admin_pages(model: type[Model]) -> list[tuple[str, str, str | None]]:
    """(view, url, the permission it needs) for each admin page of `model`; object pages on its first row."""
    opts = model._meta
    codename = {
        action: f"{opts.app_label}.{action}_{opts.model_name}" for action in ("view", "add", "change", "delete")
    }
    pages = [("changelist", admin_url(model, "changelist"), None), ("add", admin_url(model, "add"), codename["add"])]
    obj = model._default_manager.order_by("pk").first()
    if obj is not None:
        pages += [
            ("change", admin_url(obj, "change"), None),
            ("history", admin_url(obj, "history"), None),
            ("delete", admin_url(obj, "delete"), codename["delete"]),
        ]
        if model is User:
            pages.append(("password", admin_url(obj, "password_change"), codename["change"]))
    return pages


def allowed(user: Any, model: type[Model], view: str, needs: str | None) -> bool:
    """Whether the admin may let `user` through: the permission a page needs (viewing: view or change), and for
    logins, groups and permissions, only a superuser."""
    from clinic import policy

    if user is None:
        return False
    if model._meta.app_label == "auth" and not policy.may_manage_permissions(user):
        return False
    opts = model._meta
    if needs is None:
        return any(user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}") for action in ("view", "change"))
    return user.has_perm(needs)


def post_for(view: str, model: type[Model], people: People) -> dict[str, Any]:
    if view == "delete":
        return {"post": "yes"}
    if view == "changelist":
        obj = model._default_manager.order_by("pk").first()
        return {"action": "delete_selected", "_selected_action": [obj.pk] if obj else [], "post": "yes"}
    return {}


def sweep(people: People, role: str, models: list[type[Model]]) -> int:
    client = client_for(people, role)
    user = people.login(role)
    checked = 0
    for model in models:
        for view, url, needs in admin_pages(model):
            if allowed(user, model, view, needs):
                assert client.get(url).status_code in (200, 302, 403), url  # open, and never a 500
                continue
            before = snapshot()
            for method in (client.get, client.post):
                data = post_for(view, model, people) if method == client.post else None
                response = method(url, data) if data is not None else method(url)
                if role == ANONYMOUS:
                    assert response.status_code == 302, (url, method.__name__)
                    assert response["Location"].startswith("/admin/login/"), url
                elif view == "changelist" and method == client.post:
                    # A list the role may not open is 403; one it may only view ignores the delete action.
                    assert response.status_code in (302, 403), (url, response.status_code)
                else:
                    assert response.status_code == 403, (role, url, method.__name__, response.status_code)
                checked += 1
            assert snapshot() == before, url
    return checked


@pytest.mark.django_db
@pytest.mark.parametrize("role", NOT_SUPERUSER)
def test_every_admin_page_a_role_has_no_permission_for_is_refused(people, role):
    models = list(admin.site._registry)

    checked = sweep(people, role, models)

    assert User in models and Group in models
    assert checked >= 2 * 4  # at least the user and group pages, both methods


@pytest.mark.django_db
@pytest.mark.parametrize("role", NOT_SUPERUSER)
def test_the_user_and_group_admin_stay_closed_even_to_a_group_granted_every_permission_on_them(people, role):
    auth = Permission.objects.filter(content_type__app_label="auth")
    for group in Group.objects.filter(name__in=["Receptionist", "Therapist", "Manager"]):
        group.permissions.add(*auth)
    auth_models = [model for model in admin.site._registry if model._meta.app_label == "auth"]

    checked = sweep(people, role, auth_models)

    assert checked >= len(auth_models) * 2 * 4


@pytest.mark.django_db
def test_the_superuser_opens_every_admin_page(people):
    client = client_for(people, SUPERUSER)
    for model in admin.site._registry:
        for view, url, _ in admin_pages(model):
            status = client.get(url).status_code
            # Clinic settings: one row, never added twice nor deleted; a log may be read only.
            assert status in (200, 302) or (status == 403 and view in ("add", "delete")), (url, status)


def test_admin_urls_are_all_known():
    for model in admin.site._registry:
        try:
            admin_url(model, "changelist")
        except NoReverseMatch:  # pragma: no cover - a registered model always has a list
            pytest.fail(f"{model} has no admin list")
