"""A minimal MLLP (Minimal Lower Layer Protocol) server: <VT> message <FS><CR>
frames over TCP, one thread per connection. Every message is stored before
its ACK is written back (see ``hl7_message_receive``)."""

import logging
import socketserver

from django.db import close_old_connections

from .hl7v2 import MLLP_END, MLLP_START, frame
from .services import hl7_message_receive

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class MllpHandler(socketserver.BaseRequestHandler):
    # Each connection thread opens and closes its own database connection.
    manage_connections = True

    def handle(self) -> None:
        peer = "{}:{}".format(*self.client_address[:2])
        buffer = b""
        try:
            while True:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                while True:
                    start = buffer.find(MLLP_START)
                    if start < 0:
                        buffer = b""
                        break
                    end = buffer.find(MLLP_END, start)
                    if end < 0:
                        buffer = buffer[start:]
                        if len(buffer) > MAX_MESSAGE_BYTES:
                            logger.warning("MLLP %s: message over %s bytes, closing", peer, MAX_MESSAGE_BYTES)
                            return
                        break
                    raw, buffer = buffer[start + 1 : end], buffer[end + len(MLLP_END) :]
                    try:
                        ack = frame(*self._receive(raw, peer))
                    except Exception:
                        # Not stored (the database is down?): no ACK, so the sender
                        # keeps the message and sends it again on a new connection.
                        logger.exception("MLLP %s: message not stored, closing without an ACK", peer)
                        return
                    self.request.sendall(ack)
        finally:
            if self.manage_connections:
                close_old_connections()

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


class MllpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def make_server(host: str, port: int, handler: type[MllpHandler] = MllpHandler) -> MllpServer:
    return MllpServer((host, port), handler)
