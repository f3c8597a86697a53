"""Seed the complaint categories hospitals report on (DOMAIN.md section 6),
the default SLA per severity and the default working calendar (see
complaints.defaults). All three are editable in the admin afterwards; this
migration never overwrites them."""

from django.db import migrations

from complaints.defaults import create_default_configuration


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = [migrations.RunPython(create_default_configuration, migrations.RunPython.noop)]
