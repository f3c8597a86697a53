"""Created the periodic tasks. Kept empty so the history stays valid:
followup.sync now creates the missing ones after each migrate."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0002_roles"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = []
