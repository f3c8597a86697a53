"""Print the head nurse's dashboard figures of some departments and a period,
under the stable keys hospitals report upward from (docs/dashboard.md,
"Figures as JSON"): the same figures, computed by the same function, as the
dashboard page's ``?format=json``.

    python manage.py dashboard_figures --department CARD --start 2026-01-01 --end 2026-03-31 --json

A wrong argument stops it with a plain message and exit status 1 (2 for a
missing one), never a traceback."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from calls.dashboard.forms import period_problem
from calls.dashboard.presentation import figures_json
from calls.dashboard.selectors import Period, dashboard_figures
from calls.models import Department
from followup.dates import PeriodDateField


def _date(text: str, option: str):
    try:
        return PeriodDateField().clean(text)
    except ValidationError as error:
        raise CommandError(f"{option} {text!r}: {' '.join(error.messages)} Write it as YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = "Print the dashboard's headline figures of departments and a period (JSON with --json)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--department",
            action="append",
            required=True,
            metavar="CODE",
            help="department code; repeat it for several departments",
        )
        parser.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="first day of the period")
        parser.add_argument("--end", required=True, metavar="YYYY-MM-DD", help="last day of the period")
        parser.add_argument("--json", action="store_true", help="print JSON (otherwise one figure a line)")

    def handle(self, *args, department, start, end, json: bool, **options):
        codes = list(dict.fromkeys(code.strip() for code in department))
        departments = list(Department.objects.filter(code__in=codes).order_by("name", "pk"))
        unknown = sorted(set(codes) - {d.code for d in departments})
        if unknown:
            raise CommandError(f"Unknown department code: {', '.join(unknown)}.")
        first, last = _date(start, "--start"), _date(end, "--end")
        problem = period_problem(first, last)
        if problem:
            raise CommandError(problem)
        figures = dashboard_figures(
            department_ids=[d.pk for d in departments], period=Period(first, last), departments=departments
        )
        data = figures_json(figures)
        if json:
            self.stdout.write(_dumps(data, indent=2))
            return
        for key, value in data.items():
            self.stdout.write(f"{key}: {value if isinstance(value, int | str) else _dumps(value)}")


def _dumps(value, **kwargs) -> str:
    return json.dumps(value, ensure_ascii=False, **kwargs)
