"""Seeded the complaint categories, the default SLA per severity and the
default working calendar. Kept empty so the history stays valid:
followup.sync now creates the missing ones (see complaints.defaults) after
each migrate."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = []
