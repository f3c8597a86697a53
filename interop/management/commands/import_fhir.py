from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from interop.models import InboundMessage
from interop.services import fhir_payload_receive


def inputs(path: Path) -> list[tuple[str, str]]:
    """(name, text) pairs: each JSON file on its own; all NDJSON files of a
    folder together (a bulk export puts each resource type in its own file)."""
    if path.is_file():
        return [(path.name, path.read_text(encoding="utf-8-sig"))]
    if not path.is_dir():
        raise CommandError(_("%(path)s is neither a file nor a folder.") % {"path": path})
    found = [(p.name, p.read_text(encoding="utf-8-sig")) for p in sorted(path.glob("*.json"))]
    ndjson = sorted(path.glob("*.ndjson"))
    if ndjson:
        found.append((path.name + "/*.ndjson", "\n".join(p.read_text(encoding="utf-8-sig").strip() for p in ndjson)))
    if not found:
        raise CommandError(_("No .json or .ndjson file in %(path)s.") % {"path": path})
    return found


class Command(BaseCommand):
    help = "Import discharges (finished inpatient Encounters) from FHIR R4 Bundles or an NDJSON bulk export."

    def add_arguments(self, parser):
        parser.add_argument("path", help="A Bundle .json file, an .ndjson file, or a folder of them.")

    def handle(self, *args, path: str, **options):
        failed = 0
        for name, text in inputs(Path(path)):
            message, outcome = fhir_payload_receive(payload=text, sender=f"file:{name}")
            created = sum(1 for _discharge, new in outcome.discharges if new) if outcome else 0
            updated = len(outcome.discharges) - created if outcome else 0
            self.stdout.write(
                _("%(name)s: %(status)s, %(created)s discharges created, %(updated)s updated")
                % {"name": name, "status": message.get_status_display(), "created": created, "updated": updated}
            )
            for line in message.warnings.splitlines():
                self.stdout.write("  " + _("warning: %(text)s") % {"text": line})
            if message.status == InboundMessage.Status.ERROR:
                failed += 1
                for line in message.error.splitlines():
                    self.stderr.write("  " + line)
        if failed:
            raise CommandError(_("%(count)s input(s) had errors and changed nothing.") % {"count": failed})
