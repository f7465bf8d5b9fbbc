"""Create the one ClinicSettings row, so every page reads it with a single query."""

from django.db import migrations


def create_row(apps, schema_editor):
    apps.get_model("clinic", "ClinicSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0002_roles")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
