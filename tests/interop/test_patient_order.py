"""Messages about one patient are processed in the order received, however
many workers run and whichever task a worker picks first: an A03 then an
A13 for the same stay always ends cancelled."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.db import connection, connections

from calls.models import Discharge, FollowUpCall
from interop.models import InboundMessage, Kind, WardMapping
from interop.services import hl7_message_receive
from interop.tasks import process_message
from tests.factories import DepartmentFactory, FollowUpRuleFactory, RuleStepFactory

from .conftest import NOW, adt


def store(text: str, capture) -> int:
    """Receive and store a message, its task not run (as when every worker is busy)."""
    with capture(execute=False):
        return hl7_message_receive(raw=text.encode("utf-8")).message.pk


def statuses() -> list[tuple[str, str]]:
    return list(InboundMessage.objects.order_by("pk").values_list("control_id", "status"))


@pytest.mark.django_db
def test_the_a13_task_run_first_processes_the_a03_before_it(cardiology, now, django_capture_on_commit_callbacks):
    discharge = store(adt(control_id="A03-1"), django_capture_on_commit_callbacks)
    cancel = store(adt("A13", control_id="A13-1", discharge=""), django_capture_on_commit_callbacks)

    assert process_message(cancel) == "processed"
    assert process_message(discharge) is None  # already done, in its turn

    assert statuses() == [("A03-1", "processed"), ("A13-1", "processed")]
    stay = Discharge.objects.get()
    assert stay.archived is True
    assert list(FollowUpCall.objects.values_list("status", "cancel_reason")) == [("cancelled", "discharge_cancelled")]
    assert InboundMessage.objects.get(control_id="A13-1").discharge == stay


@pytest.mark.django_db
def test_a_message_about_another_patient_does_not_wait(cardiology, now, django_capture_on_commit_callbacks):
    store(adt(control_id="X-1"), django_capture_on_commit_callbacks)
    other = store(adt(control_id="Y-1", pid3="ZY0002^^^HOSP^MR"), django_capture_on_commit_callbacks)

    process_message(other)

    assert statuses() == [("X-1", "received"), ("Y-1", "processed")]


@pytest.mark.django_db
def test_a_refused_or_ignored_message_holds_up_nobody(cardiology, now, django_capture_on_commit_callbacks):
    store(adt(control_id="BAD-1", ward="9Z"), django_capture_on_commit_callbacks)
    store(adt("A01", control_id="A01-1", discharge=""), django_capture_on_commit_callbacks)
    good = store(adt(control_id="A03-1"), django_capture_on_commit_callbacks)

    process_message(good)

    assert statuses() == [("BAD-1", "error"), ("A01-1", "ignored"), ("A03-1", "processed")]
    assert list(InboundMessage.objects.values_list("patient_key", flat=True).order_by("pk")) == ["", "", "ZY0001"]


@pytest.mark.django_db
def test_a_readmission_and_its_cancellation_keep_their_order(cardiology, now, django_capture_on_commit_callbacks):
    first = store(adt(control_id="M1", admit="20261101", discharge="20261105"), django_capture_on_commit_callbacks)
    second = store(adt(control_id="M2"), django_capture_on_commit_callbacks)
    cancel = store(adt("A13", control_id="M3", discharge=""), django_capture_on_commit_callbacks)

    for task in (cancel, second, first):  # a worker's queue in the worst order
        process_message(task)

    assert list(Discharge.objects.order_by("admitted_on").values_list("admitted_on__day", "archived")) == [
        (1, False),
        (16, True),
    ]


PATIENTS = 20


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads writing side by side need PostgreSQL; CI runs it there"
)
@pytest.mark.django_db(transaction=True)
def test_four_workers_taking_tasks_in_any_order_end_every_stay_cancelled(django_capture_on_commit_callbacks):
    """Four threads, each with its own database connection as a worker
    process has, take the tasks of 20 A03/A13 pairs: the A13 tasks first, so
    without the per-patient order most of them would find nothing to cancel.
    Run on PostgreSQL (CI), where the threads really write side by side."""
    department = DepartmentFactory(code="CARD")
    WardMapping.objects.create(kind=Kind.HL7, code="3A", department=department)
    RuleStepFactory(rule=FollowUpRuleFactory(department=department), offset_days=3)
    with time_machine.travel(NOW, tick=False):
        pairs = []
        for n in range(PATIENTS):
            mrn = f"ZY{n:04d}^^^HOSP^MR"
            pairs.append(
                (
                    store(adt(control_id=f"D{n}", pid3=mrn), django_capture_on_commit_callbacks),
                    store(adt("A13", control_id=f"C{n}", pid3=mrn, discharge=""), django_capture_on_commit_callbacks),
                )
            )
        tasks = [cancel for _discharge, cancel in pairs] + [discharge for discharge, _cancel in pairs]
        start = threading.Barrier(4)

        def worker(share: list[int]) -> list:
            start.wait()
            try:
                return [process_message(task) for task in share]
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(worker, [tasks[i::4] for i in range(4)]))

    assert sorted(str(r) for share in results for r in share) == ["None"] * PATIENTS + ["processed"] * PATIENTS
    assert list(Discharge.objects.values_list("archived", flat=True)) == [True] * PATIENTS
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {"processed"}
    assert InboundMessage.objects.filter(control_id__startswith="C", discharge__isnull=True).count() == 0
    assert set(FollowUpCall.objects.values_list("status", flat=True)) == {"cancelled"}
