"""Every periodic task of the product, in one place. A data migration calls
sync_periodic_tasks() so a fresh database gets the schedule; afterwards an
admin may change it under "Periodic tasks" and a later sync never overwrites
those edits (only missing entries are created)."""

# name shown in the admin -> (task name, crontab fields in the hospital's time zone)
PERIODIC_TASKS: dict[str, tuple[str, dict[str, str]]] = {
    # Monday 00:30: create the week's follow-up calls (and catch up missed weeks).
    "Generate the weekly call queue": (
        "calls.generate_weekly_queue",
        {"minute": "30", "hour": "0", "day_of_week": "1", "day_of_month": "*", "month_of_year": "*"},
    ),
    # Monday 06:00: sample last week's completed calls for the head nurses' spot checks.
    "Sample spot checks": (
        "calls.sample_spot_checks",
        {"minute": "0", "hour": "6", "day_of_week": "1", "day_of_month": "*", "month_of_year": "*"},
    ),
    # Every 10 minutes: flag complaints past their SLA deadlines and notify.
    "Flag late complaints": (
        "complaints.check_sla_breaches",
        {"minute": "*/10", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"},
    ),
}


def sync_periodic_tasks(apps, schema_editor=None) -> None:
    from django.conf import settings

    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, (task, cron) in PERIODIC_TASKS.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        schedule, _created = CrontabSchedule.objects.get_or_create(**cron, timezone=settings.TIME_ZONE)
        PeriodicTask.objects.create(name=name, task=task, crontab=schedule, enabled=True)
