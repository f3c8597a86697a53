"""The hospital feed end to end with every part real: ``manage.py
hl7_listener`` as its own process on a loopback port, a Celery worker
process, our own redis-server as the broker, and the database they share
with the test (PostgreSQL in CI, a migrated SQLite file on a laptop; see
shared_db.py).

An ADT^A03 goes in over MLLP through python-hl7's MLLP client (as the
hospital's interface engine would send it, not through our own framing
code) and is acknowledged; the worker turns the stored message into the
patient, the discharge and the calls the ward's rule asks for this week. The
same message sent again is acknowledged as a duplicate and changes nothing.

It lives with the fault tests because the real broker, worker and shared
database fixtures are here (tests/faults/conftest.py)."""

import asyncio
import datetime as dt
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import hl7
import pytest
from django.conf import settings
from django.utils import timezone
from hl7.mllp import open_hl7_connection

from calls.models import Discharge, FollowUpCall
from interop.tasks import process_message
from tests.faults.helpers import wait_for
from tests.faults.worker_jobs import FEED_DEPARTMENT, FEED_STEP_OFFSETS, FEED_WARD
from tests.interop.conftest import adt

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PROCESSING = process_message.name
LISTENING = re.compile(r"^HL7 MLLP listener on 127\.0\.0\.1:(\d+)$", re.MULTILINE)


