"""Load test: nurses working the call queue at once, through gunicorn.

    python manage.py load_test [--users 50] [--spawn-rate 10] [--run-time 2m] [--workers 4]

Against the database of DATABASE_URL (use a dedicated one: it keeps the
seeded rows, and it refuses one that holds a hospital's records unless
``--force``, see followup/devtools/guard.py): seeds a ward of its own (code
``LOAD<n>``) with ``--users`` nurses, ``--calls-per-nurse`` calls due today
for each and ``--shared-calls`` unassigned calls every nurse of the ward sees
at the top of her worklist (so nurses work the same calls at once); collects
the static files; starts gunicorn on 127.0.0.1 (a free port, production
settings: DEBUG off, no devtools); runs locust headless with
``followup/devtools/locustfile.py`` for ``--run-time``; stops both and prints
throughput, response times and the checks:

- no server error (5xx) and no dropped connection;
- no call completed twice: no call acknowledged complete twice, every
  completed call has ``completed_at``, and at most one booked call each;
- no lost update: every call's attempts in the database are exactly the
  attempts the server acknowledged (plus the "answered" attempt a completion
  adds when the last dial on record was not answered), its attempt counter
  equals its attempt rows, and it is completed exactly when a completion was
  acknowledged; conflicting saves got the "changed" page (409).

Exits with status 1 when a check fails. Everything listens on the loopback
interface only; the run is bounded in users and time.
"""

import csv
import datetime as dt
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils import timezone

from calls.models import (
    CallAttempt,
    Department,
    Discharge,
    FollowUpCall,
    FollowUpRule,
    Patient,
    RuleStep,
)
from followup.devtools.guard import add_force_argument, claim_database
from followup.devtools.synthetic import synthetic_script
from followup.models import User
from followup.roles import Role

LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfile.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"gunicorn stopped at start with status {process.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise CommandError(f"gunicorn did not listen on 127.0.0.1:{port} within {timeout} s")


