from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from followup.backups import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup into a fresh (new or empty) database given by its URL."

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path)
        parser.add_argument(
            "--target-url",
            required=True,
            help="e.g. postgres://postgres@127.0.0.1:5432/followup_restored (created if missing; must be empty)",
        )

    def handle(self, *args, backup: Path, target_url: str, **options):
        try:
            restore(source=backup, target_url=target_url)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored {backup} into {target_url.rsplit('@', 1)[-1]}.")
