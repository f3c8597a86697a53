"""benchmark_dashboard times the dashboard beside the SQL of its aggregates,
in its own department, and leaves other departments' calls and summary rows
as it found them."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from calls.models import DashboardDay, Department, FollowUpCall, Patient, SatisfactionItem
from complaints.models import Complaint
from followup.models import User
from tests.factories import DepartmentFactory, UserFactory, bulk_calls

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark measures PostgreSQL"),
]


def snapshot():
    return (
        list(DashboardDay.objects.exclude(calls=0).order_by("pk").values_list("pk", "calls")),
        FollowUpCall.objects.count(),
        Patient.objects.count(),
        User.objects.count(),
        Complaint.objects.count(),
        SatisfactionItem.objects.count(),
    )


def test_benchmark_dashboard_prints_page_and_sql_times_and_removes_only_its_own_rows():
    ward = DepartmentFactory(code="CARD")
    nurse = UserFactory(username="alice")
    bulk_calls(department=ward, rows=[{"due_date": dt.date(2026, 11, 20), "assigned_to": nurse}] * 3)
    before = snapshot()
    out = StringIO()

    call_command("benchmark_dashboard", calls=300, complaints=30, runs=2, force=True, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("seeded 300 calls and 30 complaints in ")
    assert " ".join(lines[1].split()) == (
        "range calls in range page median ms page p95 ms SQL median ms SQL p95 ms queries p95 ratio"
    )
    assert [line[:8].strip() for line in lines[2:4]] == ["4 weeks", "1 year"]
    assert [line.split()[-1][-1] for line in lines[2:4]] == ["x", "x"]
    assert lines[4] == "target: the page's p95 at most 2x the SQL's, for a year"
    assert lines[5].startswith("load average ")
    assert snapshot() == before
    assert not Department.objects.filter(code="BENCH-DASH").exists()
