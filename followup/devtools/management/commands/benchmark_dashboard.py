# ruff: noqa: S608  -- SQL built from trusted literals only (ids, dates, constants), never user input.
"""Time the head nurse's dashboard on a large data set (PostgreSQL), beside
the SQL it needs.

Seeds a dedicated department with N calls (default one million) spread over
the last two years with INSERT ... SELECT generate_series (one patient and
discharge per call, item scores, spot checks, open alerts; the summary
triggers keep the dashboard's tables as they go, so no rebuild touches other
departments' rows), then for a 4-week and a 1-year range, ``--runs`` rounds
after one warm-up, in a settled process (followup/startup.py: the garbage
collector's full collections no longer walk the project's own objects, as
in a web server process), each round:

- renders ``/calls/dashboard/`` through the full middleware stack;
- runs the SQL of the aggregates that page needs, raw: the statements
  ``dashboard_figures`` sends for that range (captured once), executed
  through a plain cursor with every row fetched; no ORM, template or
  middleware.

It prints the median and p95 of both and the page's p95 as a ratio to the
SQL's (target: at most 2x for a year). Cleans up afterwards unless --keep
(a later run with --reuse skips the seeding). Everything it writes belongs
to its own department, patients, complaints, users and items (prefixes
BENCH-DASH, BENCHDASH- and benchdash-), so it works beside other data.
"""

import datetime as dt
import statistics
import time
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from calls.dashboard.selectors import Period, dashboard_figures
from calls.models import Department, Discharge, FollowUpCall, Patient, SatisfactionItem
from followup.devtools.bench_rows import delete_ward_stays
from followup.devtools.guard import add_force_argument, claim_database
from followup.devtools.measure import load_average, percentile
from followup.models import AuditEvent, User
from followup.roles import Role
from followup.startup import settle

CODE = "BENCH-DASH"
PREFIX = "BENCHDASH-"
USER_PREFIX = "benchdash-"
TARGET = 2  # the page's p95 at most this many times the SQL's, for a year
NURSES = 20


def _insert_select(model, source: str, overrides: dict[str, str]) -> int:
    """INSERT INTO <model> SELECT ... FROM <source>: columns not overridden get
    the field's default (the database has none of Django's defaults). The
    overrides hold only trusted literals (no placeholders; % written %%)."""
    columns, exprs, values = [], [], []
    now = timezone.now()
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(connection.ops.quote_name(f.column))
        if f.column in overrides:
            exprs.append(overrides[f.column])
            continue
        default = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        exprs.append("%s")
        values.append(f.get_db_prep_save(default, connection))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # nosec B608
        f"SELECT {', '.join(exprs)} FROM {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.rowcount


