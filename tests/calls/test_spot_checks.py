import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from calls.dashboard.tasks import sample_spot_checks
from calls.models import FollowUpCall, SpotCheck
from calls.services.spot_checks import sample_size, spot_check_review, spot_checks_sample
from followup.roles import Role
from tests.factories import DepartmentFactory, UserFactory, bulk_calls
from tests.pagination import Pager, pager

CST = dt.timezone(dt.timedelta(hours=8))
WEEK = dt.date(2026, 11, 16)  # a Monday
MONDAY_MORNING = dt.datetime(2026, 11, 23, 6, 0, tzinfo=CST)


@pytest.fixture
def ward(head_nurse):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(head_nurse)
    return department


def completed_by(nurse, count, when=dt.datetime(2026, 11, 19, 16, 30, tzinfo=CST)):
    return [
        {
            "due_date": when.date(),
            "status": FollowUpCall.Status.COMPLETED,
            "completed_at": when,
            "completed_by": nurse,
            "assigned_to": nurse,
        }
    ] * count


def nurses(*names):
    return [UserFactory(username=name, roles=[Role.NURSE]) for name in names]


@pytest.mark.parametrize(("completed", "expected"), [(0, 0), (1, 1), (9, 1), (10, 1), (11, 2), (25, 3)])
def test_sample_size_is_the_share_rounded_up_and_at_least_one(completed, expected):
    assert sample_size(completed, 0.1) == expected


def test_sampling_draws_the_share_of_each_nurses_completed_calls_of_that_week(ward, settings):
    settings.SPOT_CHECK_SHARE = 0.1
    alice, erin = nurses("alice", "erin")
    alice_calls = bulk_calls(department=ward, rows=completed_by(alice, 25))
    erin_calls = bulk_calls(department=ward, rows=completed_by(erin, 3))
    bulk_calls(department=ward, rows=completed_by(erin, 4, when=dt.datetime(2026, 11, 23, 0, 1, tzinfo=CST)))
    assert spot_checks_sample(week=WEEK) == 4
    sampled = set(SpotCheck.objects.values_list("call_id", flat=True))
    assert len(sampled & {c.pk for c in alice_calls}) == 3
    assert len(sampled & {c.pk for c in erin_calls}) == 1
    assert set(SpotCheck.objects.values_list("week", flat=True)) == {WEEK}


def test_sampling_twice_adds_nothing(ward):
    (alice,) = nurses("alice")
    bulk_calls(department=ward, rows=completed_by(alice, 30))
    assert spot_checks_sample(week=WEEK) == 3
    assert spot_checks_sample(week=WEEK) == 0
    assert SpotCheck.objects.count() == 3


def test_sampling_is_reproducible_for_the_same_week_and_nurse(ward):
    (alice,) = nurses("alice")
    calls = bulk_calls(department=ward, rows=completed_by(alice, 40))
    spot_checks_sample(week=WEEK)
    first = [calls.index(c) for c in FollowUpCall.objects.filter(spot_check__isnull=False).order_by("pk")]
    SpotCheck.objects.all().delete()
    spot_checks_sample(week=WEEK)
    again = [calls.index(c) for c in FollowUpCall.objects.filter(spot_check__isnull=False).order_by("pk")]
    assert first == again
    assert len(first) == 4


def test_weekly_task_samples_the_previous_week(ward):
    (alice,) = nurses("alice")
    bulk_calls(department=ward, rows=completed_by(alice, 5))
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert sample_spot_checks.apply().get() == 1
        assert sample_spot_checks.apply().get() == 0
    assert list(SpotCheck.objects.values_list("week", flat=True)) == [WEEK]


