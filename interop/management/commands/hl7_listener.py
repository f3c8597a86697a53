import signal

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from interop.mllp import make_server


def _stop(*_args) -> None:
    raise KeyboardInterrupt  # leaves serve_forever; docker stop sends SIGTERM


class Command(BaseCommand):
    help = "Listen for HL7 v2 messages over MLLP, store each one, acknowledge it and queue its processing."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (0.0.0.0 in a container).")
        parser.add_argument("--port", type=int, default=2575, help="TCP port (2575 is HL7's registered port).")

    def handle(self, *args, host: str, port: int, **options):
        try:
            server = make_server(host, port)
        except (ValueError, OSError) as exc:  # a wrong allow-list entry, a missing certificate, a port in use
            raise CommandError(_("The HL7 listener cannot start: %(reason)s") % {"reason": exc}) from None
        signal.signal(signal.SIGTERM, _stop)
        try:
            where = {"host": host, "port": server.server_address[1]}
            self.stdout.write(_("HL7 MLLP listener on %(host)s:%(port)s") % where)
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
