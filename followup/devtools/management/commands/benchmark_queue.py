"""Benchmark of the weekly call generation on PostgreSQL (not a test).

Creates N discharges of one busy week in a dedicated department (code
BENCH-QUEUE), then measures, in one run:

- the first generation of that department's calls (``generate_calls``
  limited to the department, so other departments' discharges in the same
  database are neither generated nor counted);
- the baseline: one hand-written ``INSERT ... SELECT`` producing the same rows
  (checked row by row) into a trigger-free copy of the calls table (same
  columns, defaults, indexes, checks and foreign keys; none of the dashboard
  summary's triggers), which is the physical limit of writing those calls;
- the ratio of the two (best of ``--repeat`` runs each, the calls deleted and
  the table vacuumed in between);
- that the dashboard summary the triggers kept through the generations
  equals a recount of the department's calls;
- an immediate re-run;
- memory: the peak Python allocation of a generation (tracemalloc, in a
  separate run so tracing does not slow the timed one) and the peak resident
  size of the process during the first generation.

For information it also times the same ``INSERT ... SELECT`` into a bare
temporary table (no index, no key: what writing the rows alone costs), and
what readmission risk adds to a generation: the stays are created scored
(as an import scores them), and the generation is timed again with the
rule's step limited to every risk tier, so the same calls (target: at most
10% more).
Everything it creates is deleted at the end.
"""

import datetime as dt
import time
import tracemalloc

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from calls.dashboard.summary import summary_differences
from calls.models import Department, Discharge, FollowUpRule, Patient, RuleStep
from calls.risk import RiskTier
from calls.services.queue import generate_calls
from calls.services.risk import risk_values
from followup.dates import week_bounds
from followup.devtools.bench_rows import bench_ward
from followup.devtools.guard import add_force_argument, claim_database
from followup.devtools.measure import memory_kib, reset_peak_rss, rss_text, write_table
from followup.models import User

CODE = "BENCH-QUEUE"
MRN_PREFIX = "BENCHQ"
NURSE_PREFIX = "bench_queue_nurse_"
NURSES = 5
BATCH = 5000
BASELINE_TABLE = "devtools_bench_queue_calls"
BARE_TABLE = "devtools_bench_queue_bare"
COMPARED = "discharge_id, due_date, earliest_on, latest_on, scheduled_for, assigned_to_id, risk_tier"
# The stays' data their readmission risk is scored from: every tier occurs.
ADMISSION_TYPES = ("emergency", "elective", "emergency", "transfer", "")
CODES = ("I21.0", "I50.9", "E11.9", "J44.1", "C78.0", "I25.1", "")

INSERT_SELECT = """
INSERT INTO {table} (
    discharge_id, department_id, step_id, due_date, earliest_on, latest_on, scheduled_for, assigned_to_id, status,
    cancel_reason, attempt_count, answered_by, satisfaction, summary, version, created_at, updated_at, risk_tier
)
SELECT d.id, d.department_id, %(step)s, d.discharged_on + %(offset)s, d.discharged_on + %(offset)s - %(early)s,
       d.discharged_on + %(offset)s + %(late)s,
       ((d.discharged_on + %(offset)s
         + CASE EXTRACT(ISODOW FROM d.discharged_on + %(offset)s) WHEN 6 THEN 2 WHEN 7 THEN 1 ELSE 0 END)
        + %(start)s::time) AT TIME ZONE %(zone)s,
       (%(nurses)s::bigint[])[((ROW_NUMBER() OVER (ORDER BY d.id) - 1) %% %(nurse_count)s) + 1],
       'scheduled', '', 0, '', '', '', 1, NOW(), NOW(), d.risk_tier
FROM calls_discharge d
WHERE d.department_id = %(department)s
ORDER BY d.id
ON CONFLICT DO NOTHING
"""


