"""Every change a manager makes to a staff login is written down (who, when, what), shown on the account's page, and a
changed email is told to the old address: a login cannot quietly be moved to another inbox."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import change_log
from notifications.models import OutboundMessage
from tests.conftest import staff_user
from tests.frontdesk.test_staff_accounts import edit_data, failed_logins, new_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db):
    manager = staff_user("maria", "Manager")
    manager.first_name, manager.last_name = "Maria", "Lopez"
    manager.save()
    return manager


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def rosa(db):
    rosa = staff_user("rosa", "Receptionist")
    rosa.first_name = "Rosa"
    rosa.save()
    return rosa


def messages_of(account) -> list[str]:
    return [entry.get_change_message() for entry in reversed(change_log.history_of(account))]


def test_changing_a_colleagues_email_tells_the_old_address_and_is_recorded(manager_client, rosa):
    old_email = rosa.email
    response = manager_client.post(
        reverse("frontdesk:staff_edit", args=[rosa.pk]), edit_data(rosa, email="someone.else@example.com")
    )
    assert response.status_code == 302

    notice = OutboundMessage.objects.get(recipient=old_email)
    assert notice.kind == OutboundMessage.Kind.STAFF_NOTICE
    assert "Maria Lopez changed the email address" in notice.body_text
    assert "someone.else@example.com" in notice.body_text
    assert "someone may be trying to take over your login" in notice.body_html
    assert messages_of(rosa) == [f"Changed email {old_email} → someone.else@example.com."]
    entry = LogEntry.objects.get()
    assert (entry.user.username, entry.object_id, entry.is_change()) == ("maria", str(rosa.pk), True)


def test_role_name_and_active_changes_are_listed_together(manager_client, rosa):
    manager_client.post(
        reverse("frontdesk:staff_edit", args=[rosa.pk]),
        edit_data(rosa, role="Manager", last_name="Diaz", is_active=""),
    )
    [message] = messages_of(rosa)
    assert message.startswith("Changed ")
    assert "role Receptionist → Manager" in message
    assert "name Rosa → Rosa Diaz" in message
    assert "login active → inactive" in message
    # Only an email change warns the old address.
    assert not OutboundMessage.objects.exists()


def test_saving_without_a_change_records_nothing_and_a_case_change_of_email_sends_no_notice(manager_client, rosa):
    manager_client.post(reverse("frontdesk:staff_edit", args=[rosa.pk]), edit_data(rosa))
    assert messages_of(rosa) == []
    manager_client.post(reverse("frontdesk:staff_edit", args=[rosa.pk]), edit_data(rosa, email=rosa.email.upper()))
    assert not OutboundMessage.objects.exists()


def test_adding_sending_a_link_unlocking_and_removing_an_authenticator_are_recorded(manager_client, manager, settings):
    manager_client.post(reverse("frontdesk:staff_add"), new_account(send_password_link="on"))
    nadia = manager.__class__.objects.get(username="nadia")
    manager_client.post(reverse("frontdesk:staff_password_link", args=[nadia.pk]))
    failed_logins("nadia", settings.AXES_FAILURE_LIMIT)
    manager_client.post(reverse("frontdesk:staff_unlock", args=[nadia.pk]))
    manager_client.post(reverse("frontdesk:staff_unlock", args=[nadia.pk]))  # not locked any more: nothing to note
    TOTPDevice.objects.create(user=nadia, name="Authenticator app", confirmed=True)
    manager_client.post(reverse("two_factor:remove_for", args=[nadia.pk]))

    assert messages_of(nadia) == [
        "Added as Receptionist.",
        "Sent a link to set a password to nadia@example.com.",
        "Sent a link to set a password to nadia@example.com.",
        "Unlocked after failed logins.",
        "Removed the authenticator app.",
    ]
    entries = LogEntry.objects.filter(object_id=str(nadia.pk)).order_by("pk")
    assert [entry.is_addition() for entry in entries] == [True, False, False, False, False]
    assert {entry.user_id for entry in entries} == {manager.pk}


def test_the_accounts_page_shows_its_history_in_clinic_time_and_no_one_elses(manager_client, rosa, clinic):
    tom = staff_user("tom", "Receptionist")
    tom.first_name = "Tom"
    tom.save()
    manager_client.post(reverse("frontdesk:staff_edit", args=[rosa.pk]), edit_data(rosa, email="rosa.new@example.com"))
    manager_client.post(reverse("frontdesk:staff_edit", args=[tom.pk]), edit_data(tom, first_name="Thomas"))

    history = manager_client.get(reverse("frontdesk:staff_edit", args=[rosa.pk])).content.decode().split("History")[1]
    entry = LogEntry.objects.get(object_id=str(rosa.pk))
    assert f"{entry.action_time.astimezone(clinic.tz):%H:%M}</time> · Maria Lopez" in history
    assert "Changed email rosa@example.com → rosa.new@example.com." in history
    assert "Thomas" not in history
