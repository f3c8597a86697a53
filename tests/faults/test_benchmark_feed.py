"""benchmark_feed end to end, small: its own listener and two real workers
on the test's PostgreSQL database and the test's own Redis, 20 messages
over two connections; every figure printed, every check passed, its rows
removed afterwards."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from calls.models import Department, Discharge, Patient
from interop.models import InboundMessage
from tests.faults.conftest import fail_unless_postgresql, requires_postgresql

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), requires_postgresql]


def test_benchmark_feed_sends_processes_checks_and_cleans_up(own_broker):
    fail_unless_postgresql()
    out = StringIO()

    call_command("benchmark_feed", messages=20, connections=2, workers=2, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("benchmark_feed: 20 ADT^A03 over 2 MLLP connection(s), 2 worker(s), postgresql ")
    assert re.fullmatch(r"baseline: INSERT \+ COMMIT of one message into a plain table: [0-9.]+ ms", lines[1])
    assert re.fullmatch(r"ACKs: 20 in [0-9.]+ s = [0-9.]+/s \([0-9.]+ ms each, [0-9.]+x baseline\)", lines[2])
    assert re.fullmatch(r"stored discharges: 20 in [0-9.]+ s end to end = [0-9.]+/s", lines[3])
    assert re.fullmatch(
        r"worker time per message: median [0-9.]+ ms, p95 [0-9.]+ ms, mean [0-9.]+ ms over 20 tasks = [0-9.]+x "
        r"baseline \(target <= 25 ms: (met|missed)\)",
        lines[4],
    )
    assert lines[5].startswith("worker CPU per message: ")
    assert lines[6] == (
        "checks: 20 messages, 20 processed, 20 discharges, 20 patients, 20 distinct references, 0 refused ACKs: "
        "none lost, none twice"
    )
    assert (
        InboundMessage.objects.count(),
        Discharge.objects.count(),
        Patient.objects.count(),
        Department.objects.filter(code="BENCHFEED").count(),
    ) == (0, 0, 0, 0)
