"""Benchmark of the weekly call generation on PostgreSQL (not a test).

Creates N discharges of one busy week in a dedicated department (code
BENCH), then measures: the first generation (rows/s), an immediate re-run,
the peak memory of a generation (tracemalloc, in a separate run so tracing
does not slow the timed one), and one hand-written INSERT ... SELECT that
produces the same rows in the same database. Everything it creates is
deleted at the end.
"""

import datetime as dt
import time
import tracemalloc

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from calls.models import Department, Discharge, FollowUpCall, FollowUpRule, Patient, RuleStep
from calls.services.queue import generate_calls
from followup.dates import week_bounds
from followup.devtools.guard import add_force_argument, claim_database
from followup.models import User
from followup.roles import Role

CODE = "BENCH"
NURSES = 5
BATCH = 5000

INSERT_SELECT = """
INSERT INTO calls_followupcall (
    discharge_id, step_id, due_date, earliest_on, latest_on, scheduled_for, assigned_to_id, status,
    cancel_reason, attempt_count, answered_by, satisfaction, summary, version, created_at, updated_at
)
SELECT d.id, %(step)s, d.discharged_on + %(offset)s, d.discharged_on + %(offset)s - %(early)s,
       d.discharged_on + %(offset)s + %(late)s,
       ((d.discharged_on + %(offset)s
         + CASE EXTRACT(ISODOW FROM d.discharged_on + %(offset)s) WHEN 6 THEN 2 WHEN 7 THEN 1 ELSE 0 END)
        + %(start)s::time) AT TIME ZONE %(zone)s,
       (%(nurses)s::bigint[])[((ROW_NUMBER() OVER (ORDER BY d.id) - 1) %% %(nurse_count)s) + 1],
       'scheduled', '', 0, '', '', '', 1, NOW(), NOW()
FROM calls_discharge d
WHERE d.department_id = %(department)s
ORDER BY d.id
ON CONFLICT DO NOTHING
"""


