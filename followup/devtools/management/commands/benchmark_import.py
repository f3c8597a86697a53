"""Benchmark of the discharge file import on PostgreSQL (not a test).

    python manage.py benchmark_import [--rows 20000] [--rounds 1] [--again] [--force]

Writes a cardiology ward's export of ``--rows`` discharges over the past
year (followup.devtools.synthetic.discharge_export_rows: one patient in ten
readmitted, one stay in a hundred ending in death) to a temporary CSV file,
for a dedicated department (code BENCH-IMPORT, its own nurses and a rule
with a day-7 and a day-30 call), then measures in one run:

- the baseline: ``COPY`` of the same file into a plain table (one text
  column per import column, no index, no key, no trigger): what moving those
  bytes into the database costs, without any of the checks, look-ups,
  upserts, audit rows and calls the import exists for;
- the import, as ``manage.py import_discharges`` runs it (the file read as a
  stream, checked, applied all or nothing, calls generated): its time, rows
  per second (target: at least 2,000) and ratio to the baseline; the CPU
  time of this process and of its PostgreSQL backend (read from /proc, as
  other work on the machine stretches the wall-clock time); the peak
  resident memory of the process during the import, over what it held
  before (flat in the file size: compare 20,000 and 200,000 rows);
- what the readmission risk and the outcome ledger cost (issue 21, target
  at most 10% of the rows per second): the same import with the scoring
  left out (``discharge_import._score`` replaced by nothing), run before
  and after the measured one (and ``--rounds`` times each: the fastest of
  each kind is compared), each removed again; printed as the share of the
  wall time and of the CPU time (this process and its backend) the scoring
  adds;
- with ``--again``, the same file imported a second time (every row an
  unchanged update: nothing written but the calls' check).

It checks that the import created one stay per row and the calls the rule
gives them. Everything it creates is removed at the end except the audit
rows (the trail refuses deletion).
"""

import csv
import datetime as dt
import tempfile
import time
from pathlib import Path
from unittest import mock

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.test.utils import override_settings
from django.utils import timezone

from calls.imports import IMPORT_COLUMNS, discharge_file_rows
from calls.models import Department, Discharge, FollowUpCall, FollowUpRule, RuleStep
from calls.services import discharge_import
from calls.services.discharge_import import discharges_import
from followup.dates import week_bounds
from followup.devtools.bench_rows import bench_ward, delete_ward_stays
from followup.devtools.guard import add_force_argument, claim_database
from followup.devtools.measure import backend_cpu, memory_kib, reset_peak_rss, rss_text, write_table
from followup.devtools.synthetic import discharge_export_rows
from followup.models import User
from followup.startup import settle

CODE = "BENCH-IMPORT"
MRN_PREFIX = "BENCHI"
NURSE_PREFIX = "bench_import_nurse_"
NURSES = 5
BASELINE_TABLE = "devtools_bench_import_rows"
TARGET = 2000  # rows per second
STEP_DAYS = ((7, [0, 1, 2, 3, 4]), (30, [1, 3]))  # (days after discharge, calling days) of the rule's calls


VACUUMED = (
    "calls_patient",
    "calls_discharge",
    "calls_followupcall",
    "calls_deathrecord",
    "calls_dashboardstay",
    "calls_dashboardstayday",
    "calls_dashboardday",
    "calls_dashboarditemday",
    "followup_auditevent",
)


def _vacuum() -> None:
    """VACUUM ANALYZE the tables an import writes, as autovacuum would after
    a big load (outside any transaction)."""
    with connection.cursor() as cursor:
        for table in VACUUMED:
            cursor.execute(f"VACUUM ANALYZE {table}")


