"""A real MLLP round trip: the listener on a free loopback port in a thread,
a framed message over a socket, the framed ACK back."""

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading

import hl7
import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from calls.models import Discharge
from interop.hl7v2 import MLLP_END, MLLP_START, frame
from interop.mllp import MllpHandler, make_server
from interop.models import InboundMessage

from .conftest import adt

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener(db):
    """The real listener on a free loopback port, in a thread. Its connection
    threads share the test's database connection, as Django's live server
    tests do, so they see the test's data and the test's rollback undoes
    theirs: quicker than a transactional test's flush."""
    shared = connections[DEFAULT_DB_ALIAS]
    shared.inc_thread_sharing()

    class SharedConnectionHandler(MllpHandler):
        manage_connections = False

        def setup(self):
            connections[DEFAULT_DB_ALIAS] = shared
            super().setup()

    server = make_server("127.0.0.1", 0, SharedConnectionHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address
    server.shutdown()
    server.server_close()
    thread.join(5)
    shared.dec_thread_sharing()


def read_frame(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(MLLP_END):
        chunk = sock.recv(4096)
        assert chunk, "the listener closed the connection before the ACK ended"
        data += chunk
    assert data.startswith(MLLP_START)
    return data[1 : -len(MLLP_END)]


def test_message_over_mllp_is_stored_acknowledged_and_processed(
    listener, cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), socket.create_connection(listener, timeout=10) as sock:
        sock.sendall(frame(adt()))
        first = hl7.parse(read_frame(sock).decode("utf-8"))
        # Two messages on the same connection, the second split across writes.
        second_frame = frame(adt("A13", control_id="MSG0002", discharge=""))
        sock.sendall(second_frame[:25])
        sock.sendall(second_frame[25:])
        second = hl7.parse(read_frame(sock).decode("utf-8"))

    assert (str(first.segment("MSA")[1]), str(first.segment("MSA")[2])) == ("AA", "MSG0001")
    assert str(first.segment("MSH")[9]) == "ACK^A03^ACK"
    assert (str(second.segment("MSA")[1]), str(second.segment("MSA")[2])) == ("AA", "MSG0002")
    assert list(InboundMessage.objects.order_by("pk").values_list("control_id", "status")) == [
        ("MSG0001", "processed"),
        ("MSG0002", "processed"),
    ]
    discharge = Discharge.objects.get()
    assert (discharge.discharged_on, discharge.archived) == (dt.date(2026, 11, 20), True)


def test_bad_message_over_mllp_gets_an_error_ack(listener, cardiology, now, eager_celery):
    with socket.create_connection(listener, timeout=10) as sock:
        sock.sendall(frame(adt(pid3="")))
        ack = hl7.parse(read_frame(sock).decode("utf-8"))

    assert (str(ack.segment("MSA")[1]), str(ack.segment("MSA")[2])) == ("AE", "MSG0001")
    assert str(ack.segment("ERR")[3]) == "101^Required field missing^HL70357"
    assert (InboundMessage.objects.get().status, Discharge.objects.count()) == ("error", 0)


def test_hl7_listener_command_listens_and_stops_cleanly_on_sigterm():
    """The command as production runs it (docker stop sends SIGTERM)."""
    listener = subprocess.Popen(
        [sys.executable, "manage.py", "hl7_listener", "--host", "127.0.0.1", "--port", "0"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = listener.stdout.readline().strip()
        host, port = first_line.removeprefix("HL7 MLLP listener on ").rsplit(":", 1)
        assert host == "127.0.0.1"
        socket.create_connection((host, int(port)), timeout=10).close()
    finally:
        listener.send_signal(signal.SIGTERM)
        returncode = listener.wait(timeout=30)
    assert returncode == 0


def test_an_ack_to_a_sender_that_declared_no_character_set_is_plain_ascii(listener, cardiology, now, eager_celery):
    with socket.create_connection(listener, timeout=10) as sock:
        sock.sendall(frame(adt(charset="", ward="9Z^1^1")))
        raw = read_frame(sock)

    assert raw.isascii()
    ack = hl7.parse(raw.decode("ascii"))
    assert (
        str(ack.segment("MSA")[3]) == 'Unknown ward "9Z" from HIS/HOSP: add a ward mapping in the admin, then reproc...'
    )
    assert str(ack.segment("ERR")[8]) == (
        'Unknown ward "9Z" from HIS/HOSP: add a ward mapping in the admin, then reprocess.'
    )


def test_an_ack_in_the_declared_utf8_keeps_its_typography(listener, cardiology, now, eager_celery):
    with socket.create_connection(listener, timeout=10) as sock:
        sock.sendall(frame(adt(ward="9Z^1^1")))
        raw = read_frame(sock)

    assert str(hl7.parse(raw.decode("utf-8")).segment("ERR")[8]) == (
        "Unknown ward “9Z” from HIS/HOSP: add a ward mapping in the admin, then reprocess."
    )