class Command(BaseCommand):
    help = "Measure call generation for a busy week against one INSERT ... SELECT (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--discharges", type=int, default=100_000, help="discharges in the busy week")
        add_force_argument(parser)

    def handle(self, *args, discharges: int, force: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("benchmark_queue measures PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
        if Department.objects.filter(code=CODE).exists():
            raise CommandError(f"Department {CODE} exists (an interrupted run?): remove it first.")
        claim_database(command="benchmark_queue", force=force)
        today = timezone.localdate()
        monday, _sunday = week_bounds(today)
        self.stdout.write(f"Setting up {discharges} discharges due in the week of {monday} ...")
        department, step, nurses = self._setup(discharges, monday)
        try:
            self._measure(department, step, nurses, monday, discharges)
        finally:
            self._cleanup(department)

    def _setup(self, count: int, monday: dt.date):
        with transaction.atomic():
            department = Department.objects.create(code=CODE, name="Benchmark ward")
            group = Group.objects.get(name=Role.NURSE)
            nurses = []
            for index in range(NURSES):
                nurse = User.objects.create(username=f"bench_nurse_{index}", display_name=f"Bench nurse {index}")
                nurse.groups.add(group)
                nurses.append(nurse)
            department.staff.add(*nurses)
            rule = FollowUpRule.objects.create(department=department, name="Benchmark rule")
            step = RuleStep.objects.create(
                rule=rule,
                offset_days=7,
                early_days=1,
                late_days=3,
                weekdays=[0, 1, 2, 3, 4],
                window_start=dt.time(14),
                window_end=dt.time(17),
            )
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            with transaction.atomic():
                patients = Patient.objects.bulk_create(
                    Patient(mrn=f"BENCH{start + i:09d}", name=f"Bench {start + i}") for i in range(size)
                )
                Discharge.objects.bulk_create(
                    Discharge(
                        patient=patient,
                        department=department,
                        discharged_on=monday - dt.timedelta(days=7 - (start + i) % 7),
                        admitted_on=monday - dt.timedelta(days=14),
                        diagnosis="Benchmark",
                    )
                    for i, patient in enumerate(patients)
                )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE calls_discharge; ANALYZE calls_patient; ANALYZE calls_followupcall")
        return department, step, nurses

    def _generate(self, department, monday):
        started = time.perf_counter()
        result = generate_calls(week=monday, today=monday)
        return result, time.perf_counter() - started

    def _delete_calls(self, department):
        FollowUpCall.objects.filter(discharge__department=department).delete()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE calls_followupcall")

    def _measure(self, department, step, nurses, monday, count):
        first, first_seconds = self._generate(department, monday)
        if first.created != count:
            raise CommandError(f"expected {count} calls, the first generation created {first.created}")
        generated = list(
            FollowUpCall.objects.filter(discharge__department=department)
            .order_by("discharge_id")
            .values_list("discharge_id", "due_date", "earliest_on", "latest_on", "scheduled_for", "assigned_to_id")
        )
        rerun, rerun_seconds = self._generate(department, monday)
        if rerun.created or rerun.already_present != count:
            raise CommandError(f"the re-run should create nothing, it reported {rerun}")

        self._delete_calls(department)
        params = {
            "step": step.pk,
            "offset": step.offset_days,
            "early": step.early_days,
            "late": step.late_days,
            "start": step.window_start,
            "zone": str(timezone.get_default_timezone()),
            "nurses": [n.pk for n in sorted(nurses, key=lambda n: n.pk)],
            "nurse_count": len(nurses),
            "department": department.pk,
        }
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(INSERT_SELECT, params)
            inserted = cursor.rowcount
        sql_seconds = time.perf_counter() - started
        by_sql = list(
            FollowUpCall.objects.filter(discharge__department=department)
            .order_by("discharge_id")
            .values_list("discharge_id", "due_date", "earliest_on", "latest_on", "scheduled_for", "assigned_to_id")
        )
        same_rows = by_sql == generated
        del generated, by_sql

        self._delete_calls(department)
        tracemalloc.start()
        self._generate(department, monday)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        rows = [
            ("discharges in the busy week", f"{count:,}"),
            ("first generation", f"{first_seconds:.2f} s = {count / first_seconds:,.0f} rows/s"),
            ("INSERT ... SELECT, same rows", f"{sql_seconds:.2f} s = {inserted / sql_seconds:,.0f} rows/s"),
            ("ratio generation / INSERT ... SELECT", f"{first_seconds / sql_seconds:.2f}x (target <= 3x)"),
            ("identical rows from both", "yes" if same_rows else "NO"),
            ("immediate re-run", f"{rerun_seconds:.3f} s (target < 0.5 s)"),
            ("peak Python memory of a generation", f"{peak / 2**20:.1f} MiB (tracemalloc)"),
        ]
        width = max(len(label) for label, _value in rows)
        self.stdout.write("")
        self.stdout.write(f"| {'measure':<{width}} | value |")
        self.stdout.write(f"|{'-' * (width + 2)}|-------|")
        for label, value in rows:
            self.stdout.write(f"| {label:<{width}} | {value} |")

    def _cleanup(self, department):
        self.stdout.write("Cleaning up ...")
        with transaction.atomic():
            FollowUpCall.objects.filter(discharge__department=department).delete()
            patient_ids = list(department.discharges.values_list("patient_id", flat=True))
            department.discharges.all().delete()
            for start in range(0, len(patient_ids), BATCH):
                Patient.objects.filter(pk__in=patient_ids[start : start + BATCH]).delete()
            RuleStep.objects.filter(rule__department=department).delete()
            FollowUpRule.objects.filter(department=department).delete()
            users = list(department.staff.filter(username__startswith="bench_nurse_"))
            department.staff.clear()
            department.delete()
            User.objects.filter(pk__in=[u.pk for u in users]).delete()
