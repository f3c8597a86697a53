import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from calls.models import Department, Discharge, FollowUpCall, Patient, RuleStep
from followup.models import User


@pytest.fixture(autouse=True)
def _debug_and_today(settings):
    settings.DEBUG = True
    with time_machine.travel(dt.datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


def snapshot():
    return (
        list(Patient.objects.order_by("pk").values()),
        list(Discharge.objects.order_by("pk").values()),
        list(FollowUpCall.objects.order_by("pk").values()),
        list(RuleStep.objects.order_by("pk").values()),
        sorted(Department.objects.values_list("code", "staff__username")),
    )


@pytest.mark.django_db
def test_seed_demo_adds_the_wards_rules_nurses_discharges_and_calls():
    call_command("seed_demo")
    assert Discharge.objects.count() == 300
    assert Counter(Discharge.objects.values_list("department__code", flat=True)) == {
        "CARD": 110,
        "BRST": 90,
        "ONCO": 50,
        "GSUR": 50,
    }
    cardiology = RuleStep.objects.filter(rule__department__code="CARD").order_by("offset_days")
    assert [(s.offset_days, s.weekdays, s.window_start, s.window_end) for s in cardiology] == [
        (7, [3], dt.time(16), dt.time(17)),
        (14, [3], dt.time(16), dt.time(17)),
    ]
    oncology = RuleStep.objects.get(rule__department__code="ONCO")
    assert (oncology.offset_days, oncology.early_days, oncology.late_days) == (4, 1, 1)
    nurse = User.objects.get(username="nurse")
    assert sorted(nurse.departments.values_list("code", flat=True)) == ["BRST", "CARD"]
    assert User.objects.get(username="card_zhou").grade == User.Grade.NURSE_PRACTITIONER
    # 4 deaths from the discharge seeder, more reported on past calls (demo_outcomes)
    deceased = Patient.objects.filter(deceased_on__isnull=False).count()
    statuses = Counter(FollowUpCall.objects.values_list("status", flat=True))
    assert deceased > 4
    assert statuses[FollowUpCall.Status.SCHEDULED] > 30  # this week and the weeks ahead
    assert statuses[FollowUpCall.Status.COMPLETED] > 100
    assert statuses[FollowUpCall.Status.UNREACHABLE] > 0
    assert statuses[FollowUpCall.Status.CANCELLED] > 0
    satisfied = FollowUpCall.objects.filter(satisfaction=FollowUpCall.Satisfaction.SATISFIED).count()
    assert 0.85 < satisfied / statuses[FollowUpCall.Status.COMPLETED] < 0.98
    assert FollowUpCall.objects.filter(assigned_to__isnull=True).count() == 0


@pytest.mark.django_db
def test_seed_demo_twice_changes_no_calls_data():
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first
