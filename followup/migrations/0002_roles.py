from django.db import migrations

from followup.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
