from django.db import migrations

from followup.schedules import sync_periodic_tasks


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0002_roles"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(sync_periodic_tasks, migrations.RunPython.noop)]
