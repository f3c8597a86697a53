"""followup.sync: the roles, periodic tasks and defaults every database has,
made by migrate and made again by the flush that ends a transactional test."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks

from calls.models import SatisfactionItem
from complaints.models import Category, SlaPolicy, WorkingCalendar
from followup.roles import ROLE_PERMISSIONS, Role
from followup.schedules import PERIODIC_TASKS
from followup.sync import sync_all

CRONTAB = ("crontab__minute", "crontab__hour", "crontab__day_of_week", "crontab__timezone")


def synced_rows() -> dict:
    """What sync_all() writes, as a reader of the admin would compare it."""
    return {
        "roles": {
            group.name: sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all())
            for group in Group.objects.prefetch_related("permissions__content_type")
        },
        "periodic tasks": sorted(PeriodicTask.objects.values_list("name", "task", "enabled", *CRONTAB)),
        "satisfaction items": list(
            SatisfactionItem.objects.order_by("code").values_list("code", "name", "name_zh", "order", "is_active")
        ),
        "categories": list(Category.objects.order_by("code").values_list("code", "name_en", "name_zh", "order")),
        "sla": list(
            SlaPolicy.objects.order_by("severity").values_list(
                "severity", "first_response_value", "first_response_unit", "resolution_value", "resolution_unit"
            )
        ),
        "calendars": list(WorkingCalendar.objects.values_list("name", "weekdays", "start_time", "end_time")),
    }


def row_ids() -> dict:
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in (Group, Permission, PeriodicTask, CrontabSchedule, SatisfactionItem, Category, SlaPolicy)
    } | {"calendars": sorted(WorkingCalendar.objects.values_list("pk", flat=True))}


def beat_told_to_reload_at():
    return PeriodicTasks.last_change()


@pytest.mark.django_db(transaction=True)
def test_a_flush_leaves_the_roles_schedules_and_defaults_as_migrate_made_them():
    before = synced_rows()

    call_command("flush", interactive=False, verbosity=0)

    assert synced_rows() == before
    assert sorted(before["roles"]) == sorted(Role.values)
    assert sorted(name for name, *_rest in before["periodic tasks"]) == sorted(PERIODIC_TASKS)
    assert [code for code, *_rest in before["satisfaction items"]] == [
        "doctors",
        "environment",
        "fees",
        "nursing_attitude",
        "nursing_skill",
    ]
    assert (len(before["categories"]), len(before["sla"])) == (13, 3)
    assert before["calendars"] == [("Patient service centre", [0, 1, 2, 3, 4], dt.time(8, 0), dt.time(17, 30))]


@pytest.mark.django_db
def test_syncing_twice_changes_nothing():
    rows, ids, reload_at = synced_rows(), row_ids(), beat_told_to_reload_at()

    sync_all()
    sync_all()

    assert synced_rows() == rows
    assert row_ids() == ids
    assert beat_told_to_reload_at() == reload_at


@pytest.mark.django_db
def test_migrate_keeps_an_admins_edits_to_the_defaults_and_schedules():
    item = SatisfactionItem.objects.get(code="fees")
    item.name, item.order, item.is_active = "Bills and fees", 5, False
    item.save()
    Category.objects.filter(code="other").update(name_en="Anything else", order=99)
    SlaPolicy.objects.filter(severity="urgent").update(first_response_value=15, resolution_unit="hours")
    WorkingCalendar.objects.update(weekdays=[0, 1, 2, 3, 4, 5], end_time=dt.time(20, 0))
    queue = PeriodicTask.objects.get(name="Generate the weekly call queue")
    queue.enabled = False
    queue.crontab = CrontabSchedule.objects.create(minute="15", hour="2", day_of_week="1", timezone="Asia/Shanghai")
    queue.save()
    edited = synced_rows()

    call_command("migrate", interactive=False, verbosity=0)

    assert synced_rows() == edited
    assert SatisfactionItem.objects.filter(code="fees").values_list("name", "order", "is_active").get() == (
        "Bills and fees",
        5,
        False,
    )
    assert PeriodicTask.objects.filter(name="Generate the weekly call queue").values_list(
        "enabled", "crontab__hour", "crontab__minute"
    ).get() == (False, "2", "15")


@pytest.mark.django_db
def test_migrate_puts_back_a_default_or_schedule_that_is_missing():
    before = synced_rows()
    SatisfactionItem.objects.filter(code="environment").delete()
    Category.objects.filter(code="suggestion").delete()
    SlaPolicy.objects.filter(severity="major").delete()
    WorkingCalendar.objects.all().delete()
    PeriodicTask.objects.filter(name="Flag late complaints").delete()
    PeriodicTasks.objects.all().delete()  # deleting a task bumps it: start from none

    call_command("migrate", interactive=False, verbosity=0)

    assert synced_rows() == before
    # A running beat reads the new schedule without a restart.
    assert beat_told_to_reload_at() is not None


@pytest.mark.django_db
def test_migrate_gives_each_role_exactly_its_permissions_again():
    nurses = Group.objects.get(name=Role.NURSE)
    nurses.permissions.remove(Permission.objects.get(content_type__app_label="calls", codename="add_callattempt"))
    nurses.permissions.add(Permission.objects.get(content_type__app_label="followup", codename="view_auditevent"))
    Group.objects.filter(name=Role.COMPLAINT_OFFICER).delete()

    call_command("migrate", interactive=False, verbosity=0)

    held = synced_rows()["roles"]
    assert {role: set(perms) for role, perms in held.items()} == {
        str(role): set(perms) for role, perms in ROLE_PERMISSIONS.items()
    }
