"""A flush (the end of every transactional test) leaves the rows the data
migrations seed as they were: tests/conftest.py puts them back."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from calls.models import SatisfactionItem
from complaints.models import Category, SlaPolicy, WorkingCalendar
from followup.roles import Role
from followup.schedules import PERIODIC_TASKS

CRONTAB = ("crontab__minute", "crontab__hour", "crontab__day_of_week", "crontab__timezone")


def migration_data() -> dict:
    return {
        "roles": {
            group.name: sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all())
            for group in Group.objects.prefetch_related("permissions__content_type")
        },
        "periodic tasks": sorted(PeriodicTask.objects.values_list("name", "task", "enabled", *CRONTAB)),
        "satisfaction items": list(SatisfactionItem.objects.values_list("code", "name", "name_zh", "order")),
        "categories": list(Category.objects.values_list("code", "name_en", "name_zh", "order")),
        "sla": list(SlaPolicy.objects.values_list("severity", "first_response_value", "resolution_value")),
        "calendars": list(WorkingCalendar.objects.values_list("name", "weekdays", "start_time", "end_time")),
    }


@pytest.mark.django_db(transaction=True)
def test_a_flush_puts_back_the_roles_schedules_and_configuration_of_the_migrations():
    before = migration_data()

    call_command("flush", interactive=False, verbosity=0)

    assert migration_data() == before
    assert sorted(before["roles"]) == sorted(Role.values)
    assert sorted(name for name, *_rest in before["periodic tasks"]) == sorted(PERIODIC_TASKS)
    assert (len(before["satisfaction items"]), len(before["categories"]), len(before["sla"])) == (5, 13, 3)
    assert len(before["calendars"]) == 1
