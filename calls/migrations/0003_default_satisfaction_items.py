"""The satisfaction items every hospital starts with (see calls.defaults):
patients score each 1-10 on a call. Admins can add, reorder or deactivate
them later; this only creates the ones that are missing."""

from django.db import migrations

from calls.defaults import create_default_satisfaction_items


class Migration(migrations.Migration):
    dependencies = [("calls", "0002_role_permissions")]

    operations = [migrations.RunPython(create_default_satisfaction_items, migrations.RunPython.noop)]
