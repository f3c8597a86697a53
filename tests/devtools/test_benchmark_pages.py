from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from calls.models import Department, FollowUpCall, Patient
from followup.models import User

pytestmark = pytest.mark.django_db


def test_benchmark_pages_prints_the_table_and_removes_its_rows():
    out = StringIO()

    call_command("benchmark_pages", calls=40, runs=2, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == f"seeded 40 calls in {lines[0].split(' in ')[1]}"
    assert [line[:26].strip() for line in lines[2:9]] == [
        "page",
        "baseline: trivial page",
        "keep-alive (no page)",
        "worklist (today)",
        "worklist (all, page 40)",
        "call screen",
        "worklist (head nurse)",
    ]
    assert lines[3].split()[-3] == "1.00x"  # the baseline's p95 over itself
    assert lines[9] == "target: each page's p95 at most 3x the baseline's"
    assert lines[10].startswith("load average ")
    assert (
        Department.objects.filter(code="BENCH-PAGES").count(),
        FollowUpCall.objects.count(),
        Patient.objects.count(),
        User.objects.filter(username__startswith="bench-", is_active=True).count(),
    ) == (0, 0, 0, 0)


def test_benchmark_pages_keeps_rows_when_asked_and_reuses_them():
    call_command("benchmark_pages", calls=20, runs=1, keep=True, stdout=StringIO())
    out = StringIO()

    call_command("benchmark_pages", calls=20, runs=1, reuse=True, stdout=out)

    assert out.getvalue().splitlines()[0] == f"reusing 20 seeded calls ({connection.vendor})"
    assert FollowUpCall.objects.count() == 0
