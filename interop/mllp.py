"""A minimal MLLP (Minimal Lower Layer Protocol) server: <VT> message <FS><CR>
frames over TCP (or TLS), one thread per connection. Every message is stored
before its ACK is written back (see ``hl7_message_receive``).

What keeps it safe on a hospital network (settings, README "Hospital system
feeds"):

- only the addresses of ``INTEROP_HL7_ALLOWED_ADDRESSES`` may connect (the
  interface engine's); anyone else is disconnected before a byte is read;
- at most ``INTEROP_HL7_MAX_CONNECTIONS`` connections at once, each closed
  after ``INTEROP_HL7_IDLE_SECONDS`` without a byte;
- a frame is refused (AR, stored) as soon as it passes
  ``INTEROP_HL7_MAX_BYTES`` while it arrives: the rest is read and dropped,
  never kept, so memory stays bounded by connections x limit;
- with ``INTEROP_HL7_TLS_CERT``/``KEY`` the connection is TLS, and with
  ``INTEROP_HL7_TLS_CLIENT_CA`` the sender must present a certificate that
  CA signed.
"""

import ipaddress
import logging
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections

from .hl7v2 import MLLP_END, MLLP_START, frame
from .services import hl7_message_receive, hl7_oversized_refuse

logger = logging.getLogger(__name__)

READ_SIZE = 65536
OVERSIZED_HEAD = 8192  # bytes of a refused oversized frame kept for the inbox and its ACK


@dataclass
class ListenerLimits:
    """The listener's guards, from the settings unless a test gives others."""

    allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(default_factory=list)
    max_connections: int = 20
    idle_seconds: float = 300
    max_bytes: int = 1024 * 1024
    tls: ssl.SSLContext | None = None

    @classmethod
    def from_settings(cls) -> "ListenerLimits":
        return cls(
            allowed=parse_networks(settings.INTEROP_HL7_ALLOWED_ADDRESSES),
            max_connections=settings.INTEROP_HL7_MAX_CONNECTIONS,
            idle_seconds=settings.INTEROP_HL7_IDLE_SECONDS,
            max_bytes=settings.INTEROP_HL7_MAX_BYTES,
            tls=tls_context(
                cert=settings.INTEROP_HL7_TLS_CERT,
                key=settings.INTEROP_HL7_TLS_KEY,
                client_ca=settings.INTEROP_HL7_TLS_CLIENT_CA,
            ),
        )


def parse_networks(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``["10.0.0.5", "10.1.0.0/16"]`` as networks; a wrong entry stops the
    listener at start-up with its name (ValueError)."""
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]


def tls_context(*, cert: str, key: str, client_ca: str) -> ssl.SSLContext | None:
    """The server's TLS context, or None for plain TCP (no certificate)."""
    if not cert:
        if client_ca:
            raise ValueError("INTEROP_HL7_TLS_CLIENT_CA needs INTEROP_HL7_TLS_CERT and INTEROP_HL7_TLS_KEY")
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key or None)
    if client_ca:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


class MllpHandler(socketserver.BaseRequestHandler):
    # Each connection thread opens and closes its own database connection.
    manage_connections = True
    server: "MllpServer"

    def handle(self) -> None:
        peer = "{}:{}".format(*self.client_address[:2])
        limits = self.server.limits
        try:
            self.request.settimeout(limits.idle_seconds)
            if limits.tls is not None:
                self.request = limits.tls.wrap_socket(self.request, server_side=True)
            self._serve(peer, limits.max_bytes)
        except TimeoutError:
            logger.info("MLLP %s: idle for %s s, closing", peer, limits.idle_seconds)
        except ssl.SSLError as exc:
            logger.warning("MLLP %s: TLS refused: %s", peer, exc.reason or exc)
        except OSError as exc:
            logger.info("MLLP %s: connection lost: %s", peer, exc)
        finally:
            if self.manage_connections:
                close_old_connections()

    def _serve(self, peer: str, limit: int) -> None:
        buffer = bytearray()
        in_frame = False
        scanned = 0  # where to look for the end next: the bytes before were searched already
        oversized: bytes | None = None  # the head of a frame past the limit, whose rest is being dropped
        dropped = 0  # bytes of that frame read and dropped
        while True:
            chunk = self.request.recv(READ_SIZE)
            if not chunk:
                return
            buffer += chunk
            while True:
                if not in_frame:
                    start = buffer.find(MLLP_START)
                    if start < 0:
                        buffer.clear()
                        break
                    del buffer[: start + 1]
                    in_frame, scanned = True, 0
                end = buffer.find(MLLP_END, scanned)
                if end < 0:
                    scanned = max(0, len(buffer) - len(MLLP_END) + 1)
                    if oversized is None and len(buffer) > limit:
                        oversized, dropped = bytes(buffer[:OVERSIZED_HEAD]), 0
                        logger.warning("MLLP %s: message over %s bytes, refusing it", peer, limit)
                    if oversized is not None:  # keep only what may be the start of the end mark
                        keep = len(MLLP_END) - 1
                        dropped += len(buffer) - keep
                        del buffer[:-keep]
                        scanned = 0
                    break
                raw = bytes(buffer[:end])
                del buffer[: end + len(MLLP_END)]
                in_frame = False
                if oversized is not None:
                    ack = frame(*self._refuse_oversized(oversized, dropped + end, limit, peer))
                    oversized = None
                else:
                    try:
                        ack = frame(*self._receive(raw, peer))
                    except Exception:
                        # Not stored (the database is down?): no ACK, so the sender
                        # keeps the message and sends it again on a new connection.
                        logger.exception("MLLP %s: message not stored, closing without an ACK", peer)
                        return
                self.request.sendall(ack)

    def _receive(self, raw: bytes, peer: str) -> tuple[str, str]:
        if self.manage_connections:
            close_old_connections()
        receipt = hl7_message_receive(raw=raw)
        message = receipt.message
        logger.info(
            "MLLP %s: %s %s -> %s%s",
            peer,
            message.event_type if message else "?",
            message.control_id if message else "?",
            receipt.ack_code,
            " (duplicate)" if receipt.duplicate else "",
        )
        return receipt.ack, receipt.encoding

    def _refuse_oversized(self, head: bytes, size: int, limit: int, peer: str) -> tuple[str, str]:
        if self.manage_connections:
            close_old_connections()
        receipt = hl7_oversized_refuse(head=head, size=size, limit=limit)
        logger.info("MLLP %s: %s bytes refused with AR", peer, size)
        return receipt.ack, receipt.encoding


class MllpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False

    def __init__(self, address, handler: type[MllpHandler], limits: ListenerLimits):
        self.limits = limits
        self.slots = threading.BoundedSemaphore(limits.max_connections)
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def allowed(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in network for network in self.limits.allowed)

    def verify_request(self, request, client_address) -> bool:
        """Closed before a byte is read: an address not on the allow-list, or
        one connection more than the cap."""
        peer = "{}:{}".format(*client_address[:2])
        if not self.allowed(client_address[0]):
            logger.warning("MLLP %s: address not allowed (INTEROP_HL7_ALLOWED_ADDRESSES), closing", peer)
            return False
        if not self.slots.acquire(blocking=False):
            logger.warning("MLLP %s: %s connections open already, closing", peer, self.limits.max_connections)
            return False
        return True

    def process_request(self, request, client_address) -> None:
        try:
            super().process_request(request, client_address)
        except Exception:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def make_server(
    host: str, port: int, handler: type[MllpHandler] = MllpHandler, limits: ListenerLimits | None = None
) -> MllpServer:
    return MllpServer((host, port), handler, limits or ListenerLimits.from_settings())
