"""PostgreSQL keeps no planner statistics of a stay's risk detail (JSON
nobody filters or joins on): ANALYZE of the stays, which a file import runs
as the table grows, then skips the widest column instead of sampling it."""

from django.db import migrations


def _statistics(target: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE calls_discharge ALTER COLUMN risk_detail SET STATISTICS {target}")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0023_call_channel_database_default"),
    ]

    operations = [migrations.RunPython(_statistics(0), _statistics(-1))]
