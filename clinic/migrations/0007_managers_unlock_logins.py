"""Managers may unlock a staff login in the admin: they see django-axes' failed login attempts and may delete them.

Deleting an attempt forgets those failures, which is what unlocking is. Nothing else of axes, and nothing of
django-otp's authenticators (their secrets are for superusers only; managers remove a colleague's authenticator on
/accounts/two-factor/).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# What this migration adds to the roles 0002_roles made (tests/conftest.py's `ensure_roles` reads it).
GRANTED = {"Manager": {"axes.accessattempt": ["view", "delete"]}}


def _permissions(apps, grants):
    # Axes' permissions are made after all migrations ran; make them now, as 0002_roles does for its own.
    app_config = apps.get_app_config("axes")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    for model_label, actions in grants.items():
        app_label, model = model_label.split(".")
        yield from Permission.objects.filter(
            content_type__app_label=app_label, codename__in=[f"{action}_{model}" for action in actions]
        )


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role, grants in GRANTED.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.add(*_permissions(apps, grants))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role, grants in GRANTED.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, grants))


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0006_managers_without_user_admin"),
        ("axes", "0010_accessattemptexpiration"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
