from django.db import migrations

from followup.schedules import sync_periodic_tasks


class Migration(migrations.Migration):
    """Create the weekly spot-check sampling schedule (Monday 06:00)."""

    dependencies = [
        ("calls", "0005_call_work"),
        ("followup", "0003_periodic_tasks"),
    ]

    operations = [migrations.RunPython(sync_periodic_tasks, migrations.RunPython.noop)]
