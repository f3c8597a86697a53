"""Created the weekly spot-check sampling schedule. Kept empty so the
history stays valid: followup.sync now creates the missing periodic tasks
after each migrate."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0005_call_work"),
        ("followup", "0003_periodic_tasks"),
    ]

    operations = []
