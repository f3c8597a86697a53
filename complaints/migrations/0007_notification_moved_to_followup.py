"""The notification model now lives in the followup app (followup 0008
renamed its table and took it over): only the state changes here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0006_legal_clock_real_times_promise_owners"),
        ("followup", "0008_notification_moved_from_complaints"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="Notification")],
        ),
    ]
