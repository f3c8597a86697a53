"""benchmark_import measures the import of its own synthetic ward export
beside a COPY of the same file into a plain table, on a database that also
holds other data, and leaves that data as it found it."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from calls.models import Department, Discharge, FollowUpCall, Patient
from calls.services.queue import generate_calls
from followup.dates import week_bounds
from followup.models import User
from tests.factories import DischargeFactory, RuleStepFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark measures PostgreSQL"),
]


def test_benchmark_import_beside_other_data_imports_measures_and_removes_only_its_own_rows():
    other = DischargeFactory()
    RuleStepFactory(rule__department=other.department, offset_days=0)
    generate_calls(week=week_bounds(other.discharged_on)[0], discharges=[other])
    before = (Patient.objects.count(), Discharge.objects.count(), FollowUpCall.objects.count(), User.objects.count())
    out = StringIO()

    call_command("benchmark_import", rows=60, again=True, force=True, stdout=out)

    lines = out.getvalue().splitlines()
    table = [line.split("|")[1:3] for line in lines if line.startswith("| ") and not line.startswith("| measure")]
    assert [label.strip() for label, _value in table] == [
        "rows in the file",
        "import (read, check, write, audit, calls)",
        "baseline: COPY of the file into a plain table",
        "ratio import / COPY",
        "CPU: this process / its PostgreSQL backend",
        "peak RSS during the import",
        "stays and calls created",
        "the same import without risk and outcome ledger",
        "rows/s lost to risk and outcome ledger",
        "of which the scoring code, timed inside the import",
        "the same file again (all unchanged updates)",
    ]
    values = {label.strip(): value.strip() for label, value in table}
    assert values["rows in the file"].startswith("60 (")
    assert values["import (read, check, write, audit, calls)"].endswith("rows/s (target >= 2,000 rows/s)")
    assert values["ratio import / COPY"].endswith("x")
    assert values["stays and calls created"].startswith("60 stays, ")
    assert (
        "rows/s (the faster of a run before and after); CPU "
        in values["the same import without risk and outcome ledger"]
    )
    assert re.fullmatch(
        r"-?\d+\.\d% of the wall time, -?\d+\.\d% of the CPU time \(target <= 10%\)",
        values["rows/s lost to risk and outcome ledger"],
    )
    assert "% of the import's time, " in values["of which the scoring code, timed inside the import"]
    # The measured import scored its stays: the one without scoring was removed before it.
    assert "the import scored no stay" not in out.getvalue()
    assert ", 60 updated; CPU " in values["the same file again (all unchanged updates)"]
    assert lines[-2].startswith("load average ")
    assert lines[-1] == "Cleaning up ..."
    after = (Patient.objects.count(), Discharge.objects.count(), FollowUpCall.objects.count(), User.objects.count())
    assert after == before
    assert not Department.objects.filter(code="BENCH-IMPORT").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'devtools_bench_import%%'")
        assert cursor.fetchone() == (0,)


def test_benchmark_import_refuses_a_department_left_by_an_interrupted_run():
    Department.objects.create(code="BENCH-IMPORT", name="left over")
    with pytest.raises(CommandError, match=r"^Department BENCH-IMPORT exists"):
        call_command("benchmark_import", rows=5, stdout=StringIO())
