"""Callbacks at an agreed time, the number each attempt dialled, and a rule
step's attempt policy (issue 17, item 4): how many unanswered dials on how
many different days before a call is lost to follow-up, and the hours
outside which the ward does not dial.

Existing steps keep working as before: a step allowing a single dial needs
a single day, and a calling window reaching outside 08:00-20:00 widens that
step's dialling hours to hold it."""

import datetime

import django.core.validators
from django.conf import settings
from django.db import migrations, models


def fit_existing_steps(apps, schema_editor):
    RuleStep = apps.get_model("calls", "RuleStep")
    for step in RuleStep.objects.all().only("max_attempts", "window_start", "window_end"):
        changed = {}
        if step.max_attempts < 2:
            changed["attempt_days"] = max(step.max_attempts, 1)
        dial_from = min(datetime.time(8, 0), step.window_start)
        dial_until = max(datetime.time(20, 0), step.window_end)
        if (dial_from, dial_until) != (datetime.time(8, 0), datetime.time(20, 0)):
            changed.update(dial_from=dial_from, dial_until=dial_until)
        if changed:
            RuleStep.objects.filter(pk=step.pk).update(**changed)


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0012_merge_patient_merges"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="callattempt",
            name="callback_asked_by",
            field=models.CharField(
                blank=True,
                choices=[("patient", "Patient"), ("family", "Family member")],
                max_length=10,
                verbose_name="callback asked by",
            ),
        ),
        migrations.AddField(
            model_name="callattempt",
            name="callback_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="call back at"),
        ),
        migrations.AddField(
            model_name="callattempt",
            name="dialled",
            field=models.CharField(
                blank=True,
                choices=[
                    ("patient", "Patient's phone"),
                    ("family", "Family contact's phone"),
                    ("other", "Another number"),
                ],
                help_text="Empty on attempts recorded before the number was asked, and on a completion without a dial.",
                max_length=10,
                verbose_name="number dialled",
            ),
        ),
        migrations.AddField(
            model_name="callattempt",
            name="dialled_number",
            field=models.CharField(blank=True, max_length=32, verbose_name="number"),
        ),
        migrations.AddField(
            model_name="followupcall",
            name="callback_at",
            field=models.DateTimeField(
                blank=True,
                help_text="The time the patient or the family asked to be called back; cleared by the next dial.",
                null=True,
                verbose_name="callback agreed for",
            ),
        ),
        migrations.AddField(
            model_name="rulestep",
            name="attempt_days",
            field=models.PositiveIntegerField(
                default=2,
                validators=[django.core.validators.MinValueValidator(1)],
                help_text="The unanswered dials must fall on at least this many different days: several dials within minutes on one day never lose a patient.",
                verbose_name="on at least this many days",
            ),
        ),
        migrations.AddField(
            model_name="rulestep",
            name="dial_from",
            field=models.TimeField(
                blank=True,
                default=datetime.time(8, 0),
                help_text="Hospital time. Leave both dialling hours empty for no limit.",
                null=True,
                verbose_name="no dialling before",
            ),
        ),
        migrations.AddField(
            model_name="rulestep",
            name="dial_until",
            field=models.TimeField(
                blank=True,
                default=datetime.time(20, 0),
                help_text="Dials outside these hours do not count towards lost to follow-up; callbacks must fall inside.",
                null=True,
                verbose_name="no dialling after",
            ),
        ),
        migrations.AlterField(
            model_name="callattempt",
            name="result",
            field=models.CharField(
                choices=[
                    ("answered", "Answered"),
                    ("callback", "Asked to call back"),
                    ("no_answer", "No answer"),
                    ("busy", "Busy"),
                    ("switched_off", "Switched off"),
                    ("wrong_number", "Wrong number"),
                    ("refused", "Refused"),
                ],
                max_length=15,
                verbose_name="result",
            ),
        ),
        migrations.AlterField(
            model_name="rulestep",
            name="max_attempts",
            field=models.PositiveIntegerField(
                default=3,
                help_text="Unanswered dials before the call is lost to follow-up.",
                verbose_name="maximum attempts",
            ),
        ),
        migrations.RunPython(fit_existing_steps, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="callattempt",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("callback_at__isnull", False), ("result", "callback")),
                    models.Q(models.Q(("result", "callback"), _negated=True), ("callback_at__isnull", True)),
                    _connector="OR",
                ),
                name="attempt_callback_has_a_time",
            ),
        ),
        migrations.AddConstraint(
            model_name="rulestep",
            constraint=models.CheckConstraint(
                condition=models.Q(("attempt_days__gte", 1), ("attempt_days__lte", models.F("max_attempts"))),
                name="rule_step_attempt_days_within_attempts",
            ),
        ),
        migrations.AddConstraint(
            model_name="rulestep",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("dial_from__isnull", True), ("dial_until__isnull", True)),
                    models.Q(("dial_from__isnull", False), ("dial_until__gt", models.F("dial_from"))),
                    _connector="OR",
                ),
                name="rule_step_dial_hours_order",
            ),
        ),
    ]