def test_spot_check_schedule_is_monday_six_in_the_morning(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.select_related("crontab").get(name="Sample spot checks")
    assert (task.task, task.crontab.hour, task.crontab.minute, task.crontab.day_of_week) == (
        "calls.sample_spot_checks",
        "6",
        "0",
        "1",
    )


def _checks(ward, count, reviewed=0):
    (alice,) = nurses("alice")
    calls = bulk_calls(department=ward, rows=completed_by(alice, count))
    now = MONDAY_MORNING
    return SpotCheck.objects.bulk_create(
        [
            SpotCheck(
                call=c, week=WEEK, sampled_at=now, **({"verdict": "good", "reviewed_at": now} if i < reviewed else {})
            )
            for i, c in enumerate(calls)
        ]
    )


@pytest.mark.parametrize("role_user", ["nurse", "officer", "no_role_user"])
def test_spot_check_review_page_refuses_other_roles(client_for, request, ward, role_user):
    [check] = _checks(ward, 1)
    user = request.getfixturevalue(role_user)
    assert client_for(user).get(reverse("calls:spot_check_detail", args=[check.pk])).status_code == 403


def test_spot_check_of_another_department_is_not_found(client_for, head_nurse, ward):
    other = DepartmentFactory(code="ONC")
    [check] = _checks(other, 1)
    client = client_for(head_nurse)
    assert client.get(reverse("calls:spot_check_detail", args=[check.pk])).status_code == 404
    assert client.get(reverse("calls:spot_checks")).context["page"].paginator.count == 0


@pytest.mark.parametrize("count", [1, 3])
def test_spot_check_list_runs_a_fixed_number_of_queries(client_for, head_nurse, ward, count, django_assert_num_queries):
    _checks(ward, count)
    client = client_for(head_nurse)
    # session, user, roles, count, page rows, audit event, session save (3)
    with django_assert_num_queries(9):
        response = client.get(reverse("calls:spot_checks"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == count


def test_spot_check_list_filters_pending_and_done_and_by_week(client_for, head_nurse, ward):
    _checks(ward, 5, reviewed=2)
    client = client_for(head_nurse)
    count = lambda **params: client.get(reverse("calls:spot_checks"), params).context["page"].paginator.count  # noqa: E731
    assert (count(), count(state="pending"), count(state="done")) == (5, 3, 2)
    assert (count(week="2026-11-19"), count(week="2026-11-26")) == (5, 0)


def test_spot_check_list_pages_by_25_keeping_the_filters(client_for, head_nurse, ward):
    _checks(ward, 32, reviewed=2)
    client = client_for(head_nurse)

    first = client.get(reverse("calls:spot_checks"), {"state": "pending", "week": "2026-11-19"})
    assert pager(first) == Pager(current="Page 1 of 2", links={"Next": "?state=pending&week=2026-11-19&page=2"})

    second = client.get(reverse("calls:spot_checks") + pager(first).links["Next"])
    assert pager(second) == Pager(current="Page 2 of 2", links={"Previous": "?state=pending&week=2026-11-19&page=1"})
    assert len(second.context["page"].object_list) == 5


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_head_nurse_records_a_verdict_and_comment(client_for, head_nurse, ward):
    [check] = _checks(ward, 1)
    client = client_for(head_nurse)
    page = client.get(reverse("calls:spot_check_detail", args=[check.pk])).content.decode()
    assert f'href="/calls/{check.call_id}/"' in page
    response = client.post(
        reverse("calls:spot_check_detail", args=[check.pk]),
        {"verdict": "needs_improvement", "comment": "Did not book the next call."},
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert (check.verdict, check.comment, check.reviewer, check.reviewed_at) == (
        "needs_improvement",
        "Did not book the next call.",
        head_nurse,
        MONDAY_MORNING,
    )


def test_needs_improvement_without_a_comment_is_refused_in_plain_words(client_for, head_nurse, ward):
    [check] = _checks(ward, 1)
    response = client_for(head_nurse).post(
        reverse("calls:spot_check_detail", args=[check.pk]), {"verdict": "needs_improvement", "comment": " "}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"comment": ["Say what should be improved."]}
    check.refresh_from_db()
    assert check.reviewed_at is None


def test_review_service_refuses_an_unknown_verdict(ward, head_nurse):
    [check] = _checks(ward, 1)
    with pytest.raises(ValueError):
        spot_check_review(spot_check=check, by=head_nurse, verdict="excellent", comment="")


def test_celery_autodiscovers_the_spot_check_task(tmp_path):
    """A fresh process (this module already imported the task): the worker
    finds it through autodiscover_tasks(["calls.dashboard"])."""
    import os
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from followup.celery import app; "
        "app.loader.import_default_modules(); print('calls.sample_spot_checks' in app.tasks)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "followup.settings", "VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "True"
