"""A real MLLP round trip: the listener on a free loopback port in a thread,
a framed message over a socket, the framed ACK back."""

import datetime as dt
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

import hl7
import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from calls.models import Discharge
from interop.hl7v2 import MLLP_END, MLLP_START, frame
from interop.mllp import ListenerLimits, MllpHandler, make_server, parse_networks, tls_context
from interop.models import InboundMessage

from .conftest import adt

pytestmark = pytest.mark.django_db


@pytest.fixture
def start_listener(db):
    """``start_listener(limits)`` runs the real listener on a free loopback
    port, in a thread. Its connection threads share the test's database
    connection, as Django's live server tests do, so they see the test's data
    and the test's rollback undoes theirs: quicker than a transactional
    test's flush."""
    shared = connections[DEFAULT_DB_ALIAS]
    shared.inc_thread_sharing()
    servers = []

    class SharedConnectionHandler(MllpHandler):
        manage_connections = False

        def setup(self):
            connections[DEFAULT_DB_ALIAS] = shared
            super().setup()

    def start(limits: ListenerLimits | None = None):
        server = make_server("127.0.0.1", 0, SharedConnectionHandler, limits)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return server.server_address

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(5)
    shared.dec_thread_sharing()


@pytest.fixture
def listener(start_listener):
    return start_listener()


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


# --- the listener's guards --------------------------------------------------------------------------


def limits(**changes) -> ListenerLimits:
    """The test's guards: loopback allowed, generous unless the test says."""
    values = {"allowed": parse_networks(["127.0.0.1"]), "max_connections": 5, "idle_seconds": 10, "max_bytes": 65536}
    return ListenerLimits(**{**values, **changes})


def closed_without_answer(sock: socket.socket) -> bool:
    """The listener closed the connection (or reset it) without a byte."""
    try:
        return sock.recv(4096) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True


def exchange(address, message: bytes, **tls) -> hl7.Message:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(frame(message.decode("utf-8")) if isinstance(message, bytes) else frame(message))
        return hl7.parse(read_frame(sock).decode("utf-8"))


def msa_of(ack: hl7.Message) -> tuple[str, str, str]:
    segment = ack.segment("MSA")
    return str(segment[1]), str(segment[2]), str(segment[3])


def test_an_address_not_on_the_allow_list_is_disconnected_before_anything_is_read(start_listener, cardiology):
    address = start_listener(limits(allowed=parse_networks(["10.0.0.0/8", "192.168.1.7"])))

    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(frame(adt()))
        assert closed_without_answer(sock)

    assert InboundMessage.objects.count() == 0


@pytest.mark.parametrize(
    ("peer", "allowed"),
    [("10.1.2.3", True), ("::ffff:10.1.2.3", True), ("10.2.0.1", False), ("fe80::1%eth0", False), ("nonsense", False)],
)
def test_the_allow_list_reads_networks_and_ipv4_mapped_addresses(peer, allowed):
    server = make_server("127.0.0.1", 0, limits=limits(allowed=parse_networks(["10.1.0.0/16", "::1"])))
    try:
        assert server.allowed(peer) is allowed
    finally:
        server.server_close()


def test_a_wrong_allow_list_entry_stops_the_listener_with_its_name():
    with pytest.raises(ValueError, match=r"10\.0\.0\.300"):
        parse_networks(["10.0.0.300"])


def test_one_connection_over_the_cap_is_closed_and_a_freed_slot_serves_again(
    start_listener, cardiology, now, eager_celery
):
    address = start_listener(limits(max_connections=2))
    first = socket.create_connection(address, timeout=10)
    second = socket.create_connection(address, timeout=10)
    try:
        with socket.create_connection(address, timeout=10) as third:
            assert closed_without_answer(third)
        first.close()
        deadline = time.monotonic() + 10
        while True:  # the slot frees once the listener has seen the close
            try:
                ack = exchange(address, adt())
                break
            except (AssertionError, ConnectionResetError):
                assert time.monotonic() < deadline, "the freed slot never served again"
                time.sleep(0.05)
        assert msa_of(ack)[:2] == ("AA", "MSG0001")
    finally:
        first.close()
        second.close()


def test_a_silent_connection_is_closed_after_the_idle_time(start_listener, cardiology, now, eager_celery):
    address = start_listener(limits(idle_seconds=0.3))

    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(frame(adt()))
        assert hl7.parse(read_frame(sock).decode("utf-8")).segment("MSA")[1][0] == "AA"
        time.sleep(0.6)
        assert closed_without_answer(sock)


