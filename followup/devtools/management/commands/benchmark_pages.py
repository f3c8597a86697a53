"""Render times of the nurse's pages on a big database, each beside a
trivial authenticated page measured in the same run.

    python manage.py benchmark_pages [--calls 200000] [--runs 50] [--keep] [--reuse]

Seeds a dedicated department (code BENCH-PAGES) with ``--calls`` follow-up
calls (two rule steps per discharge, two years of completed history plus the
coming weeks' open calls, spread over five nurses and one head nurse), then
vacuums and analyzes the tables it wrote (as autovacuum would after a big
load), then renders through the test client, ``--runs`` rounds in turn:

- the baseline: a trivial authenticated page, "password changed"
  (``/accounts/password/done/``): the whole middleware stack (session, user,
  roles, audit) and the site's layout (menu, language switch, session
  timer), a heading and a sentence, no data;
- the session keep-alive (``/accounts/keepalive/``), for reference: the same
  middleware, nothing rendered (204);
- the worklist and the call screen as one of those nurses, and the worklist
  as the ward's head nurse.

It prints each page's median and 95th percentile render times (wall clock)
and the p95 as a ratio to the baseline's p95 (target: at most 3x), the
median CPU time of this process (Python only: PostgreSQL's own time is not
in it, nor is waiting for a CPU) and the query count. Taking the pages in
turn, round after round, lets each see the same load from other work. The
seeded rows are removed afterwards unless ``--keep`` is given. Meant for
PostgreSQL; SQLite works for a quick look.
"""

import datetime as dt
import random
import statistics
import time

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from calls.models import (
    CallAnswer,
    CallAttempt,
    CallScript,
    ClinicalAlert,
    Department,
    Discharge,
    FollowUpCall,
    FollowUpRule,
    ItemScore,
    Patient,
    RuleStep,
    ScriptVersion,
)
from calls.risk import RiskTier
from followup.devtools.guard import add_force_argument, claim_database
from followup.devtools.measure import load_average, percentile
from followup.devtools.synthetic import synthetic_script
from followup.models import User
from followup.roles import Role
from followup.startup import settle

CODE = "BENCH-PAGES"
MRN_PREFIX = "BENCHP"
USER_PREFIX = "bench-pages-"
TARGET = 3  # each page's p95 at most this many times the baseline's
# The tables the seeding and the removal write (and the summary the triggers keep).
WRITTEN = (
    "calls_patient",
    "calls_discharge",
    "calls_followupcall",
    "calls_callanswer",
    "calls_callattempt",
    "calls_dashboardday",
)
NURSES = 5
# Every readmission-risk tier among the stays: the worklist orders a day's calls by it.
TIERS = (RiskTier.HIGH, RiskTier.MODERATE, RiskTier.LOW, RiskTier.UNKNOWN)
BATCH = 5000


def _raw_delete(queryset: QuerySet) -> None:
    # Plain DELETE statements: the rows are the benchmark's own, nothing
    # outside them points at them, and collecting 200,000 objects is slow.
    queryset._raw_delete(queryset.db)


