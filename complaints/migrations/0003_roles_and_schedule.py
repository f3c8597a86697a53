from django.db import migrations

from followup.roles import sync_roles
from followup.schedules import sync_periodic_tasks


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0002_seed_configuration"),
        ("calls", "0002_role_permissions"),
        ("followup", "0003_periodic_tasks"),
    ]

    operations = [
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
        migrations.RunPython(sync_periodic_tasks, migrations.RunPython.noop),
    ]
