"""Two generation runs overlapping on separate database connections (the
weekly beat task and a nurse's registration, or two workers given the same
task): no call is duplicated and the two runs' counts add up exactly.

In CI (DATABASE_URL on PostgreSQL) the two runs really overlap. SQLite allows
one writer at a time, so there the same code runs one thread after the other."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection

from calls.models import Department, Discharge, FollowUpCall, FollowUpRule, Patient, RuleStep
from calls.services.queue import GenerationResult, generate_calls
from tests.factories import DepartmentFactory, DischargeFactory, RuleStepFactory

MON_W48 = dt.date(2026, 11, 23)


def run_concurrently(count: int) -> list[GenerationResult]:
    overlap = connection.vendor != "sqlite"
    barrier = threading.Barrier(count if overlap else 1)
    results: list = [None] * count
    errors: list = []

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = generate_calls(week=MON_W48)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
        if not overlap:
            thread.join()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def delete_test_data(departments) -> None:
    FollowUpCall.objects.filter(discharge__department__in=departments).delete()
    patients = list(Discharge.objects.filter(department__in=departments).values_list("patient", flat=True))
    Discharge.objects.filter(department__in=departments).delete()
    Patient.objects.filter(pk__in=patients).delete()
    RuleStep.objects.filter(rule__department__in=departments).delete()
    FollowUpRule.objects.filter(department__in=departments).delete()
    Department.objects.filter(pk__in=[d.pk for d in departments]).delete()


def test_two_overlapping_runs_create_each_call_once_and_count_it_once(django_db_setup, django_db_blocker):
    # Committed data (the threads use their own connections) in autocommit
    # mode, removed at the end by hand: quicker than transactional_db, whose
    # flush empties every table and syncs the roles and defaults again.
    with django_db_blocker.unblock():
        departments = [DepartmentFactory(), DepartmentFactory()]
        try:
            check_overlapping_runs(departments)
        finally:
            delete_test_data(departments)


def check_overlapping_runs(departments) -> None:
    for department in departments:
        step = RuleStepFactory(rule__department=department, offset_days=7, weekdays=[0, 1, 2, 3, 4])
        RuleStepFactory(rule=step.rule, offset_days=4, weekdays=[0, 1, 2, 3, 4])
        for day in range(16, 23):
            DischargeFactory.create_batch(5, department=department, discharged_on=dt.date(2026, 11, day))
    with time_machine.travel(dt.datetime(2026, 11, 23, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        first, second = run_concurrently(2)
    expected = FollowUpCall.objects.filter(discharge__department__in=departments).count()
    assert expected == 2 * 2 * 7 * 5  # departments x steps x discharge days x discharges a day
    assert first.created + second.created == expected
    assert first.created + first.already_present == expected
    assert second.created + second.already_present == expected
    assert (first.missed, second.missed) == (0, 0)
    calls = FollowUpCall.objects.filter(discharge__department__in=departments)
    assert calls.values("discharge", "step").distinct().count() == expected