class Command(BaseCommand):
    help = "Load test: nurses working the queue through gunicorn, driven by locust (loopback only)."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=50, help="simulated nurses (default 50)")
        parser.add_argument("--spawn-rate", type=float, default=10, help="nurses started per second (default 10)")
        parser.add_argument("--run-time", default="2m", help="how long locust runs, e.g. 2m or 10s (default 2m)")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
        parser.add_argument("--calls-per-nurse", type=int, default=40)
        parser.add_argument("--shared-calls", type=int, default=100)
        add_force_argument(parser)

    def handle(self, *args, users, spawn_rate, run_time, workers, calls_per_nurse, shared_calls, force, **options):
        if not 1 <= users <= 200:
            raise CommandError("--users must be between 1 and 200")
        claim_database(command="load_test", force=force)
        password = secrets.token_urlsafe(16)
        ward, nurses = self.seed(users=users, password=password, per_nurse=calls_per_nurse, shared=shared_calls)
        self.stdout.write(f"Seeded ward {ward.code}: {users} nurses, {ward_calls(ward).count()} calls due today.")
        with tempfile.TemporaryDirectory(prefix="load-test-") as folder:
            stats, results = self.run(
                folder=Path(folder),
                nurses=nurses,
                password=password,
                users=users,
                spawn_rate=spawn_rate,
                run_time=run_time,
                workers=workers,
            )
        problems = self.report(ward=ward, stats=stats, results=results)
        if problems:
            raise CommandError("Load test failed:\n  " + "\n  ".join(problems))
        self.stdout.write(self.style.SUCCESS("All checks passed."))

    # --- seeding ------------------------------------------------------------------

    def seed(self, *, users: int, password: str, per_nurse: int, shared: int) -> tuple[Department, list[str]]:
        today = timezone.localdate()
        run = Department.objects.filter(code__startswith="LOAD").count() + 1
        ward = Department.objects.create(code=f"LOAD{run}", name=f"Load test ward {run}")
        group, _created = Group.objects.get_or_create(name=Role.NURSE)  # roles are groups by name
        nurses = []
        for n in range(users):
            user = User.objects.create(username=f"load{run}-nurse-{n:03d}", display_name=f"Load nurse {n}")
            user.set_password(password)
            user.save(update_fields=["password"])
            user.groups.add(group)
            nurses.append(user)
        ward.staff.add(*nurses)
        rule = FollowUpRule.objects.create(name="Load test rule", department=ward)
        step = RuleStep.objects.create(
            rule=rule,
            offset_days=7,
            weekdays=list(range(7)),
            late_days=7,
            window_start=dt.time(8),
            window_end=dt.time(20),
        )
        synthetic_script(name=f"Load test script {run}", department=ward, points_per_phase=1, questions=4)
        owners = [nurse for nurse in nurses for _ in range(per_nurse)] + [None] * shared
        discharged = today - dt.timedelta(days=7)
        zone = timezone.get_default_timezone()
        patients = Patient.objects.bulk_create(
            Patient(mrn=f"{ward.code}-{i:06d}", name=f"Patient {i}", phone=f"+86138{i:08d}") for i in range(len(owners))
        )
        discharges = Discharge.objects.bulk_create(
            Discharge(
                patient=p,
                department=ward,
                admitted_on=discharged - dt.timedelta(days=5),
                discharged_on=discharged,
                diagnosis="Coronary heart disease",
            )
            for p in patients
        )
        FollowUpCall.objects.bulk_create(
            FollowUpCall(
                discharge=d,
                department=ward,
                risk_tier=d.risk_tier,
                step=step,
                due_date=today,
                earliest_on=today,
                latest_on=today + dt.timedelta(days=7),
                assigned_to=owner,
                # The shared calls head every nurse's worklist, so nurses
                # open the same calls at once until those are done.
                scheduled_for=dt.datetime.combine(today, dt.time(8 if owner is None else 16), tzinfo=zone),
            )
            for d, owner in zip(discharges, owners, strict=True)
        )
        return ward, [n.username for n in nurses]

    # --- running --------------------------------------------------------------------

    def run(self, *, folder: Path, nurses, password, users, spawn_rate, run_time, workers):
        port = free_port()
        env = {
            **os.environ,
            "DEBUG": "false",
            "DEVTOOLS": "false",  # as in production: the server runs without this app
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1",
            "CONN_MAX_AGE": "60",
        }
        env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
        )
        gunicorn_log = (folder / "gunicorn.log").open("w")
        server = subprocess.Popen(  # noqa: S603 - fixed arguments, loopback only
            [
                sys.executable,
                "-m",
                "gunicorn",
                "followup.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "60",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=gunicorn_log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_http(port, server)
            results_path = folder / "results.json"
            locust_env = {
                **env,
                "LOAD_USERS": ",".join(nurses),
                "LOAD_PASSWORD": password,
                "LOAD_TODAY": timezone.localdate().isoformat(),
                "LOAD_RESULTS": str(results_path),
            }
            started = time.monotonic()
            done = subprocess.run(  # noqa: S603 - fixed arguments, loopback only
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(LOCUSTFILE),
                    "--headless",
                    "-u",
                    str(users),
                    "-r",
                    str(spawn_rate),
                    "-t",
                    run_time,
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--csv",
                    str(folder / "locust"),
                    "--only-summary",
                    "--stop-timeout",
                    "10",
                    "--exit-code-on-error",
                    "0",
                ],
                cwd=settings.BASE_DIR,
                env=locust_env,
                capture_output=True,
                text=True,
                timeout=parse_seconds(run_time) + 120,
            )
            self.elapsed = time.monotonic() - started
            if done.returncode != 0 or not results_path.exists():
                raise CommandError(f"locust failed (status {done.returncode}):\n{done.stderr[-3000:]}")
        finally:
            server.terminate()
            server.wait(timeout=30)
            gunicorn_log.close()
        with (folder / "locust_stats.csv").open() as stats_file:
            stats = list(csv.DictReader(stats_file))
        if (folder / "gunicorn.log").read_text().count("Traceback"):
            self.stderr.write((folder / "gunicorn.log").read_text()[-5000:])
        return stats, json.loads(results_path.read_text())

    # --- checks and report --------------------------------------------------------------

    def report(self, *, ward: Department, stats: list[dict], results: dict) -> list[str]:
        self.stdout.write(f"\n{'request':<18}{'count':>8}{'failures':>10}{'req/s':>9}{'median ms':>11}{'p95 ms':>8}")
        for row in stats:
            self.stdout.write(
                f"{row['Name']:<18}{row['Request Count']:>8}{row['Failure Count']:>10}"
                f"{float(row['Requests/s']):>9.1f}{row['50%']:>11}{row['95%']:>8}"
            )
        outcomes = results["outcomes"]
        self.stdout.write("\nresponses: " + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())))
        server_errors = sum(v for k, v in outcomes.items() if k.startswith("status 5"))
        dropped = outcomes.get("connection error", 0)
        checks = self.check_database(ward=ward, results=results)
        completions = sum(results["completions"].values())
        attempts = sum(results["attempts"].values())
        self.stdout.write(
            f"acknowledged: {attempts} attempts, {completions} completions, "
            f"{sum(results['booked'].values())} next calls booked; "
            f'{outcomes.get("conflict page", 0)} conflicting saves shown the "changed" page, '
            f"{outcomes.get('refused', 0)} refused (call closed meanwhile)"
        )
        self.stdout.write(f"server errors (5xx): {server_errors}; dropped connections: {dropped}")
        problems = [*checks]
        if server_errors or dropped:
            problems.append(f"{server_errors} server errors and {dropped} dropped connections")
        if not completions:
            problems.append("no call was completed: the scenario did not work")
        failures = sum(int(row["Failure Count"]) for row in stats if row["Name"] == "Aggregated")
        if failures:
            problems.append(f"{failures} unexpected responses (see the table)")
        return problems

    def check_database(self, *, ward: Department, results: dict) -> list[str]:
        acked_attempts = {int(k): v for k, v in results["attempts"].items()}
        acked_done = {int(k): v for k, v in results["completions"].items()}
        acked_booked = {int(k): v for k, v in results["booked"].items()}
        problems = []
        twice = sorted(pk for pk, n in acked_done.items() if n > 1)
        if twice:
            problems.append(f"calls acknowledged complete twice: {twice}")
        calls = (
            ward_calls(ward)
            .filter(booked_from__isnull=True)
            .annotate(attempt_rows=Count("attempts", distinct=True), booked=Count("booked_calls", distinct=True))
        )
        for call in calls:
            completed = call.status == FollowUpCall.Status.COMPLETED
            extra = call.attempt_rows - acked_attempts.get(call.pk, 0)
            if completed != (call.pk in acked_done) or (completed and call.completed_at is None):
                problems.append(
                    f"call {call.pk}: status {call.status}, completions acknowledged {acked_done.get(call.pk, 0)}"
                )
            if call.attempt_count != call.attempt_rows or extra not in ({0, 1} if completed else {0}):
                problems.append(
                    f"call {call.pk}: {call.attempt_rows} attempt rows, counter {call.attempt_count}, "
                    f"{acked_attempts.get(call.pk, 0)} acknowledged"
                )
            if call.booked != acked_booked.get(call.pk, 0):
                booked = acked_booked.get(call.pk, 0)
                problems.append(f"call {call.pk}: {call.booked} booked calls, {booked} acknowledged")
        self.stdout.write(
            f"database: {calls.filter(status=FollowUpCall.Status.COMPLETED).count()} calls completed, "
            f"{CallAttempt.objects.filter(call__discharge__department=ward).count()} attempts, "
            f"{ward_calls(ward).filter(booked_from__isnull=False).count()} booked calls"
        )
        return problems


def ward_calls(ward: Department):
    return FollowUpCall.objects.filter(discharge__department=ward)


def parse_seconds(text: str) -> int:
    """Locust's run time (``90``, ``10s``, ``2m``, ``1h``) in seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    if text[-1:] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)
