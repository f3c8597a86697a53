from django.db import migrations

from followup.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0001_initial"),
        ("followup", "0002_roles"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
