"""Gave the roles the calls app's permissions. Kept empty so the history
stays valid: followup.sync now gives every role its permissions after each
migrate."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0001_initial"),
        ("followup", "0002_roles"),
    ]

    operations = []
