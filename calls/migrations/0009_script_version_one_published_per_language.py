"""At most one published version per script and language (docs/scripts.md).
Its own migration: 0008 updated the versions, and PostgreSQL refuses to
build an index on a table with changes pending in the same transaction."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0008_script_version_language"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="scriptversion",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "published")),
                fields=("script", "language"),
                name="script_version_one_published_per_language",
            ),
        ),
    ]
