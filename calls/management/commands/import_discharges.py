from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calls.imports import ImportFileError, discharge_file_rows
from calls.services.discharge_import import discharges_import
from followup.startup import settle


class Command(BaseCommand):
    help = (
        "Import discharges from a hospital-system export (CSV in UTF-8 or GBK, or XLSX). "
        "A file with any bad row changes nothing. Importing the same file again updates, never duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the .csv or .xlsx file")
        parser.add_argument("--dry-run", action="store_true", help="check and report only; change nothing")

    def handle(self, *args, file: str, dry_run: bool = False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        listing = dry_run or options["verbosity"] >= 2
        settle()  # as a web process does: full collections no longer walk the project's own objects
        # The file is read as it is imported, a chunk of rows at a time: a
        # year of discharges takes no more memory than a day's.
        with path.open("rb") as stream:
            try:
                rows = discharge_file_rows(name=path.name, stream=stream)
            except ImportFileError as exc:
                raise CommandError(str(exc)) from None
            report = discharges_import(
                rows=rows, by=None, dry_run=dry_run, source_reference=path.name, keep_rows=listing
            )
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        for line, reason in report.errors:
            self.stderr.write(f"line {line}: {reason}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} problem(s) found; nothing was imported.")
        if listing:
            for row in report.rows:
                self.stdout.write(f"line {row.line}: {row.mrn} {row.name} admitted {row.admitted_on} -> {row.action}")
        verb = "would be" if dry_run else "were"
        self.stdout.write(f"{report.created} discharge(s) {verb} created, {report.updated} {verb} updated.")
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
