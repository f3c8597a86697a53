"""Write a script version as a JSON file hospitals can share."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calls.models import ScriptVersion
from calls.services.scripts import script_version_export_json


class Command(BaseCommand):
    help = "Export a call script version as JSON (to standard output, or to -o FILE)."

    def add_arguments(self, parser):
        parser.add_argument("version_id", type=int, help="id of the script version")
        parser.add_argument("-o", "--output", help="file to write instead of standard output")

    def handle(self, *args, version_id: int, output: str | None, **options):
        try:
            version = ScriptVersion.objects.select_related("script").get(pk=version_id)
        except ScriptVersion.DoesNotExist as exc:
            raise CommandError(f"No script version with id {version_id}.") from exc
        text = script_version_export_json(version=version)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {version} to {output}.")
        else:
            self.stdout.write(text, ending="")
