"""Gave the admin role the inbox and ward mapping permissions. Kept empty so
the history stays valid: followup.sync now gives every role its permissions
after each migrate."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("interop", "0001_initial"),
        ("calls", "0002_role_permissions"),
        ("followup", "0002_roles"),
    ]

    operations = []
