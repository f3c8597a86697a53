"""The in-app notification becomes the followup app's (calls and complaints
both notify; calls may not import complaints). Its rows stay: the table is
renamed, nothing is copied. complaints 0007 drops the model from the
complaints app's state."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0007_audit_create_action"),
        ("complaints", "0006_legal_clock_real_times_promise_owners"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'ALTER TABLE "complaints_notification" RENAME TO "followup_notification"',
                    reverse_sql='ALTER TABLE "followup_notification" RENAME TO "complaints_notification"',
                ),
            ],
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("text", models.CharField(max_length=255, verbose_name="text")),
                        ("link", models.CharField(blank=True, max_length=255, verbose_name="link")),
                        (
                            "message_key",
                            models.CharField(blank=True, editable=False, max_length=40, verbose_name="system message"),
                        ),
                        (
                            "message_params",
                            models.JSONField(
                                blank=True, default=dict, editable=False, verbose_name="system message values"
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, verbose_name="created at"),
                        ),
                        ("read_at", models.DateTimeField(blank=True, null=True, verbose_name="read at")),
                        (
                            "recipient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="recipient",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "notification",
                        "verbose_name_plural": "notifications",
                        "ordering": ["-created_at", "-pk"],
                        "indexes": [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")],
                    },
                ),
            ],
        ),
    ]
