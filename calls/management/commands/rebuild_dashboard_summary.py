"""Recompute the dashboard's summary tables (calls and stays) from the calls (PostgreSQL). The
triggers keep them exact; run this after restoring a dump or loading data
with triggers switched off."""

from django.core.management.base import BaseCommand

from calls.dashboard.stay_summary import stays_rebuild
from calls.dashboard.summary import summary_in_use, summary_rebuild


class Command(BaseCommand):
    help = "Recompute the dashboard summary tables from the calls (PostgreSQL only)."

    def handle(self, *args, **options):
        if not summary_in_use():
            self.stdout.write("Not PostgreSQL: the dashboard counts the calls directly; nothing to rebuild.")
            return
        summary_rebuild()
        stays_rebuild()
        self.stdout.write("Dashboard summary rebuilt.")
