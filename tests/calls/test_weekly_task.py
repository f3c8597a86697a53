import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from calls.models import FollowUpCall
from calls.tasks import generate_weekly_queue
from followup.celery import app
from followup.schedules import PERIODIC_TASKS
from tests.factories import DischargeFactory, RuleStepFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def week_48_discharges():
    step = RuleStepFactory(offset_days=7, weekdays=[3])
    for day in (16, 17, 18):
        DischargeFactory(department=step.rule.department, discharged_on=dt.date(2026, 11, day))
    return step


def test_every_scheduled_task_name_is_a_registered_task():
    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks.py
    for task_name, _cron in PERIODIC_TASKS.values():
        assert app.tasks[task_name].name == task_name
    assert PeriodicTask.objects.get(name="Generate the weekly call queue").task == "calls.generate_weekly_queue"


def test_task_without_arguments_generates_the_current_week_in_the_hospital_time_zone(week_48_discharges):
    # Sunday 22 November 17:00 UTC is Monday 23 November 01:00 in Shanghai: week 48.
    with time_machine.travel(dt.datetime(2026, 11, 22, 17, 0, tzinfo=dt.UTC), tick=False):
        assert generate_weekly_queue.apply().get() == {
            "created": 3,
            "already_present": 0,
            "missed": 0,
            "failed_departments": [],
        }
        assert generate_weekly_queue.apply().get() == {
            "created": 0,
            "already_present": 3,
            "missed": 0,
            "failed_departments": [],
        }
    assert FollowUpCall.objects.count() == 3


def test_task_takes_an_iso_week(week_48_discharges):
    with time_machine.travel(dt.datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        assert generate_weekly_queue.apply(kwargs={"week": "2026-W47"}).get() == {
            "created": 0,
            "already_present": 0,
            "missed": 0,
            "failed_departments": [],
        }
        assert generate_weekly_queue.apply(kwargs={"week": "2026-W48"}).get() == {
            "created": 3,
            "already_present": 0,
            "missed": 0,
            "failed_departments": [],
        }


def test_command_prints_created_already_present_and_missed(week_48_discharges, capsys):
    with time_machine.travel(dt.datetime(2026, 12, 8, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        call_command("generate_calls", "--week", "2026-W48")
        first = capsys.readouterr().out
        call_command("generate_calls", "--week", "2026-W48")
        second = capsys.readouterr().out
    # Today is 8 December: the calls of 23-25 November were allowed until 30 November-2 December.
    assert first == (
        "Week 2026-W48 (2026-11-23 to 2026-11-29)\ncreated:         0\nalready present: 0\nmissed:          3\n"
    )
    assert second == (
        "Week 2026-W48 (2026-11-23 to 2026-11-29)\ncreated:         0\nalready present: 3\nmissed:          0\n"
    )
    assert set(FollowUpCall.objects.values_list("status", flat=True)) == {FollowUpCall.Status.MISSED}


def test_command_refuses_a_badly_written_week():
    with pytest.raises(CommandError, match=r"^--week must look like 2026-W48, got '48'$"):
        call_command("generate_calls", "--week", "48")
