"""The staff roles and what each may do in the admin panel.

Receptionists run the calendar and patient contact details; therapists see
appointments (their own, enforced in the views) and the schedule; managers
configure services, therapists, hours, time off and clinic policies.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"

ROLES = {
    "Receptionist": {
        "booking.appointment": [VIEW, ADD, CHANGE],
        "booking.patient": [VIEW, ADD, CHANGE],
        "booking.service": [VIEW],
        "booking.serviceoption": [VIEW],
        "therapists.therapist": [VIEW],
        "therapists.workinghours": [VIEW],
        "therapists.timeoff": [VIEW],
    },
    "Therapist": {
        "booking.appointment": [VIEW],
        "booking.patient": [VIEW],
        "booking.service": [VIEW],
        "booking.serviceoption": [VIEW],
        "therapists.therapist": [VIEW],
        "therapists.workinghours": [VIEW],
        "therapists.timeoff": [VIEW],
    },
    "Manager": {
        "booking.appointment": [VIEW, ADD, CHANGE],
        "booking.patient": [VIEW, ADD, CHANGE],
        "booking.service": [VIEW, ADD, CHANGE, DELETE],
        "booking.serviceoption": [VIEW, ADD, CHANGE, DELETE],
        "therapists.therapist": [VIEW, ADD, CHANGE, DELETE],
        "therapists.workinghours": [VIEW, ADD, CHANGE, DELETE],
        "therapists.timeoff": [VIEW, ADD, CHANGE, DELETE],
        "clinic.clinicsettings": [VIEW, CHANGE],
        "auth.user": [VIEW, ADD, CHANGE],
    },
}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for model_label, actions in grants.items():
            app_label, model = model_label.split(".")
            for action in actions:
                permissions.append(
                    Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
                )
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("booking", "0003_no_overlapping_appointments"),
        ("therapists", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
