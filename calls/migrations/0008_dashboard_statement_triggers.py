"""The dashboard summary's triggers become statement-level triggers over
transition tables (calls/dashboard/summary.py): the row-level ones of 0007
updated the same summary row once per inserted call, which grows
quadratically inside one transaction. Drops the old triggers and functions,
installs the new ones and rebuilds the summary; reversing puts the row-level
ones back."""

from django.db import migrations

from calls.dashboard.summary import summary_install, summary_rebuild, summary_uninstall
from calls.migrations._0007_row_triggers import row_triggers_install, row_triggers_uninstall


def forwards(apps, schema_editor):
    row_triggers_uninstall()
    summary_install()  # installs and rebuilds


def backwards(apps, schema_editor):
    summary_uninstall()
    row_triggers_install()
    summary_rebuild()


class Migration(migrations.Migration):
    dependencies = [("calls", "0007_dashboard_summary")]

    operations = [migrations.RunPython(forwards, backwards)]