class Listener:
    """``manage.py hl7_listener`` as production runs it, on the shared
    database and the test's own broker. Port 0: the system picks a free
    port and the command prints it."""

    def __init__(self, env: dict[str, str], folder: Path):
        self.log_path = folder / "hl7_listener.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "hl7_listener", "--host", "127.0.0.1", "--port", "0"],
                cwd=settings.BASE_DIR,
                env={**env, "PYTHONUNBUFFERED": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text()

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens, once it has started (it starts while the test sets up the rest)."""
        wait_for(lambda: LISTENING.search(self.log()), what="the listener", timeout=30, logs={"listener": self.log})
        return "127.0.0.1", int(LISTENING.search(self.log())[1])

    def stop(self) -> None:  # as docker stop does
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


@pytest.fixture
def hl7_listener(shared_database, tmp_path):
    listener = Listener(shared_database.env, tmp_path)
    yield listener
    listener.stop()


def send(address: tuple[str, int], message: str) -> hl7.Message:
    """Send one message and read its framed ACK, within 10 seconds."""

    async def exchange() -> hl7.Message:
        reader, writer = await open_hl7_connection(*address, encoding="utf-8")
        try:
            writer.writemessage(message)
            await writer.drain()
            return await reader.readmessage()
        finally:
            writer.close()
            await writer.wait_closed()

    # In a thread of its own: in the whole suite the browser tests' sync
    # Playwright keeps an event loop running in the main thread.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, asyncio.wait_for(exchange(), timeout=10)).result()


def msa(ack: hl7.Message) -> tuple[str, str, str]:
    segment = ack.segment("MSA")
    return str(segment[1]), str(segment[2]), str(segment[3])


def test_a_discharge_sent_over_mllp_is_processed_by_the_worker_into_its_calls_and_a_resend_changes_nothing(
    shared_database, start_worker, hl7_listener
):
    shared_database.seed_feed_ward()
    worker = start_worker("feed")
    logs = {"worker": worker.log, "listener": hl7_listener.log}
    today = timezone.localdate()
    # Discharged as many days ago as the rule's first step waits: that call is due today.
    discharged = today - dt.timedelta(days=FEED_STEP_OFFSETS[0])
    admitted = discharged - dt.timedelta(days=4)
    message = adt(
        control_id="E2E0001",
        ward=f"{FEED_WARD}^301^2^HOSP",
        admit=f"{admitted:%Y%m%d}093000",
        discharge=f"{discharged:%Y%m%d}103000",
    )

    ack = send(hl7_listener.address, message)
    assert msa(ack) == ("AA", "E2E0001", "Accepted.")
    wait_for(
        lambda: shared_database.message_statuses() not in ([], [("E2E0001", "received")]),
        what="the worker to process the message",
        timeout=30,
        logs=logs,
    )

    processed = shared_database.feed_state()
    assert processed == {
        "messages": [
            {
                "kind": "hl7",
                "sender": "HIS/HOSP",
                "control_id": "E2E0001",
                "event_type": "ADT^A03",
                "status": "processed",
                "error": "",
                "warnings": "",
                "discharge__source_reference": "HIS/HOSP:E2E0001",
            }
        ],
        "patients": [
            {"mrn": "ZY0001", "name": "张三", "sex": "F", "birth_date": "1960-05-17", "phone": "+8613812345678"}
        ],
        "discharges": [
            {
                "patient__mrn": "ZY0001",
                "department__code": FEED_DEPARTMENT,
                "admitted_on": admitted.isoformat(),
                "discharged_on": discharged.isoformat(),
                "diagnosis": "冠心病",
                "icd10": "I25.1",
                "attending_doctor": "李四",
                "source": "hl7",
                "source_reference": "HIS/HOSP:E2E0001",
                "archived": False,
            }
        ],
        # The first step's call is due today, at the start of its calling
        # window; the second step's falls in a later week, whose weekly run
        # creates it.
        "calls": [
            {
                "discharge__source_reference": "HIS/HOSP:E2E0001",
                "step_offset_days": FEED_STEP_OFFSETS[0],
                "due_date": today.isoformat(),
                "scheduled_for": dt.datetime.combine(
                    today, dt.time(14), tzinfo=timezone.get_default_timezone()
                ).isoformat(),
                "status": "scheduled",
            }
        ],
    }

    again = send(hl7_listener.address, message)
    assert msa(again) == (
        "AA",
        "E2E0001",
        "Duplicate of message E2E0001, already received: not processed again.",
    )
    # A task the resend queued would be ahead of this one in the queue, so
    # once the worker has run it the resend has had all its effects. (No
    # inbound message has id 0: the task finds nothing to do.)
    last = process_message.delay(0)
    wait_for(
        lambda: f"[{last.id}] succeeded" in worker.log(),
        what="the worker to reach the last task",
        timeout=30,
        logs=logs,
    )
    assert worker.results(PROCESSING) == ["processed", None]
    assert shared_database.feed_state() == processed


PAIRS = 20


def test_two_workers_keep_each_patients_order_so_every_cancelled_discharge_ends_cancelled(
    shared_database, start_worker, hl7_listener
):
    """The issue's trial: an A03, then after its AA an A13 for the same
    patient, 20 times, with two workers taking the tasks: each A13 must
    find and cancel its stay, never overtake it."""
    shared_database.seed_feed_ward()
    workers = [start_worker("first"), start_worker("second")]
    logs = {"first": workers[0].log, "second": workers[1].log, "listener": hl7_listener.log}
    today = timezone.localdate()
    discharged, admitted = today - dt.timedelta(days=1), today - dt.timedelta(days=5)
    for n in range(PAIRS):
        mrn = f"ORD{n:04d}^^^HOSP^MR"
        common = {"pid3": mrn, "ward": f"{FEED_WARD}^301^2^HOSP", "admit": f"{admitted:%Y%m%d}0930"}
        assert (
            msa(send(hl7_listener.address, adt(control_id=f"D{n}", discharge=f"{discharged:%Y%m%d}1030", **common)))[0]
            == "AA"
        )
        assert msa(send(hl7_listener.address, adt("A13", control_id=f"C{n}", discharge="", **common)))[0] == "AA"

    wait_for(
        lambda: "received" not in {status for _id, status in shared_database.message_statuses()},
        what="both workers to process every message",
        timeout=120,
        logs=logs,
    )
    assert {status for _id, status in shared_database.message_statuses()} == {"processed"}
    stays_sql = f"SELECT archived, count(*) FROM {Discharge._meta.db_table} GROUP BY archived"  # noqa: S608  # nosec B608
    stays = shared_database.query(stays_sql, [])
    assert [(bool(archived), count) for archived, count in stays] == [(True, PAIRS)]
    calls_sql = f"SELECT status, count(*) FROM {FollowUpCall._meta.db_table} GROUP BY status"  # noqa: S608  # nosec B608
    calls = shared_database.query(calls_sql, [])
    assert [(status, count) for status, count in calls] == [("cancelled", PAIRS)]
    # Both workers took part.
    assert all(worker.results(PROCESSING) for worker in workers)
