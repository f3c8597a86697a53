from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from followup.devtools import demo
from followup.devtools.guard import claim_database
from followup.passwords import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Load demo data (users per role, departments, patients, calls). Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help=(
                "Run even with DEBUG off (a demo server; the demo users then get no password: set one for each "
                "with `manage.py changepassword`), or on a database that holds patients, discharges or "
                "complaints no developer tool created. Never on a real hospital database."
            ),
        )
        parser.add_argument(
            "--site-url",
            default="http://127.0.0.1:8000/",
            help="The address printed with the demo log-ins (make run passes its PORT).",
        )

    def handle(self, *args, force: bool = False, site_url: str = "http://127.0.0.1:8000/", **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo refuses to run with DEBUG off: it creates demo log-ins. Use --force on a demo server only."
            )
        with transaction.atomic():
            claim_database(command="seed_demo", force=force)
            demo.seed(self.stdout)
        if not settings.DEBUG:
            # The demo password is public: a server never hands it out.
            self.stdout.write(self.style.SUCCESS("Demo data is ready. The demo users have no password yet:"))
            for username, _display_name, role, _grade in demo.DEMO_USERS:
                self.stdout.write(f"  python manage.py changepassword {username:<10}   ({role.label})")
            return
        self.stdout.write(self.style.SUCCESS(f"Demo data is ready. Log in at {site_url} as:"))
        for username, _display_name, role, _grade in demo.DEMO_USERS:
            self.stdout.write(f"  {username:<10} / {DEMO_PASSWORD}   ({role.label})")
