"""Managers no longer hold Django's user permissions.

With `auth.add_user` and `auth.change_user` the stock user admin let a manager make themselves superuser, grant
any permission and set a superuser's password. Managers now look after staff accounts on the front desk's staff
page (name, email, active, one of the three roles, a password link), which asks clinic/policy.py; the user and
group admin are for superusers only.
"""

from django.db import migrations

# What this migration takes away from the roles 0002_roles made (tests/conftest.py's `ensure_roles` reads it).
REVOKED = {"Manager": {"auth.user": ["view", "add", "change"]}}


def _permissions(apps, grants):
    Permission = apps.get_model("auth", "Permission")
    for model_label, actions in grants.items():
        app_label, model = model_label.split(".")
        yield from Permission.objects.filter(
            content_type__app_label=app_label, codename__in=[f"{action}_{model}" for action in actions]
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role, grants in REVOKED.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, grants))


def restore(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role, grants in REVOKED.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.add(*_permissions(apps, grants))


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0005_safety_policies"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(revoke, restore)]
