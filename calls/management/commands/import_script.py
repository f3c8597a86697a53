"""Import a shared script file as a new draft version."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from calls.services.scripts import script_version_import


class Command(BaseCommand):
    help = (
        "Import a call script JSON file as a new draft version in the file's language (of the script with the same "
        "name, created if missing). Prints the new draft's id. A bad file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the JSON file written by export_script")

    def handle(self, *args, file: str, **options):
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        try:
            draft = script_version_import(data=data, by=None, via=f"import:{Path(file).name}")
        except ValidationError as exc:
            raise CommandError(f"{file} was not imported:\n  " + "\n  ".join(exc.messages)) from exc
        self.stdout.write(str(draft.pk))
