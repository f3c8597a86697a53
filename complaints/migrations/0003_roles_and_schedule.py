"""Gave the roles the complaints app's permissions and created its periodic
task. Kept empty so the history stays valid: followup.sync now does both
after each migrate."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0002_seed_configuration"),
        ("calls", "0002_role_permissions"),
        ("followup", "0003_periodic_tasks"),
    ]

    operations = []
