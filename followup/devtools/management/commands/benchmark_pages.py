"""Render times of the nurse's pages on a big database.

    python manage.py benchmark_pages [--calls 200000] [--runs 50] [--keep] [--reuse]

Seeds a dedicated department (code BENCH) with ``--calls`` follow-up calls
(two rule steps per discharge, two years of completed history plus the
coming weeks' open calls, spread over five nurses and one head nurse), then
renders the worklist and the call screen ``--runs`` times each through the
test client as one of those nurses (and the worklist as the head nurse),
and prints the median and 95th percentile render times (wall clock), the
median CPU time of this process (Python only: PostgreSQL's own time is not
in it, nor is waiting for a CPU) and the query count. The seeded rows are
removed afterwards unless ``--keep`` is given. Meant for PostgreSQL; SQLite
works for a quick look.
"""

import datetime as dt
import os
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
    Question,
    RuleStep,
    ScriptVersion,
    TalkingPoint,
)
from followup.devtools.guard import add_force_argument, claim_database
from followup.models import User
from followup.roles import Role

CODE = "BENCH"
NURSES = 5
BATCH = 5000


def _raw_delete(queryset: QuerySet) -> None:
    # Plain DELETE statements: the rows are the benchmark's own, nothing
    # outside them points at them, and collecting 200,000 objects is slow.
    queryset._raw_delete(queryset.db)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


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
            nurse, call = self.seeded()
            self.stdout.write(
                f"reusing {FollowUpCall.objects.filter(discharge__department__code=CODE).count():,} "
                f"seeded calls ({connection.vendor})"
            )
        else:
            self.remove()
            started = time.perf_counter()
            self.seed(calls)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:  # as autovacuum would after a big load
                    cursor.execute("ANALYZE")
            nurse, call = self.seeded()
            self.stdout.write(f"seeded {calls:,} calls in {time.perf_counter() - started:.1f} s ({connection.vendor})")
        try:
            rows = [  # (name, wall ms per run, this process's CPU ms per run, queries)
                self.measure("worklist (today)", nurse, reverse("calls:worklist"), runs),
                self.measure("worklist (all, page 40)", nurse, reverse("calls:worklist") + "?tab=all&page=40", runs),
                self.measure("call screen", nurse, reverse("calls:call_detail", args=[call.pk]), runs),
                self.measure(
                    "worklist (head nurse)", User.objects.get(username="bench-head"), reverse("calls:worklist"), runs
                ),
            ]
            self.stdout.write("")
            self.stdout.write(
                f"{'page':<26} {'runs':>5} {'median ms':>10} {'p95 ms':>8} {'cpu median ms':>14} {'queries':>8}"
            )
            for name, times, cpu, queries in rows:
                self.stdout.write(
                    f"{name:<26} {len(times):>5} {statistics.median(times):>10.1f} "
                    f"{percentile(times, 0.95):>8.1f} {statistics.median(cpu):>14.1f} {queries:>8}"
                )
            self.stdout.write(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        finally:
            if keep:
                self.stdout.write(f"kept the seeded rows (department {CODE}); run again without --keep to remove")
            else:
                self.remove()

    def measure(self, name: str, nurse: User, url: str, runs: int) -> tuple[str, list[float], list[float], int]:
        client = Client()
        client.force_login(nurse)
        times, cpu = [], []
        queries = 0
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            client.get(url, secure=True)  # warm caches and connections
            for _run in range(runs):
                with CaptureQueriesContext(connection) as captured:
                    begin, begin_cpu = time.perf_counter(), time.process_time()
                    response = client.get(url, secure=True)
                    elapsed = (time.perf_counter() - begin) * 1000
                    cpu.append((time.process_time() - begin_cpu) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}")
                times.append(elapsed)
                queries = len(captured.captured_queries)
        return name, times, cpu, queries

    def seeded(self) -> tuple[User, FollowUpCall]:
        """The first nurse and her earliest open day-14 call (its day-7 call
        is completed, so the screen shows an earlier call with answers)."""
        nurse = User.objects.get(username="bench-nurse-0")
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
        department = Department.objects.create(code=CODE, name="Benchmark ward")
        nurse_group = Group.objects.get(name=Role.NURSE)
        nurses = []
        for n in range(NURSES):
            user, _ = User.objects.update_or_create(
                username=f"bench-nurse-{n}", defaults={"display_name": f"Bench nurse {n}", "is_active": True}
            )
            user.groups.add(nurse_group)
            nurses.append(user)
        head, _ = User.objects.update_or_create(
            username="bench-head", defaults={"display_name": "Bench head nurse", "is_active": True}
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
        script = CallScript.objects.create(name="Benchmark script", language=CallScript.Language.ENGLISH)
        script.departments.add(department)
        version = ScriptVersion.objects.create(script=script, number=1, status=ScriptVersion.Status.PUBLISHED)
        TalkingPoint.objects.bulk_create(
            TalkingPoint(version=version, phase=phase, order=i, text=f"Talking point {i} of {phase}")
            for phase in TalkingPoint.Phase.values
            for i in range(4)
        )
        questions = Question.objects.bulk_create(
            Question(
                version=version,
                order=i,
                text=f"Question {i}?",
                kind=Question.Kind.YES_NO,
                red_flag_answers=["yes"] if i == 0 else [],
            )
            for i in range(8)
        )

        discharges_wanted = total // len(steps)
        patients = Patient.objects.bulk_create(
            (
                Patient(
                    mrn=f"{CODE}{i:09d}",
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
            _raw_delete(Patient.objects.filter(mrn__startswith=CODE, discharges__isnull=True))
            RuleStep.objects.filter(rule__department=department).delete()
            FollowUpRule.objects.filter(department=department).delete()
            for script in CallScript.objects.filter(name="Benchmark script", departments=department):
                ScriptVersion.objects.filter(script=script).delete()
                script.delete()
            # The page views were recorded in the audit trail, which is never
            # deleted; the benchmark's users stay, switched off, for those records.
            bench_users = User.objects.filter(username__startswith="bench-")
            bench_users.update(is_active=False)
            for user in bench_users:
                user.groups.clear()
            department.delete()
