"""Staff accounts at /frontdesk/staff/: a manager lists, adds and edits logins in exactly one of the three roles,
emails a link to set a password (through the outbox) and unlocks a locked-out login; nobody else gets in, and no
superuser or account holding more than a role is ever shown or touched. Also the password pages under /accounts/.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from clinic import staff_accounts
from notifications.models import OutboundMessage
from tests.conftest import staff_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
LINK = re.compile(r"https?://[^\s/]+(/accounts/reset/[^\s]+/)")


@pytest.fixture
def manager(db):
    return staff_user("maria", "Manager")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.com", "a-long-test-password")


def new_account(**fields) -> dict:
    return {
        "username": "nadia",
        "first_name": "Nadia",
        "last_name": "Haddad",
        "email": "nadia@example.com",
        "role": "Receptionist",
        "therapist": "",
        "is_active": "on",
        "send_password_link": "on",
        **fields,
    }


def edit_data(account, **fields) -> dict:
    therapist = getattr(account, "therapist", None)
    data = {
        "username": account.username,
        "first_name": account.first_name or "Someone",
        "last_name": account.last_name,
        "email": account.email,
        "role": getattr(staff_accounts.role_of_account(account), "value", "Receptionist"),
        "therapist": therapist.pk if therapist else "",
        "is_active": "on" if account.is_active else "",
        **fields,
    }
    return {key: value for key, value in data.items() if value is not None}


def groups(account) -> list[str]:
    return sorted(account.groups.values_list("name", flat=True))


# Who gets in


def test_only_managers_open_the_staff_pages(client, manager, receptionist, therapist):
    therapist.user = staff_user("alex", "Therapist")
    therapist.save()
    victim = staff_user("tom", "Receptionist")
    urls = [
        reverse("frontdesk:staff"),
        reverse("frontdesk:staff_add"),
        reverse("frontdesk:staff_edit", args=[victim.pk]),
        reverse("frontdesk:staff_password_link", args=[victim.pk]),
        reverse("frontdesk:staff_unlock", args=[victim.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 302, url  # to the login page
    for user in (receptionist, therapist.user):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 403, (user, url)
            assert client.post(url, new_account(role="Manager")).status_code == 403, (user, url)
    assert not User.objects.filter(username="nadia").exists()
    assert OutboundMessage.objects.count() == 0


def test_the_staff_link_is_in_the_menu_for_managers_only(client, manager, receptionist):
    client.force_login(receptionist)
    assert reverse("frontdesk:staff") not in client.get(reverse("frontdesk:patients")).content.decode()
    client.force_login(manager)
    assert reverse("frontdesk:staff") in client.get(reverse("frontdesk:patients")).content.decode()


def test_the_list_shows_staff_in_the_three_roles_and_no_superuser_or_privileged_login(
    manager_client, manager, root, therapist
):
    therapist.user = staff_user("alex", "Therapist")
    therapist.save()
    staff_user("rosa", "Receptionist")
    auditor = UserFactory(username="auditor")
    auditor.groups.add(Group.objects.create(name="Auditors"))
    granted = UserFactory(username="granted")
    granted.user_permissions.add(Permission.objects.get(codename="change_user"))

    response = manager_client.get(reverse("frontdesk:staff"))

    page = response.content.decode()
    assert response.status_code == 200
    listed = [row["account"].username for row in response.context["rows"]]
    assert sorted(listed) == ["alex", "maria", "rosa"]
    assert "Alex Moreau&#x27;s schedule" in page or "Alex Moreau's schedule" in page
    for hidden in ("root", "auditor", "granted"):
        assert f'data-account="{hidden}"' not in page


# Adding


def test_a_manager_adds_a_receptionist_who_gets_a_link_to_set_a_password(manager_client, deliver_outbox):
    response = manager_client.post(reverse("frontdesk:staff_add"), new_account())

    account = User.objects.get(username="nadia")
    assert response.status_code == 302
    assert response["Location"] == reverse("frontdesk:staff_edit", args=[account.pk])
    assert (account.first_name, account.last_name, account.email) == ("Nadia", "Haddad", "nadia@example.com")
    assert account.is_staff and account.is_active and not account.is_superuser
    assert groups(account) == ["Receptionist"]
    assert not account.user_permissions.exists()
    assert not account.has_usable_password()
    [queued] = OutboundMessage.objects.all()
    assert queued.kind == OutboundMessage.Kind.STAFF_NOTICE and queued.recipient == "nadia@example.com"
    assert queued.appointment_id is None and queued.patient_id is None
    assert "Set your password" in queued.subject

    [mail] = deliver_outbox()
    assert mail.to == ["nadia@example.com"]
    assert "maria made a staff login for you" in mail.body and "Your username is nadia" in mail.body
    path = LINK.search(mail.body).group(1)
    page = manager_client.get(path, follow=True)
    assert page.status_code == 200 and "Choose a password" in page.content.decode()


def test_a_new_account_without_the_link_has_no_message(manager_client):
    manager_client.post(reverse("frontdesk:staff_add"), new_account(send_password_link=""))

    assert User.objects.filter(username="nadia").exists()
    assert OutboundMessage.objects.count() == 0


def test_a_therapists_login_is_linked_to_their_therapist_record(manager_client, therapist):
    response = manager_client.post(reverse("frontdesk:staff_add"), new_account(role="Therapist"))
    assert response.status_code == 400
    assert "choose their therapist record" in response.content.decode()

    manager_client.post(reverse("frontdesk:staff_add"), new_account(role="Therapist", therapist=therapist.pk))

    therapist.refresh_from_db()
    assert therapist.user.username == "nadia"
    assert groups(therapist.user) == ["Therapist"]


def test_a_therapist_record_linked_to_someone_else_is_not_offered(manager_client, therapist, second_therapist):
    therapist.user = staff_user("alex", "Therapist")
    therapist.save()

    response = manager_client.post(
        reverse("frontdesk:staff_add"), new_account(role="Therapist", therapist=therapist.pk)
    )

    assert response.status_code == 400
    therapist.refresh_from_db()
    assert therapist.user.username == "alex"
    assert list(response.context["form"].fields["therapist"].queryset) == [second_therapist]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"username": "MARIA"}, "Another account already has this username."),
        ({"email": "Maria@Example.com"}, "Another account already uses this email address."),
        ({"email": ""}, "This field is required."),
        ({"email": "not an address"}, "Enter a valid email address."),
        ({"username": "a b"}, "Enter a valid username."),
        ({"username": "x" * 151}, "at most 150 characters"),
        ({"role": "Superuser"}, "Choose one of the three roles."),
        ({"role": ""}, "Choose the role of this account."),
        ({"therapist": "999999"}, "Select a valid choice."),
        ({"therapist": "abc"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_a_clear_message_and_nothing_is_saved(manager_client, manager, fields, error):
    response = manager_client.post(reverse("frontdesk:staff_add"), new_account(**fields))

    assert response.status_code == 400
    assert error in response.content.decode()
    assert User.objects.count() == 1
    assert OutboundMessage.objects.count() == 0


def test_fields_the_form_does_not_have_are_ignored(manager_client):
    crafted = new_account(
        is_superuser="on",
        is_staff="",
        groups=[group.pk for group in Group.objects.all()],
        user_permissions=list(Permission.objects.values_list("pk", flat=True)),
        password="a-long-test-password",
        password1="a-long-test-password",
        password2="a-long-test-password",
    )

    manager_client.post(reverse("frontdesk:staff_add"), crafted)

    account = User.objects.get(username="nadia")
    assert not account.is_superuser and account.is_staff
    assert groups(account) == ["Receptionist"]
    assert not account.user_permissions.exists()
    assert not account.has_usable_password()


def test_two_roles_in_one_post_are_refused(manager_client):
    data = new_account()
    data["role"] = ["Receptionist", "Manager"]

    response = manager_client.post(reverse("frontdesk:staff_add"), data)

    assert response.status_code == 400
    assert "Choose one role" in response.content.decode()
    assert not User.objects.filter(username="nadia").exists()


# Editing


def test_a_manager_changes_a_role_and_the_old_one_goes(manager_client, therapist):
    account = staff_user("tom", "Receptionist")

    response = manager_client.post(
        reverse("frontdesk:staff_edit", args=[account.pk]),
        edit_data(account, role="Therapist", therapist=therapist.pk, first_name="Thomas"),
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert groups(account) == ["Therapist"]
    assert account.first_name == "Thomas"
    therapist.refresh_from_db()
    assert therapist.user == account


def test_leaving_the_therapist_role_unlinks_the_record(manager_client, therapist):
    account = staff_user("alex", "Therapist")
    therapist.user = account
    therapist.save()

    manager_client.post(
        reverse("frontdesk:staff_edit", args=[account.pk]), edit_data(account, role="Receptionist", therapist="")
    )

    therapist.refresh_from_db()
    assert therapist.user is None
    assert groups(account) == ["Receptionist"]


def test_an_old_account_in_two_roles_is_shown_with_the_higher_and_saved_with_one(manager_client):
    account = staff_user("tom", "Receptionist")
    account.groups.add(Group.objects.get(name="Manager"))

    page = manager_client.get(reverse("frontdesk:staff_edit", args=[account.pk]))
    assert page.context["form"].initial["role"] == "Manager"
    manager_client.post(reverse("frontdesk:staff_edit", args=[account.pk]), edit_data(account, role="Receptionist"))

    assert groups(account) == ["Receptionist"]


def test_a_manager_deactivates_a_colleague(manager_client):
    account = staff_user("tom", "Receptionist")

    manager_client.post(reverse("frontdesk:staff_edit", args=[account.pk]), edit_data(account, is_active=""))

    account.refresh_from_db()
    assert not account.is_active and account.is_staff


def test_a_manager_cannot_deactivate_themself_or_change_their_own_role(manager_client, manager):
    url = reverse("frontdesk:staff_edit", args=[manager.pk])

    off = manager_client.post(url, edit_data(manager, is_active=""))
    demoted = manager_client.post(url, edit_data(manager, role="Receptionist"))

    assert off.status_code == 400
    assert "You cannot deactivate your own account" in off.content.decode()
    assert demoted.status_code == 400
    assert "You cannot change your own role" in demoted.content.decode()
    manager.refresh_from_db()
    assert manager.is_active and groups(manager) == ["Manager"]
    renamed = manager_client.post(url, edit_data(manager, first_name="Mariana"))
    assert renamed.status_code == 302
    manager.refresh_from_db()
    assert manager.first_name == "Mariana"


def test_an_invalid_edit_keeps_the_saved_name_in_the_title(manager_client):
    account = staff_user("tom", "Receptionist")

    response = manager_client.post(
        reverse("frontdesk:staff_edit", args=[account.pk]), edit_data(account, username="bad name!")
    )

    assert response.status_code == 400
    assert "<title>tom" in response.content.decode() or "tom</li>" in response.content.decode()
    account.refresh_from_db()
    assert account.username == "tom"


# Accounts a manager may not touch


@pytest.fixture
def out_of_reach(root):
    auditor = UserFactory(username="auditor", email="auditor@example.com")
    auditor.groups.add(Group.objects.get(name="Receptionist"), Group.objects.create(name="Auditors"))
    granted = staff_user("granted", "Receptionist")
    granted.user_permissions.add(Permission.objects.get(codename="change_user"))
    return [root, auditor, granted]


def test_superusers_and_privileged_logins_do_not_exist_for_a_manager(manager_client, out_of_reach):
    for account in out_of_reach:
        before = (account.email, account.password, account.is_active, groups(account))
        for name in ("staff_edit", "staff_password_link", "staff_unlock"):
            url = reverse(f"frontdesk:{name}", args=[account.pk])
            assert manager_client.get(url).status_code in (404, 405), (account, name)
            assert manager_client.post(url, edit_data(account, email="mallory@example.com")).status_code == 404
        account.refresh_from_db()
        assert (account.email, account.password, account.is_active, groups(account)) == before
    assert OutboundMessage.objects.count() == 0


def test_a_superuser_uses_the_staff_page_for_staff_too(client, root):
    account = staff_user("tom", "Receptionist")
    client.force_login(root)

    assert client.get(reverse("frontdesk:staff")).status_code == 200
    assert client.get(reverse("frontdesk:staff_edit", args=[account.pk])).status_code == 200
    assert client.get(reverse("frontdesk:staff_edit", args=[root.pk])).status_code == 404  # the admin is for that


# Password links


def test_a_manager_sends_a_colleague_a_link_for_a_new_password(manager_client, deliver_outbox):
    account = staff_user("tom", "Receptionist")

    response = manager_client.post(reverse("frontdesk:staff_password_link", args=[account.pk]), follow=True)

    assert "A link to set a new password is on its way to tom@example.com." in response.content.decode()
    [mail] = deliver_outbox()
    assert "Reset your password" in mail.subject
    assert LINK.search(mail.body)
    assert "ignore this email" not in mail.body  # the manager sent it, not a stranger
    account.refresh_from_db()
    assert account.check_password("a-long-test-password")  # nothing changes until they choose


@pytest.mark.parametrize(
    ("change", "message"), [({"email": ""}, "has no email address"), ({"is_active": False}, "is not active")]
)
def test_no_link_for_an_account_without_email_or_inactive(manager_client, change, message):
    account = staff_user("tom", "Receptionist")
    User.objects.filter(pk=account.pk).update(**change)

    response = manager_client.post(reverse("frontdesk:staff_password_link", args=[account.pk]), follow=True)

    assert message in response.content.decode()
    assert OutboundMessage.objects.count() == 0


def test_the_password_link_needs_post(manager_client):
    account = staff_user("tom", "Receptionist")

    assert manager_client.get(reverse("frontdesk:staff_password_link", args=[account.pk])).status_code == 405
    assert OutboundMessage.objects.count() == 0


def test_the_link_sets_a_password_once_and_the_new_login_works(client, manager_client, deliver_outbox):
    manager_client.post(reverse("frontdesk:staff_add"), new_account())
    [mail] = deliver_outbox()
    path = LINK.search(mail.body).group(1)
    client.logout()

    form = client.get(path, follow=True)
    set_password_url = form.redirect_chain[-1][0]
    weak = client.post(set_password_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200 and "This password is too common" in weak.content.decode()
    done = client.post(
        set_password_url, {"new_password1": "calm-river-stones-42", "new_password2": "calm-river-stones-42"}
    )
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")

    login = client.post(reverse("login"), {"username": "nadia", "password": "calm-river-stones-42"})
    assert login.status_code == 302
    assert client.get(reverse("staff_home"))["Location"] == reverse("frontdesk:calendar")
    client.logout()
    again = client.get(path, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_a_broken_link_says_so(client, db):
    for path in ("/accounts/reset/MQ/abc-123/", "/accounts/reset/%FF/x/", "/accounts/reset/MTIzNDU2Nzg5/1-2/"):
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        assert "This link no longer works" in response.content.decode(), path


def test_the_message_log_hides_the_link(desk_client, manager_client, deliver_outbox):
    account = staff_user("tom", "Receptionist")
    manager_client.post(reverse("frontdesk:staff_password_link", args=[account.pk]))
    [queued] = OutboundMessage.objects.all()
    token = LINK.search(queued.body_text).group(1).rstrip("/").split("/")[-1]

    page = desk_client.get(reverse("frontdesk:message", args=[queued.pk])).content.decode()

    assert token not in page
    assert "[private link]" in page


# The public "forgot your password" page


def test_forgot_password_queues_a_link_on_the_sites_own_address(client, settings, deliver_outbox):
    settings.SITE_URL = "https://clinic.example"
    staff_user("tom", "Receptionist")

    page = client.get(reverse("password_reset"))
    assert page.status_code == 200
    response = client.post(reverse("password_reset"), {"email": "TOM@example.com"}, HTTP_HOST="testserver")

    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    [mail] = deliver_outbox()
    assert "https://clinic.example/accounts/reset/" in mail.body
    assert "If you did not ask for this, ignore this email" in mail.body


@pytest.mark.parametrize("email", ["nobody@example.com", "new@example.com"])
def test_forgot_password_says_the_same_and_sends_nothing_for_unknown_or_passwordless(client, email):
    new = staff_user("new", "Receptionist")
    new.set_unusable_password()
    new.save()

    response = client.post(reverse("password_reset"), {"email": email}, follow=True)

    assert "Check your email" in response.content.decode()
    assert OutboundMessage.objects.count() == 0


def test_forgot_password_with_a_bad_address_is_a_message(client, db):
    response = client.post(reverse("password_reset"), {"email": "x" * 300})

    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode() or "at most" in response.content.decode()
    assert OutboundMessage.objects.count() == 0


def test_forgot_password_is_limited_per_email_with_a_clear_page(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset_email": "2/h"}
    staff_user("tom", "Receptionist")

    answers = [client.post(reverse("password_reset"), {"email": "Tom@example.com"}) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [302, 302, 429]
    assert answers[-1]["Retry-After"]
    assert OutboundMessage.objects.count() == 2


# Unlocking


def failed_logins(username: str, failures: int, minutes_ago: int = 1) -> None:
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.create(
        username=username,
        ip_address="203.0.113.9",
        user_agent="test",
        failures_since_start=failures,
        get_data="",
        post_data="",
        http_accept="",
        path_info="/accounts/login/",
    )
    # Set after: the field takes the time of the insert.
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=timezone.now() - timedelta(minutes=minutes_ago))


def test_a_locked_out_login_is_shown_and_a_manager_unlocks_it(manager_client, settings):
    account = staff_user("tom", "Receptionist")
    staff_user("rosa", "Receptionist")
    failed_logins("tom", settings.AXES_FAILURE_LIMIT)
    failed_logins("rosa", settings.AXES_FAILURE_LIMIT - 1)

    rows = {row["account"].username: row for row in manager_client.get(reverse("frontdesk:staff")).context["rows"]}
    assert rows["tom"]["locked_out"] and not rows["rosa"]["locked_out"]
    assert "Locked out" in manager_client.get(reverse("frontdesk:staff_edit", args=[account.pk])).content.decode()

    response = manager_client.post(reverse("frontdesk:staff_unlock", args=[account.pk]), follow=True)

    assert "tom is unlocked" in response.content.decode()
    assert not staff_accounts.locked_out(["tom"], timezone.now())
    assert staff_accounts.locked_out(["rosa"], timezone.now()) == set()


def test_an_old_lockout_has_run_out(manager_client, settings):
    failed_logins("tom", settings.AXES_FAILURE_LIMIT, minutes_ago=24 * 60)

    assert staff_accounts.locked_out(["tom"], timezone.now()) == set()


def test_unlocking_someone_not_locked_out_says_so(manager_client):
    account = staff_user("tom", "Receptionist")

    response = manager_client.post(reverse("frontdesk:staff_unlock", args=[account.pk]), follow=True)

    assert "tom was not locked out" in response.content.decode()


def test_without_lockouts_there_is_no_unlock_button(manager_client, monkeypatch):
    account = staff_user("tom", "Receptionist")
    monkeypatch.setattr(staff_accounts, "lockouts_enabled", lambda: False)

    page = manager_client.get(reverse("frontdesk:staff_edit", args=[account.pk])).content.decode()
    response = manager_client.post(reverse("frontdesk:staff_unlock", args=[account.pk]), follow=True)

    assert "Unlock this login" not in page
    assert "nothing to unlock" in response.content.decode()
