from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from followup.backups import BackupError, backup


class Command(BaseCommand):
    help = "Write a consistent backup of the database (pg_dump custom format, or a SQLite copy)."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="File to write (default: VAR_DIR/backups/followup-<time>).")

    def handle(self, *args, output: Path | None = None, **options):
        db = settings.DATABASES["default"]
        if output is None:
            suffix = "dump" if "postgresql" in db["ENGINE"] else "sqlite3"
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            output = Path(settings.VAR_DIR) / "backups" / f"followup-{stamp}.{suffix}"
        try:
            path = backup(db=db, output=output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Backup written to {path} ({path.stat().st_size} bytes).")
