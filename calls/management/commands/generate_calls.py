from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from calls.services.queue import generate_calls, parse_iso_week
from followup.dates import week_bounds


class Command(BaseCommand):
    help = "Create the follow-up calls due in a week (default: this week) and catch up on earlier ones. Safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument("--week", help="ISO week, e.g. 2026-W48 (default: the current week)")

    def handle(self, *args, week: str | None = None, **options):
        try:
            day = parse_iso_week(week) if week else timezone.localdate()
        except ValueError:
            raise CommandError(f"--week must look like 2026-W48, got {week!r}") from None
        result = generate_calls(week=day, actor="task:manage.py generate_calls")
        monday, sunday = week_bounds(day)
        self.stdout.write(f"Week {monday:%G-W%V} ({monday} to {sunday})")
        self.stdout.write(f"created:         {result.created}")
        self.stdout.write(f"already present: {result.already_present}")
        self.stdout.write(f"missed:          {result.missed}")
        if result.failed_departments:
            raise CommandError(
                f"Not generated, see the log: departments {', '.join(result.failed_departments)} "
                "(the other departments' calls were created)"
            )