@contextmanager
def _triggers_off():
    """Bulk loading row by row through the summary triggers is slow: switch
    them off for this session (needs a superuser) and rebuild afterwards."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")


class Command(BaseCommand):
    help = "Seed a large data set into a dedicated department and time the dashboard (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--calls", type=int, default=1_000_000)
        parser.add_argument("--complaints", type=int, default=50_000)
        parser.add_argument("--runs", type=int, default=20, help="renders per range")
        parser.add_argument("--keep", action="store_true", help="keep the seeded data")
        parser.add_argument("--reuse", action="store_true", help="use data kept by an earlier --keep run")
        parser.add_argument("--cleanup", action="store_true", help="only remove an earlier run's data")
        add_force_argument(parser)

    def handle(self, *args, calls, complaints, runs, keep, reuse, cleanup, force, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL (set DATABASE_URL).")
        claim_database(command="benchmark_dashboard", force=force)
        if cleanup:
            self._cleanup()
            return
        today = timezone.localdate()
        if reuse:
            department = Department.objects.get(code=CODE)
            head = User.objects.get(username=f"{USER_PREFIX}head")
        else:
            self._cleanup()
            started = time.perf_counter()
            # The summary's statement-level triggers keep up with INSERT ... SELECT of a
            # million rows (one upsert per summary key): no rebuild of other departments' rows.
            department, head = self._seed(calls, today)
            self._seed_complaints(complaints, today, department, head)
            self._vacuum()
            self.stdout.write(
                f"seeded {calls:,} calls and {complaints:,} complaints in {time.perf_counter() - started:.1f} s"
            )
        try:
            self._time(department, head, today, runs, calls)
        finally:
            if not keep:
                self._cleanup()

    @transaction.atomic
    def _seed(self, count: int, today: dt.date):
        department = Department.objects.create(code=CODE, name="Benchmark ward")
        head = User.objects.create(username=f"{USER_PREFIX}head", display_name="Benchmark head nurse")
        head.groups.add(Group.objects.get(name=Role.HEAD_NURSE))
        department.staff.add(head)
        nurses = User.objects.bulk_create(
            [User(username=f"{USER_PREFIX}nurse-{i}", display_name=f"Nurse {i:02d}") for i in range(NURSES)]
        )
        nurse_ids = ",".join(str(n.pk) for n in nurses)
        items = [
            SatisfactionItem.objects.get_or_create(
                code=f"{USER_PREFIX}{code}", defaults={"name": name, "order": 90 + i}
            )[0]
            for i, (code, name) in enumerate([("attitude", "Attitude"), ("skill", "Skill"), ("fees", "Fees")])
        ]
        days = 730
        _insert_select(
            Patient, f"generate_series(1, {int(count)}) AS g", {"mrn": f"'{PREFIX}' || g", "name": "'Patient ' || g"}
        )
        patients = (
            f"(SELECT id AS patient_id, CAST(substr(mrn, {len(PREFIX) + 1}) AS int) AS g "  # nosec B608
            f"FROM calls_patient WHERE mrn LIKE '{PREFIX}%%') AS s"
        )
        # due date spread evenly over the last two years; discharge a week earlier
        day = f"'{today.isoformat()}'::date"
        due = f"({day} - (g %% {days}))"
        _insert_select(
            Discharge,
            patients,
            {
                "patient_id": "patient_id",
                "department_id": str(department.pk),
                "admitted_on": f"{due} - 14",
                "discharged_on": f"{due} - 7",
                "diagnosis": "'Coronary heart disease'",
            },
        )
        source = (
            "(SELECT d.id AS discharge_id, d.discharged_on + 7 AS due, "  # nosec B608
            f"CAST(substr(p.mrn, {len(PREFIX) + 1}) AS int) AS g FROM calls_discharge d "
            f"JOIN calls_patient p ON p.id = d.patient_id WHERE d.department_id = {department.pk}) AS s"
        )
        r = "((g::bigint * 7919) %% 1000)"
        status = (
            f"CASE WHEN due > {day} - 3 THEN 'scheduled' WHEN {r} < 34 THEN 'cancelled' "
            f"WHEN {r} < 89 THEN 'unreachable' WHEN {r} < 95 THEN 'cancelled' ELSE 'completed' END"
        )
        done = f"(due <= {day} - 3 AND {r} >= 95)"
        sat = "((g::bigint * 104729) %% 100)"
        _insert_select(
            FollowUpCall,
            source,
            {
                "discharge_id": "discharge_id",
                "department_id": str(department.pk),
                "due_date": "due",
                "earliest_on": "due",
                "latest_on": "due + 7",
                "assigned_to_id": f"(ARRAY[{nurse_ids}])[g %% {NURSES} + 1]",
                "status": status,
                "cancel_reason": f"CASE WHEN due > {day} - 3 THEN '' WHEN {r} < 34 THEN 'deceased' "
                f"WHEN {r} BETWEEN 89 AND 94 THEN 'declined' ELSE '' END",
                "answered_by": f"CASE WHEN {done} THEN (CASE WHEN (g * 31) %% 100 < 60 THEN 'family' "
                "ELSE 'patient' END) ELSE '' END",
                "satisfaction": f"CASE WHEN {done} THEN (CASE WHEN {sat} < 92 THEN 'satisfied' WHEN {sat} < 97 "
                "THEN 'basic' ELSE 'unsatisfied' END) ELSE '' END",
                "completed_at": f"CASE WHEN {done} THEN (due + time '16:30') AT TIME ZONE '{settings.TIME_ZONE}' END",
                "completed_by_id": f"CASE WHEN {done} THEN (ARRAY[{nurse_ids}])[g %% {NURSES} + 1] END",
                "duration_seconds": f"CASE WHEN {done} THEN 240 + (g %% 360) END",
            },
        )
        mine = (
            "calls_followupcall c JOIN calls_discharge d ON d.id = c.discharge_id "
            f"WHERE d.department_id = {department.pk}"
        )
        with connection.cursor() as cursor:
            # fresh statistics, or the planner joins a million new rows as if the tables were empty
            cursor.execute("ANALYZE calls_patient, calls_discharge, calls_followupcall")
            for item in items:
                cursor.execute(
                    "INSERT INTO calls_itemscore (call_id, item_id, score) SELECT c.id, %s, "  # nosec B608
                    "CASE WHEN (c.id * 13 + %s) %% 100 < 70 THEN 10 WHEN (c.id * 13 + %s) %% 100 < 85 THEN 9 "
                    "WHEN (c.id * 13 + %s) %% 100 < 95 THEN 8 ELSE 5 END "
                    f"FROM {mine} AND c.status = 'completed'",
                    [item.pk, item.pk, item.pk, item.pk],
                )
            cursor.execute(
                "INSERT INTO calls_spotcheck (call_id, week, sampled_at, verdict, comment) "  # nosec B608
                "SELECT c.id, date_trunc('week', c.completed_at)::date, c.completed_at, "
                "CASE WHEN c.id % 3 = 0 THEN 'good' ELSE '' END, '' "
                f"FROM {mine} AND c.status = 'completed' AND c.id % 10 = 0"
            )
            cursor.execute(
                # red flags are acted on within a day: only the last week's are still open
                "INSERT INTO calls_clinicalalert (call_id, raised_at, due_at, reason, action, action_note, "  # nosec B608
                "resolved_at) SELECT c.id, c.completed_at, c.completed_at + interval '1 day', 'benchmark', "
                "'doctor_informed', '', CASE WHEN c.completed_at < now() - interval '7 days' "
                "THEN c.completed_at + interval '1 day' END "
                f"FROM {mine} AND c.status = 'completed' AND c.id % 500 = 0"
            )
        return department, head

    @transaction.atomic
    def _seed_complaints(self, count: int, today: dt.date, department, head):
        """Complaints received over the last two years, all involving the ward."""
        from complaints.models import Category, Complaint

        categories = ",".join(str(pk) for pk in Category.objects.values_list("pk", flat=True))
        received = f"(('{today.isoformat()}'::date - (g %% 730)) + time '09:00') AT TIME ZONE '{settings.TIME_ZONE}'"
        closed = "(g %% 10 < 8)"
        _insert_select(
            Complaint,
            f"generate_series(1, {int(count)}) AS g",
            {
                "reference": f"'{PREFIX}' || g",
                "channel": "'hotline'",
                "complainant_name": "'Complainant ' || g",
                "received_at": received,
                "received_by_id": str(head.pk),
                "description": "'benchmark'",
                "category_id": f"(ARRAY[{categories}])[g %% {len(categories.split(','))} + 1]",
                "severity": "CASE WHEN g %% 20 = 0 THEN 'urgent' WHEN g %% 5 = 0 THEN 'major' ELSE 'general' END",
                "status": f"CASE WHEN {closed} THEN 'closed' WHEN g %% 10 = 8 THEN 'investigating' ELSE 'received' END",
                "first_response_due": f"{received} + interval '30 minutes'",
                "first_responded_at": f"{received} + (g %% 40) * interval '1 minute'",
                "first_response_breached": "(g %% 40 > 30)",
                "resolution_due": f"{received} + interval '5 days'",
                "resolved_at": f"CASE WHEN {closed} THEN {received} + (g %% 7) * interval '1 day' END",
                "resolution_breached": f"({closed} AND g %% 7 > 5)",
                "closed_at": f"CASE WHEN {closed} THEN {received} + (g %% 7) * interval '1 day' END",
            },
        )
        through = Complaint.departments.through
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {through._meta.db_table} (complaint_id, department_id) "  # nosec B608
                "SELECT id, %s FROM complaints_complaint WHERE reference LIKE %s",
                [department.pk, f"{PREFIX}%"],
            )
            # the closed ones were resolved: compensation for one in seven, an explanation for the rest
            cursor.execute(
                "INSERT INTO complaints_resolutionmeasure (complaint_id, kind, amount) "
                "SELECT id, CASE WHEN id %% 7 = 0 THEN 'compensation' ELSE 'explanation' END, "
                "CASE WHEN id %% 7 = 0 THEN 500 END "
                "FROM complaints_complaint WHERE reference LIKE %s AND status = 'closed'",
                [f"{PREFIX}%"],
            )

    @staticmethod
    def _vacuum() -> None:
        """Fresh statistics and no dead rows, as autovacuum leaves a database
        after a big load (a development server may run without it)."""
        # VACUUM cannot run inside a transaction block (a test's): ANALYZE alone there.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            cursor.execute(command)

    def _time(self, department, head, today, runs, count):
        client = Client()
        client.force_login(head)
        url = reverse("calls:dashboard")
        self.stdout.write(
            f"{'range':<8} {'calls in range':>15} {'page median ms':>15} {'page p95 ms':>12} "
            f"{'SQL median ms':>14} {'SQL p95 ms':>11} {'queries':>8} {'p95 ratio':>10}"
        )
        # As a web server process does before its first request (followup/wsgi.py), and
        # benchmark_pages before its pages: the objects loaded so far out of the garbage
        # collector's way. Without it one full collection, walking some 130,000 of them
        # (about 70 ms), fell in about one render in sixty, at the same round of every run
        # (the same work in the same order): it was the maximum, and with 20 rounds the p95
        # is the maximum, of whichever range and side it fell in.
        settle()
        # as production serves it: DEBUG off (no query log)
        with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
            for label, days in (("4 weeks", 28), ("1 year", 365)):
                start = today - dt.timedelta(days=days - 1)
                params = {"start": start.isoformat(), "end": today.isoformat()}
                statements = self._statements(department, Period(start, today), today)
                page, sql = [], []
                for run in range(runs + 1):  # the first round warms the caches
                    began = time.perf_counter()
                    response = client.get(url, params, secure=True)
                    page_ms = (time.perf_counter() - began) * 1000
                    if response.status_code != 200:
                        raise CommandError(f"dashboard answered {response.status_code}")
                    began = time.perf_counter()
                    with connection.cursor() as cursor:
                        for statement in statements:
                            cursor.execute(statement)
                            cursor.fetchall()
                    sql_ms = (time.perf_counter() - began) * 1000
                    if run:
                        page.append(page_ms)
                        sql.append(sql_ms)
                in_range = FollowUpCall.objects.filter(
                    discharge__department=department, due_date__gte=start, due_date__lte=today
                ).count()
                ratio = percentile(page, 0.95) / percentile(sql, 0.95)
                self.stdout.write(
                    f"{label:<8} {in_range:>15,} {statistics.median(page):>15.0f} {percentile(page, 0.95):>12.0f} "
                    f"{statistics.median(sql):>14.0f} {percentile(sql, 0.95):>11.0f} {len(statements):>8} "
                    f"{ratio:>9.2f}x"
                )
        self.stdout.write(f"target: the page's p95 at most {TARGET}x the SQL's, for a year")
        self.stdout.write(load_average())

    @staticmethod
    def _statements(department, period: Period, today: dt.date) -> list[str]:
        """The SQL ``dashboard_figures`` sends for this department and period
        (parameters inlined by the driver), to be run again raw."""
        with CaptureQueriesContext(connection) as captured:
            dashboard_figures(department_ids=[department.pk], period=period, today=today)
        return [query["sql"] for query in captured.captured_queries]

    def _cleanup(self):
        department = Department.objects.filter(code=CODE).first()
        with _triggers_off(), transaction.atomic(), connection.cursor() as cursor:
            if department is not None:
                calls = (
                    "SELECT c.id FROM calls_followupcall c JOIN calls_discharge d ON d.id = c.discharge_id "
                    "WHERE d.department_id = %s"
                )
                for table in ("calls_spotcheck", "calls_itemscore", "calls_clinicalalert"):
                    cursor.execute(f"DELETE FROM {table} WHERE call_id IN ({calls})", [department.pk])  # nosec B608
                delete_ward_stays(cursor, department.pk)
                department.staff.clear()
                department.delete()
            cursor.execute("DELETE FROM calls_patient WHERE mrn LIKE %s", [f"{PREFIX}%"])
        from complaints.models import Complaint, ResolutionMeasure

        bench_complaints = Complaint.objects.filter(reference__startswith=PREFIX)
        Complaint.departments.through.objects.filter(complaint__in=bench_complaints).delete()
        ResolutionMeasure.objects.filter(complaint__in=bench_complaints).delete()
        bench_complaints.delete()
        users = User.objects.filter(username__startswith=USER_PREFIX)
        # The trail is append-only (a trigger refuses DELETE); the benchmark's own
        # rows go with the triggers off, which needs the superuser it already needs.
        with _triggers_off():
            AuditEvent.objects.filter(actor__in=users).delete()
        users.delete()
        SatisfactionItem.objects.filter(code__startswith=USER_PREFIX).delete()