def test_a_frame_over_the_limit_is_refused_while_it_arrives_and_the_connection_goes_on(
    start_listener, cardiology, now, eager_celery
):
    address = start_listener(limits(max_bytes=4096))
    huge = adt(control_id="BIG0001", extra=("ZXX|" + "x" * 300_000,))

    with socket.create_connection(address, timeout=10) as sock:
        big = frame(huge)
        for start in range(0, len(big), 7000):  # as a sender writes it, in pieces
            sock.sendall(big[start : start + 7000])
        refused = hl7.parse(read_frame(sock).decode("utf-8"))
        sock.sendall(frame(adt(control_id="MSG0002")))
        accepted = hl7.parse(read_frame(sock).decode("utf-8"))

    size = len(huge.encode("utf-8"))
    assert msa_of(refused) == ("AR", "BIG0001", f"The message is larger than 4096 bytes ({size} bytes): refused.")
    assert msa_of(accepted)[:2] == ("AA", "MSG0002")
    kept = InboundMessage.objects.get(control_id="BIG0001")
    assert (kept.status, kept.sender, kept.event_type) == ("error", "HIS/HOSP", "ADT^A03")
    assert len(kept.payload.encode("utf-8")) <= 8192
    assert InboundMessage.objects.get(control_id="MSG0002").status == "received"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (adt(name="张^\x00三").encode("utf-8"), "The message contains NUL bytes, which HL7 text never holds."),
        (
            adt(name="ABC^DEF").encode("utf-8").replace(b"ABC", b"\xff\xfe\x00"),
            "The message is not valid UTF-8 text and MSH-18 names no other character set we can read.",
        ),
    ],
    ids=["nul", "undecodable-with-nul"],
)
def test_nul_and_undecodable_bytes_are_answered_ar_and_kept(start_listener, raw, reason, cardiology, now, eager_celery):
    address = start_listener(limits())

    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(MLLP_START + raw + MLLP_END)
        refused = hl7.parse(read_frame(sock).decode("utf-8"))
        sock.sendall(frame(adt(control_id="MSG0002")))
        accepted = hl7.parse(read_frame(sock).decode("utf-8"))

    assert msa_of(refused)[:2] == ("AR", "MSG0001")
    assert str(refused.segment("ERR")[8]) == reason
    assert msa_of(accepted)[:2] == ("AA", "MSG0002")
    kept = InboundMessage.objects.get(control_id="MSG0001")
    assert (kept.status, "\x00" in kept.payload, "\ufffd" in kept.payload) == ("error", False, True)


# --- MLLP over TLS --------------------------------------------------------------------------------


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, the listener's certificate for 127.0.0.1, a client certificate
    that CA signed and one a stranger's CA signed (openssl, as an
    administrator would make them)."""
    folder = tmp_path_factory.mktemp("pki")

    def path(name: str) -> str:
        return str(folder / name)

    for ca in ("ca", "stranger"):
        key, certificate = path(f"{ca}.key"), path(f"{ca}.pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={ca}", "-keyout", key)
        openssl("req", "-x509", "-key", key, "-days", "2", "-subj", f"/CN={ca}", "-out", certificate)
    for name, ca, extension in (
        ("server", "ca", "subjectAltName=IP:127.0.0.1"),
        ("client", "ca", "extendedKeyUsage=clientAuth"),
        ("intruder", "stranger", "extendedKeyUsage=clientAuth"),
    ):
        key, request, extensions = path(f"{name}.key"), path(f"{name}.csr"), path(f"{name}.ext")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", key, "-out", request)
        (folder / f"{name}.ext").write_text(extension + "\n")
        signer = ["-CA", path(f"{ca}.pem"), "-CAkey", path(f"{ca}.key"), "-CAcreateserial"]
        openssl(
            "x509", "-req", "-in", request, *signer, "-days", "2", "-extfile", extensions, "-out", path(f"{name}.pem")
        )
    return path


def tls_client(pki, certificate: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=pki("ca.pem"))
    if certificate:
        context.load_cert_chain(pki(f"{certificate}.pem"), pki(f"{certificate}.key"))
    return context


def tls_exchange(address, context: ssl.SSLContext, message: str) -> hl7.Message | None:
    """The ACK, or None when the listener would not talk to this client."""
    try:
        with (
            socket.create_connection(address, timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
        ):
            sock.sendall(frame(message))
            data = b""
            while not data.endswith(MLLP_END):
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                data += chunk
            return hl7.parse(data[1 : -len(MLLP_END)].decode("utf-8"))
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return None


@pytest.fixture
def tls_listener(start_listener, pki):
    context = tls_context(cert=pki("server.pem"), key=pki("server.key"), client_ca=pki("ca.pem"))
    return start_listener(limits(tls=context))


def test_a_sender_with_a_certificate_the_ca_signed_is_served_over_tls(tls_listener, pki, cardiology, now, eager_celery):
    ack = tls_exchange(tls_listener, tls_client(pki, "client"), adt())

    assert msa_of(ack)[:2] == ("AA", "MSG0001")
    assert InboundMessage.objects.get().status == "received"


@pytest.mark.parametrize("certificate", [None, "intruder"], ids=["no-certificate", "stranger-ca"])
def test_a_sender_without_a_certificate_the_ca_signed_is_refused(
    tls_listener, pki, certificate, cardiology, now, eager_celery
):
    assert tls_exchange(tls_listener, tls_client(pki, certificate), adt()) is None
    assert InboundMessage.objects.count() == 0


def test_plain_mllp_to_the_tls_listener_gets_no_answer(tls_listener, cardiology):
    with socket.create_connection(tls_listener, timeout=10) as sock:
        sock.sendall(frame(adt()))
        assert closed_without_answer(sock)
    assert InboundMessage.objects.count() == 0


def test_a_client_ca_without_a_certificate_is_a_configuration_error():
    with pytest.raises(ValueError, match="INTEROP_HL7_TLS_CLIENT_CA needs INTEROP_HL7_TLS_CERT"):
        tls_context(cert="", key="", client_ca="/etc/ca.pem")


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("INTEROP_HL7_ALLOWED_ADDRESSES", "10.0.0.300", "'10.0.0.300' does not appear to be an IPv4 or IPv6 network"),
        ("INTEROP_HL7_TLS_CERT", "/nonexistent/cert.pem", "No such file or directory"),
    ],
)
def test_the_listener_command_refuses_a_wrong_setting_with_its_reason(variable, value, reason):
    done = subprocess.run(
        [sys.executable, "manage.py", "hl7_listener", "--host", "127.0.0.1", "--port", "0"],
        cwd=settings.BASE_DIR,
        env={**os.environ, variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert done.stderr.startswith("CommandError: The HL7 listener cannot start: ")
    assert reason in done.stderr
