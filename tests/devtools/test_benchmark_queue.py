"""benchmark_queue measures the generation of its own department's calls
against an INSERT ... SELECT into a trigger-free copy of the calls table, on a
database that also holds other data (here: the demo), and leaves that data
as it found it."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from calls.models import DashboardDay, Department, FollowUpCall, Patient
from followup.models import User

pytestmark = [
    # as on a developer's database: every statement commits (VACUUM, TRUNCATE and DROP need it)
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark measures PostgreSQL"),
]


def tables_like(pattern: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE %s", [pattern])
        return [name for (name,) in cursor.fetchall()]


def test_benchmark_queue_beside_the_demo_generates_counts_and_removes_only_its_own_calls(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    demo = (
        FollowUpCall.objects.count(),
        list(DashboardDay.objects.exclude(calls=0).order_by("pk").values_list("pk", "calls")),
        Patient.objects.count(),
        User.objects.count(),
    )
    out = StringIO()

    call_command("benchmark_queue", discharges=30, repeat=2, stdout=out)

    lines = out.getvalue().splitlines()
    table = [line.split("|")[1:3] for line in lines if line.startswith("| ") and not line.startswith("| measure")]
    assert [label.strip() for label, _value in table] == [
        "discharges in the busy week",
        "first generation (best of 2)",
        "baseline: INSERT ... SELECT into a trigger-free copy",
        "ratio generation / baseline",
        "identical rows from both",
        "dashboard summary equals a recount of the calls",
        "immediate re-run",
        "peak Python memory of a generation",
        "peak RSS during the first generation",
        "(same INSERT ... SELECT into a bare temporary table)",
        "generation by risk tier (best of 2)",
    ]
    values = {label.strip(): value.strip() for label, value in table}
    assert values["discharges in the busy week"] == "30"
    assert values["identical rows from both"] == "yes"
    assert values["dashboard summary equals a recount of the calls"] == "yes"
    assert values["ratio generation / baseline"].endswith("x (target <= 1.5x)")
    assert "% (target <= +10%): the step limited to every tier" in values["generation by risk tier (best of 2)"]
    assert lines[-2].startswith("load average ")
    assert lines[-1] == "Cleaning up ..."
    after = (
        FollowUpCall.objects.count(),
        list(DashboardDay.objects.exclude(calls=0).order_by("pk").values_list("pk", "calls")),
        Patient.objects.count(),
        User.objects.count(),
    )
    assert after == demo
    assert not Department.objects.filter(code="BENCH-QUEUE").exists()
    assert tables_like("devtools_bench_queue%") == []
