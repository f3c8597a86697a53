"""Created the role groups. Kept empty so the history stays valid:
followup.sync now creates them and gives them their permissions after each
migrate."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = []
