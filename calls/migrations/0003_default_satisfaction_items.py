"""Created the satisfaction items every hospital starts with. Kept empty so
the history stays valid: followup.sync now creates the missing ones (see
calls.defaults) after each migrate."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("calls", "0002_role_permissions")]

    operations = []
