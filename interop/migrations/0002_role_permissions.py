from django.db import migrations

from followup.roles import sync_roles


class Migration(migrations.Migration):
    """Give the admin role the inbox and ward mapping permissions."""

    dependencies = [
        ("interop", "0001_initial"),
        ("calls", "0002_role_permissions"),
        ("followup", "0002_roles"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