def _vacuum(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")


class Command(BaseCommand):
    help = (
        "Measure call generation for a busy week against one INSERT ... SELECT into a trigger-free copy of the "
        "calls table (PostgreSQL only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--discharges", type=int, default=100_000, help="discharges in the busy week")
        parser.add_argument(
            "--repeat", type=int, default=3, help="timed runs of the generation and of the baseline; the best counts"
        )
        add_force_argument(parser)

    def handle(self, *args, discharges: int, repeat: int, force: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("benchmark_queue measures PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
        if discharges < 1 or repeat < 1:
            raise CommandError("--discharges and --repeat must be at least 1.")
        if Department.objects.filter(code=CODE).exists():
            raise CommandError(f"Department {CODE} exists (an interrupted run?): remove it first.")
        claim_database(command="benchmark_queue", force=force)
        today = timezone.localdate()
        monday, _sunday = week_bounds(today)
        self.stdout.write(f"Setting up {discharges} discharges due in the week of {monday} ...")
        department, step, nurses = self._setup(discharges, monday)
        try:
            self._measure(department, step, nurses, monday, discharges, repeat)
        finally:
            self._cleanup(department)

    def _setup(self, count: int, monday: dt.date):
        with transaction.atomic():
            department, nurses, rule = bench_ward(
                code=CODE, name="Benchmark ward (queue)", nurse_prefix=NURSE_PREFIX, nurses=NURSES
            )
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
                    Patient(mrn=f"{MRN_PREFIX}{start + i:09d}", name=f"Bench {start + i}") for i in range(size)
                )
                Discharge.objects.bulk_create(
                    self._scored(
                        Discharge(
                            patient=patient,
                            department=department,
                            discharged_on=monday - dt.timedelta(days=7 - (start + i) % 7),
                            admitted_on=monday - dt.timedelta(days=14 + (start + i) % 11),
                            diagnosis="Benchmark",
                            admission_type=ADMISSION_TYPES[(start + i) % len(ADMISSION_TYPES)],
                            icd10=CODES[(start + i) % len(CODES)],
                            reported_emergency_visits=(start + i) % 4,
                        )
                    )
                    for i, patient in enumerate(patients)
                )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE calls_discharge; ANALYZE calls_patient; ANALYZE calls_followupcall")
        return department, step, nurses

    @staticmethod
    def _scored(stay: Discharge) -> Discharge:
        """A stay with its readmission risk, as registering or importing it scores it."""
        for name, value in risk_values(vars(stay), ()).items():
            setattr(stay, name, value)
        return stay

    def _generate(self, department, monday):
        started = time.perf_counter()
        result = generate_calls(week=monday, today=monday, department_ids=[department.pk])
        return result, time.perf_counter() - started

    def _delete_calls(self, department):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM calls_followupcall WHERE discharge_id IN "
                "(SELECT id FROM calls_discharge WHERE department_id = %s)",
                [department.pk],
            )
        _vacuum("calls_followupcall")  # each timed run starts from the same table

    def _rows(self, table: str, department) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {COMPARED} FROM {table} WHERE discharge_id IN "  # noqa: S608  # nosec B608
                "(SELECT id FROM calls_discharge WHERE department_id = %s) ORDER BY discharge_id",
                [department.pk],
            )
            return cursor.fetchall()

    def _baseline_tables(self) -> None:
        """A trigger-free copy of the calls table (its foreign keys added one
        by one: LIKE copies everything else) and a bare temporary table."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"DROP TABLE IF EXISTS {BASELINE_TABLE}; "
                f"CREATE TABLE {BASELINE_TABLE} (LIKE calls_followupcall INCLUDING ALL); "
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {BARE_TABLE} "
                "(LIKE calls_followupcall INCLUDING DEFAULTS INCLUDING IDENTITY)"
            )
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'calls_followupcall'::regclass AND contype = 'f' ORDER BY conname"
            )
            for (definition,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE {BASELINE_TABLE} ADD {definition}")

    def _insert_select(self, table: str, params: dict) -> tuple[int, float]:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
        if table == BASELINE_TABLE:
            _vacuum(table)
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(INSERT_SELECT.format(table=table), params)
            inserted = cursor.rowcount
        return inserted, time.perf_counter() - started

    def _measure(self, department, step, nurses, monday, count, repeat):
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
        self._baseline_tables()
        firsts, baselines, bares = [], [], []
        peak_rss = rss_before = None
        for run in range(repeat):
            inserted, seconds = self._insert_select(BASELINE_TABLE, params)
            baselines.append(seconds)
            bares.append(self._insert_select(BARE_TABLE, params)[1])
            if run:
                self._delete_calls(department)
            rss_before = memory_kib("VmRSS")
            watching = reset_peak_rss()
            first, seconds = self._generate(department, monday)
            if run == 0 and watching:
                peak_rss = memory_kib("VmHWM")
            firsts.append(seconds)
            if first.created != count or inserted != count:
                raise CommandError(
                    f"expected {count} calls, the generation created {first.created}, the baseline {inserted}"
                )
        same_rows = self._rows("calls_followupcall", department) == self._rows(BASELINE_TABLE, department)
        differences = summary_differences([department.pk])
        rerun, rerun_seconds = self._generate(department, monday)
        if rerun.created or rerun.missed or rerun.already_present != count:
            raise CommandError(f"the re-run should create nothing, it reported {rerun}")

        self._delete_calls(department)
        tracemalloc.start()
        self._generate(department, monday)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        tiered = self._tiered_generations(department, step, monday, count, repeat)

        first_seconds, sql_seconds, bare_seconds = min(firsts), min(baselines), min(bares)
        ratio = first_seconds / sql_seconds
        rows = [
            ("discharges in the busy week", f"{count:,}"),
            (
                f"first generation (best of {repeat})",
                f"{first_seconds:.2f} s = {count / first_seconds:,.0f} rows/s (all: {self._seconds(firsts)})",
            ),
            (
                "baseline: INSERT ... SELECT into a trigger-free copy",
                f"{sql_seconds:.2f} s = {count / sql_seconds:,.0f} rows/s (all: {self._seconds(baselines)})",
            ),
            ("ratio generation / baseline", f"{ratio:.2f}x (target <= 1.5x)"),
            ("identical rows from both", "yes" if same_rows else "NO"),
            (
                "dashboard summary equals a recount of the calls",
                "yes" if not differences else f"NO: {differences} rows differ",
            ),
            ("immediate re-run", f"{rerun_seconds:.3f} s (target < 0.5 s)"),
            ("peak Python memory of a generation", f"{peak / 2**20:.1f} MiB (tracemalloc)"),
            ("peak RSS during the first generation", rss_text(rss_before, peak_rss)),
            ("(same INSERT ... SELECT into a bare temporary table)", f"{bare_seconds:.2f} s"),
            (
                f"generation by risk tier (best of {repeat})",
                f"{min(tiered):.2f} s = {100 * (min(tiered) / first_seconds - 1):+.1f}% (target <= +10%): the step "
                f"limited to every tier, so the same calls (all: {self._seconds(tiered)})",
            ),
        ]
        write_table(self.stdout, rows)

    def _tiered_generations(self, department, step, monday, count: int, repeat: int) -> list[float]:
        """What readmission risk adds to a generation (issue 21): the rule's
        step limited to every risk tier (a rule that gives tiers their own
        steps filters each step by tier), so the same calls, then the same
        generation timed ``repeat`` times. (The stays were scored when the
        benchmark created them, as an import scores them.)"""
        RuleStep.objects.filter(pk=step.pk).update(risk_tiers=list(RiskTier.values))
        seconds = []
        try:
            for _run in range(repeat):
                self._delete_calls(department)
                result, took = self._generate(department, monday)
                if result.created != count:
                    raise CommandError(f"expected {count} calls by risk tier, the generation created {result.created}")
                seconds.append(took)
        finally:
            RuleStep.objects.filter(pk=step.pk).update(risk_tiers=[])
        return seconds

    @staticmethod
    def _seconds(values: list[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    def _cleanup(self, department):
        self.stdout.write("Cleaning up ...")
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {BASELINE_TABLE}; DROP TABLE IF EXISTS {BARE_TABLE}")
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM calls_followupcall WHERE discharge_id IN "
                    "(SELECT id FROM calls_discharge WHERE department_id = %s)",
                    [department.pk],
                )
                cursor.execute("DELETE FROM calls_discharge WHERE department_id = %s", [department.pk])
                cursor.execute(
                    "DELETE FROM calls_patient p WHERE p.mrn LIKE %s "
                    "AND NOT EXISTS (SELECT 1 FROM calls_discharge d WHERE d.patient_id = p.id)",
                    [f"{MRN_PREFIX}%"],
                )
            RuleStep.objects.filter(rule__department=department).delete()
            FollowUpRule.objects.filter(department=department).delete()
            users = list(department.staff.filter(username__startswith=NURSE_PREFIX))
            department.staff.clear()
            department.delete()
            User.objects.filter(pk__in=[u.pk for u in users]).delete()
