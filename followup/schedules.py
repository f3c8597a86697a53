"""Every periodic task of the product, in one place. followup.sync runs
sync_periodic_tasks() after every migrate, so a fresh database gets the
schedule; an admin may change it under "Periodic tasks" and a later sync
never overwrites those edits (only missing entries are created)."""

from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

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
    # Every 10 minutes: send the self-report links that are due (none in quiet hours).
    "Send self-report links": (
        "calls.send_due_self_report_links",
        {"minute": "*/10", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"},
    ),
    # Every day at 07:30: alert owners and officers of promises past their due day.
    "Alert overdue promises": (
        "complaints.alert_overdue_promises",
        {"minute": "30", "hour": "7", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"},
    ),
    # Every day at 03:15: delete call drafts of closed calls and those untouched for a week.
    "Purge old call drafts": (
        "calls.purge_call_drafts",
        {"minute": "15", "hour": "3", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"},
    ),
}


def sync_periodic_tasks(apps, *, using: str = DEFAULT_DB_ALIAS) -> None:
    from django.conf import settings

    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    existing = set(PeriodicTask.objects.using(using).filter(name__in=PERIODIC_TASKS).values_list("name", flat=True))
    missing = {name: entry for name, entry in PERIODIC_TASKS.items() if name not in existing}
    for name, (task, cron) in missing.items():
        schedule, _created = CrontabSchedule.objects.using(using).get_or_create(**cron, timezone=settings.TIME_ZONE)
        PeriodicTask.objects.using(using).create(name=name, task=task, crontab=schedule, enabled=True)
    if missing:
        # What django-celery-beat's signals do on a save (a migration's
        # models send none): a running beat reloads the schedule.
        PeriodicTasks.objects.using(using).update_or_create(ident=1, defaults={"last_update": timezone.now()})
