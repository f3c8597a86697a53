import pytest
from django.apps import apps
from django_celery_beat.models import PeriodicTask

from followup.schedules import PERIODIC_TASKS, sync_periodic_tasks


@pytest.mark.django_db
def test_migrate_creates_every_periodic_task_in_the_hospital_time_zone(settings):
    tasks = {t.name: t for t in PeriodicTask.objects.select_related("crontab")}
    assert sorted(tasks) == sorted(PERIODIC_TASKS)
    for name, (task, cron) in PERIODIC_TASKS.items():
        assert tasks[name].task == task
        assert str(tasks[name].crontab.timezone) == settings.TIME_ZONE
        assert tasks[name].crontab.day_of_week == cron["day_of_week"]


@pytest.mark.django_db
def test_sync_keeps_an_admins_change_to_a_schedule():
    task = PeriodicTask.objects.get(name="Generate the weekly call queue")
    task.enabled = False
    task.save()
    sync_periodic_tasks(apps)
    assert PeriodicTask.objects.get(name="Generate the weekly call queue").enabled is False
    assert PeriodicTask.objects.count() == len(PERIODIC_TASKS)