class _TimedScoring:
    """discharge_import._score, timed: the wall and CPU time spent in it."""

    def __init__(self):
        self.score = discharge_import._score
        self.seconds = self.cpu = 0.0

    def __call__(self, *args, **kwargs):
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return self.score(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu += time.process_time() - cpu


def _no_scoring(*args, **kwargs) -> None:
    """discharge_import._score for the import without risk and outcome ledger."""


class Command(BaseCommand):
    help = (
        "Measure the discharge import of a synthetic ward export against a COPY of the same file into a plain "
        "table (PostgreSQL only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=20_000, help="discharges in the file (default 20,000)")
        parser.add_argument("--again", action="store_true", help="also time importing the same file a second time")
        parser.add_argument(
            "--rounds",
            type=int,
            default=1,
            help="imports of each kind (with and without risk and outcome ledger) to take the fastest of (default 1)",
        )
        add_force_argument(parser)

    def handle(self, *args, rows: int, again: bool, rounds: int, force: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("benchmark_import measures PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
        if rows < 1 or rounds < 1:
            raise CommandError("--rows and --rounds must be at least 1.")
        if Department.objects.filter(code=CODE).exists():
            raise CommandError(f"Department {CODE} exists (an interrupted run?): remove it first.")
        claim_database(command="benchmark_import", force=force)
        department, nurses = self._setup()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench-cardiology.csv"
            try:
                self._write_file(path, rows, nurses)
                # As production runs it: DEBUG off, so no query is kept in memory for the debug page.
                with override_settings(DEBUG=False):
                    self._measure(path, rows, department, again, rounds)
            finally:
                self._cleanup(department)

    def _setup(self) -> tuple[Department, list[str]]:
        with transaction.atomic():
            department, nurses, rule = bench_ward(
                code=CODE, name="Benchmark ward (import)", nurse_prefix=NURSE_PREFIX, nurses=NURSES
            )
            for order, (offset, weekdays) in enumerate(STEP_DAYS):
                RuleStep.objects.create(
                    rule=rule,
                    order=order,
                    offset_days=offset,
                    late_days=3,
                    weekdays=weekdays,
                    window_start=dt.time(9),
                    window_end=dt.time(17),
                )
        return department, [nurse.username for nurse in nurses]

    def _write_file(self, path: Path, count: int, nurses: list[str]) -> None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(IMPORT_COLUMNS)
            writer.writerows(
                discharge_export_rows(
                    count=count,
                    department_code=CODE,
                    nurses=nurses,
                    today=timezone.localdate(),
                    mrn_prefix=MRN_PREFIX,
                    seed=20261130,
                )
            )

    def _copy_baseline(self, path: Path) -> tuple[float, int]:
        columns = ", ".join(IMPORT_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DROP TABLE IF EXISTS {BASELINE_TABLE}; "
                f"CREATE TABLE {BASELINE_TABLE} ({', '.join(f'{c} text' for c in IMPORT_COLUMNS)})"
            )
        started = time.perf_counter()
        statement = f"COPY {BASELINE_TABLE} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER)"
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            path.open("rb") as handle,
            cursor.cursor.copy(statement) as copy,
        ):
            while block := handle.read(1 << 16):
                copy.write(block)
        seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {BASELINE_TABLE}")  # noqa: S608  # nosec B608 - a constant name
            (copied,) = cursor.fetchone()
        return seconds, copied

    def _import(self, path: Path):
        backend_before, cpu_before = backend_cpu(), time.process_time()
        rss_before = memory_kib("VmRSS")
        watching = reset_peak_rss()
        started = time.perf_counter()
        with path.open("rb") as stream:
            report = discharges_import(
                rows=discharge_file_rows(name=path.name, stream=stream),
                by=None,
                dry_run=False,
                source_reference=path.name,
                keep_rows=False,
            )
        seconds = time.perf_counter() - started
        peak = memory_kib("VmHWM") if watching else None
        backend_after = backend_cpu()
        backend = None if backend_before is None or backend_after is None else backend_after - backend_before
        if not report.applied:
            raise CommandError(f"the import refused the file: {report.errors[:5]}")
        return report, seconds, time.process_time() - cpu_before, backend, rss_before, peak

    def _measure(self, path: Path, count: int, department: Department, again: bool, rounds: int) -> None:
        size = path.stat().st_size
        copy_seconds, copied = self._copy_baseline(path)
        # What the readmission risk and the outcome ledger cost: the same import
        # without them (calls.services.discharge_import._score left out) before
        # and after the measured one, each removed again; the faster of the two
        # is compared (the first also warms up what any first run pays).
        _vacuum()
        settle()  # as import_discharges does before its file
        rss_before = memory_kib("VmRSS")
        bare = [self._bare_import(path, department)]
        scoring = _TimedScoring()
        with mock.patch.object(discharge_import, "_score", new=scoring):
            report, seconds, cpu, backend, _rss, peak = self._import(path)
        checked = self._check_import(report, count, copied, department)
        for _round in range(1, rounds):  # more rounds: the faster of each kind is compared
            self._remove_imported(department)
            bare.append(self._bare_import(path, department))
            _report, *measured = self._import(path)
            if measured[0] < seconds:
                seconds, cpu, backend = measured[:3]
        self._remove_imported(department)
        bare.append(self._bare_import(path, department))
        bare_seconds, bare_cpu, bare_backend = min(bare)
        if again:
            self._import(path)
            report, again_seconds, again_cpu, again_backend, _before, _peak = self._import(path)
        rows = [
            ("rows in the file", f"{count:,} ({size / 2**20:.1f} MiB)"),
            (
                "import (read, check, write, audit, calls)",
                f"{seconds:.2f} s = {count / seconds:,.0f} rows/s (target >= {TARGET:,} rows/s)",
            ),
            (
                "baseline: COPY of the file into a plain table",
                f"{copy_seconds:.2f} s = {count / copy_seconds:,.0f} rows/s",
            ),
            ("ratio import / COPY", f"{seconds / copy_seconds:.1f}x"),
            ("CPU: this process / its PostgreSQL backend", self._cpu(cpu, backend, count)),
            ("peak RSS during the import", rss_text(rss_before, peak)),
            ("stays and calls created", checked),
            (
                "the same import without risk and outcome ledger",
                f"{bare_seconds:.2f} s = {count / bare_seconds:,.0f} rows/s (the faster of a run before and after); "
                f"CPU {self._cpu(bare_cpu, bare_backend, count)}",
            ),
            ("rows/s lost to risk and outcome ledger", self._share(seconds, cpu, backend, min(bare))),
            (
                "of which the scoring code, timed inside the import",
                f"{scoring.seconds:.2f} s = {100 * scoring.seconds / seconds:.1f}% of the import's time, "
                f"{scoring.cpu:.2f} s CPU (discharge_import._score: reads, scores, ledgers; not the columns' writing)",
            ),
        ]
        if again:
            rows.append(
                (
                    "the same file again (all unchanged updates)",
                    f"{again_seconds:.2f} s = {count / again_seconds:,.0f} rows/s, {report.updated:,} updated; "
                    f"CPU {self._cpu(again_cpu, again_backend, count)}",
                )
            )
        write_table(self.stdout, rows)

    def _bare_import(self, path: Path, department: Department) -> tuple[float, float, float | None]:
        # Replaced by a plain function: a Mock would keep every chunk's rows it was called with.
        with mock.patch.object(discharge_import, "_score", new=_no_scoring):
            _report, seconds, cpu, backend, _before, _peak = self._import(path)
        self._remove_imported(department)
        return seconds, cpu, backend

    @staticmethod
    def _share(seconds: float, cpu: float, backend: float | None, bare: tuple[float, float, float | None]) -> str:
        bare_seconds, bare_cpu, bare_backend = bare
        text = f"{100 * (1 - bare_seconds / seconds):.1f}% of the wall time"
        if backend is not None and bare_backend is not None:
            text += f", {100 * (1 - (bare_cpu + bare_backend) / (cpu + backend)):.1f}% of the CPU time"
        return text + " (target <= 10%)"

    @staticmethod
    def _check_import(report, count: int, copied: int, department: Department) -> str:
        stays = Discharge.objects.filter(department=department).count()
        calls = FollowUpCall.objects.filter(discharge__department=department).count()
        later = Discharge.objects.filter(patient=OuterRef("patient"), admitted_on__gt=OuterRef("admitted_on"))
        callable_stays = Discharge.objects.filter(department=department, patient__deceased_on__isnull=True).exclude(
            Exists(later)
        )
        # Each callable stay has the calls due by the end of this week; the later ones come with the weekly run.
        _monday, sunday = week_bounds(timezone.localdate())
        expected = sum(
            callable_stays.filter(discharged_on__lte=sunday - dt.timedelta(days=offset)).count()
            for offset, _weekdays in STEP_DAYS
        )
        if report.created != count or stays != count or copied != count:
            raise CommandError(
                f"expected {count} stays: the import created {report.created} ({stays} stored), the COPY {copied}"
            )
        if calls != expected:
            raise CommandError(f"expected {expected} calls (those due by the end of this week), found {calls}")
        if not Discharge.objects.filter(department=department).exclude(risk_detail={}).exists():
            raise CommandError("the import scored no stay")
        return f"{stays:,} stays, {calls:,} calls (all those due by the end of this week)"

    @staticmethod
    def _cpu(cpu: float, backend: float | None, count: int) -> str:
        if backend is None:
            return f"{cpu:.1f} s / not measured (the server is not on this machine)"
        return f"{cpu:.1f} s / {backend:.1f} s = {count / (cpu + backend):,.0f} rows per CPU second"

    def _cleanup(self, department: Department) -> None:
        self.stdout.write("Cleaning up ...")
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {BASELINE_TABLE}")
        self._remove_imported(department)
        with transaction.atomic():
            RuleStep.objects.filter(rule__department=department).delete()
            FollowUpRule.objects.filter(department=department).delete()
            users = list(department.staff.filter(username__startswith=NURSE_PREFIX))
            department.staff.clear()
            department.delete()
            User.objects.filter(pk__in=[u.pk for u in users]).delete()

    def _remove_imported(self, department: Department) -> None:
        """What an import of the file created, but its audit rows (the trail
        refuses deletion); then the tables it wrote vacuumed and analyzed, so
        the next import starts from the same tables (not walking the dead rows
        of this one)."""
        self._delete_imported(department)
        _vacuum()

    @staticmethod
    def _delete_imported(department: Department) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            delete_ward_stays(cursor, department.pk)
            cursor.execute(
                "DELETE FROM calls_deathrecord_cancelled_calls WHERE deathrecord_id IN (SELECT r.id "
                "FROM calls_deathrecord r JOIN calls_patient p ON p.id = r.patient_id WHERE p.mrn LIKE %s)",
                [f"{MRN_PREFIX}%"],
            )
            cursor.execute(
                "DELETE FROM calls_deathrecord WHERE patient_id IN (SELECT id FROM calls_patient WHERE mrn LIKE %s)",
                [f"{MRN_PREFIX}%"],
            )
            cursor.execute(
                "DELETE FROM calls_patient p WHERE p.mrn LIKE %s "
                "AND NOT EXISTS (SELECT 1 FROM calls_discharge d WHERE d.patient_id = p.id)",
                [f"{MRN_PREFIX}%"],
            )