class Command(BaseCommand):
    help = "Seed many calls and print render times and query counts of the worklist and the call screen."

    def add_arguments(self, parser):
        parser.add_argument("--calls", type=int, default=200_000, help="calls to seed (default 200,000)")
        parser.add_argument("--runs", type=int, default=50, help="renders of each page (default 50)")
        parser.add_argument("--keep", action="store_true", help="keep the seeded rows afterwards")
        parser.add_argument("--reuse", action="store_true", help="measure rows kept by an earlier --keep run")
        add_force_argument(parser)

    def handle(self, *args, calls: int, runs: int, keep: bool, reuse: bool, force: bool, **options):
        claim_database(command="benchmark_pages", force=force)
        if reuse and Department.objects.filter(code=CODE).exists():
            self.vacuum()
            nurse, call = self.seeded()
            self.stdout.write(
                f"reusing {FollowUpCall.objects.filter(discharge__department__code=CODE).count():,} "
                f"seeded calls ({connection.vendor})"
            )
        else:
            self.remove()
            started = time.perf_counter()
            self.seed(calls)
            self.vacuum()
            nurse, call = self.seeded()
            self.stdout.write(f"seeded {calls:,} calls in {time.perf_counter() - started:.1f} s ({connection.vendor})")
        try:
            head = User.objects.get(username=f"{USER_PREFIX}head")
            pages = [
                ("baseline: trivial page", nurse, reverse("password_change_done")),
                ("keep-alive (no page)", nurse, reverse("keepalive")),
                ("worklist (today)", nurse, reverse("calls:worklist")),
                ("worklist (all, page 40)", nurse, reverse("calls:worklist") + "?tab=all&page=40"),
                ("call screen", nurse, reverse("calls:call_detail", args=[call.pk])),
                ("worklist (head nurse)", head, reverse("calls:worklist")),
            ]
            self.report(self.measure(pages, runs))
        finally:
            if keep:
                self.stdout.write(f"kept the seeded rows (department {CODE}); run again without --keep to remove")
            else:
                self.remove()

    def vacuum(self) -> None:
        """Fresh statistics and no dead rows, as autovacuum leaves a database
        some time after a big load (a development server may run without
        it: after many runs, planning alone then took 10-25 ms per query,
        walking dead index entries to find a column's current extremes)."""
        if connection.vendor != "postgresql":
            return
        # VACUUM cannot run inside a transaction block (a test's): ANALYZE alone there.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            cursor.execute(f"{command} {', '.join(WRITTEN)}")

    def measure(self, pages: list[tuple[str, User, str]], runs: int) -> list[tuple[str, list[float], list[float], int]]:
        """Each page ``runs`` times, the pages in turn; the query count from
        a second, untimed render (the first warms what a process keeps:
        statements compiled once, published scripts; capturing the queries
        slows every one)."""
        clients, queries = [], []
        # As a web server process does before its first request (followup/wsgi.py):
        # the objects loaded so far out of the garbage collector's way.
        settle()
        # as production serves them: DEBUG off (no query log)
        with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
            for _name, user, url in pages:
                client = Client()
                client.force_login(user)
                self.get(client, url)  # warms caches and connections
                with CaptureQueriesContext(connection) as captured:
                    self.get(client, url)
                clients.append(client)
                queries.append(len(captured.captured_queries))
            times: list[list[float]] = [[] for _page in pages]
            cpu: list[list[float]] = [[] for _page in pages]
            for _run in range(runs):
                for index, (_name, _user, url) in enumerate(pages):
                    begin, begin_cpu = time.perf_counter(), time.process_time()
                    self.get(clients[index], url)
                    times[index].append((time.perf_counter() - begin) * 1000)
                    cpu[index].append((time.process_time() - begin_cpu) * 1000)
        return [(name, times[i], cpu[i], queries[i]) for i, (name, _user, _url) in enumerate(pages)]

    @staticmethod
    def get(client: Client, url: str) -> None:
        response = client.get(url, secure=True)
        if response.status_code not in (200, 204):
            raise RuntimeError(f"{url} answered {response.status_code}")

    def report(self, rows: list[tuple[str, list[float], list[float], int]]) -> None:
        baseline = percentile(rows[0][1], 0.95)
        self.stdout.write("")
        self.stdout.write(
            f"{'page':<26} {'runs':>5} {'median ms':>10} {'p95 ms':>8} {'p95 ratio':>10} "
            f"{'cpu median ms':>14} {'queries':>8}"
        )
        for name, times, cpu, queries in rows:
            p95 = percentile(times, 0.95)
            self.stdout.write(
                f"{name:<26} {len(times):>5} {statistics.median(times):>10.1f} {p95:>8.1f} "
                f"{p95 / baseline:>9.2f}x {statistics.median(cpu):>14.1f} {queries:>8}"
            )
        self.stdout.write(f"target: each page's p95 at most {TARGET}x the baseline's")
        self.stdout.write(load_average())

    def seeded(self) -> tuple[User, FollowUpCall]:
        """The first nurse and her earliest open day-14 call (its day-7 call
        is completed, so the screen shows an earlier call with answers)."""
        nurse = User.objects.get(username=f"{USER_PREFIX}nurse-0")
        call = (
            FollowUpCall.objects.filter(
                assigned_to=nurse,
                status=FollowUpCall.Status.SCHEDULED,
                step__offset_days=14,
                discharge__department__code=CODE,
            )
            .order_by("due_date", "pk")
            .first()
        )
        return nurse, call

    @transaction.atomic
    def seed(self, total: int) -> None:
        rng = random.Random(20261122)  # noqa: S311 - demo data, not security
        today = timezone.localdate()
        department = Department.objects.create(code=CODE, name="Benchmark ward (pages)")
        nurse_group = Group.objects.get(name=Role.NURSE)
        nurses = []
        for n in range(NURSES):
            user, _ = User.objects.update_or_create(
                username=f"{USER_PREFIX}nurse-{n}", defaults={"display_name": f"Bench nurse {n}", "is_active": True}
            )
            user.groups.add(nurse_group)
            nurses.append(user)
        head, _ = User.objects.update_or_create(
            username=f"{USER_PREFIX}head", defaults={"display_name": "Bench head nurse", "is_active": True}
        )
        head.groups.add(Group.objects.get(name=Role.HEAD_NURSE))
        department.staff.add(*nurses, head)
        rule = FollowUpRule.objects.create(name="Benchmark rule", department=department)
        steps = [
            RuleStep.objects.create(
                rule=rule,
                order=i,
                offset_days=days,
                weekdays=[3],
                late_days=7,
                window_start=dt.time(16),
                window_end=dt.time(17),
            )
            for i, days in enumerate((7, 14))
        ]
        _version, questions = synthetic_script(
            name="Benchmark script", department=department, points_per_phase=4, questions=8
        )

        discharges_wanted = total // len(steps)
        patients = Patient.objects.bulk_create(
            (
                Patient(
                    mrn=f"{MRN_PREFIX}{i:09d}",
                    name=f"Patient {i}",
                    birth_date=dt.date(1940 + i % 50, 1 + i % 12, 1),
                    phone=f"+86138{i:08d}",
                )
                for i in range(discharges_wanted)
            ),
            batch_size=BATCH,
        )
        discharges = Discharge.objects.bulk_create(
            (
                Discharge(
                    patient=p,
                    department=department,
                    admitted_on=day - dt.timedelta(days=6),
                    discharged_on=day,
                    diagnosis="Coronary heart disease",
                    attending_doctor="Dr Bench",
                    risk_tier=TIERS[i % len(TIERS)],
                )
                for i, p in enumerate(patients)
                for day in [today - dt.timedelta(days=i % 730)]
            ),
            batch_size=BATCH,
        )
        calls = []
        for i, discharge in enumerate(discharges):
            for step in steps:
                due = discharge.discharged_on + dt.timedelta(days=step.offset_days)
                done = due < today - dt.timedelta(days=3)
                calls.append(
                    FollowUpCall(
                        discharge=discharge,
                        department=department,
                        risk_tier=discharge.risk_tier,
                        step=step,
                        due_date=due,
                        earliest_on=due,
                        latest_on=due + dt.timedelta(days=7),
                        assigned_to=nurses[i % NURSES],
                        status=FollowUpCall.Status.COMPLETED if done else FollowUpCall.Status.SCHEDULED,
                        satisfaction=FollowUpCall.Satisfaction.SATISFIED if done else "",
                        attempt_count=1 if done else rng.randint(0, 2),
                    )
                )
        # In the order the weekly queue writes them (a week's calls at a
        # time, two years of them): a ward's open calls are the newest rows,
        # not spread over every page of the table.
        calls.sort(key=lambda call: (call.due_date, call.discharge.pk, call.step.offset_days))
        FollowUpCall.objects.bulk_create(calls, batch_size=BATCH)
        nurse, call = self.seeded()
        earlier = FollowUpCall.objects.get(discharge=call.discharge, step=steps[0])
        CallAnswer.objects.bulk_create(CallAnswer(call=earlier, question=q, value="no") for q in questions)
        CallAttempt.objects.create(call=earlier, nurse=nurse, started_at=timezone.now(), result="answered")

    def remove(self) -> None:
        department = Department.objects.filter(code=CODE).first()
        if department is None:
            return
        with transaction.atomic():
            calls = FollowUpCall.objects.filter(discharge__department=department)
            for model in (ClinicalAlert, ItemScore, CallAnswer, CallAttempt):
                _raw_delete(model.objects.filter(call__in=calls))
            FollowUpCall.objects.filter(discharge__department=department, booked_from__isnull=False).delete()
            _raw_delete(FollowUpCall.objects.filter(discharge__department=department))
            _raw_delete(Discharge.objects.filter(department=department))
            _raw_delete(Patient.objects.filter(mrn__startswith=MRN_PREFIX, discharges__isnull=True))
            RuleStep.objects.filter(rule__department=department).delete()
            FollowUpRule.objects.filter(department=department).delete()
            for script in CallScript.objects.filter(name="Benchmark script", departments=department):
                ScriptVersion.objects.filter(script=script).delete()
                script.delete()
            # The page views were recorded in the audit trail, which is never
            # deleted; the benchmark's users stay, switched off, for those records.
            bench_users = User.objects.filter(username__startswith=USER_PREFIX)
            bench_users.update(is_active=False)
            for user in bench_users:
                user.groups.clear()
            department.delete()
