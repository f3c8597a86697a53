"""Benchmark of the HL7 feed end to end (not a test).

Starts the MLLP listener (in this process, as ``hl7_listener`` runs it) and
``--workers`` Celery worker processes (solo pool, ``DEBUG`` off, as a server
runs them) on this database and broker, sends ``--messages`` synthetic
ADT^A03 of distinct patients over ``--connections`` MLLP connections (each
waits for its ACK before the next message, as interface engines do), and
measures:

- ACKs per second, from the first message sent to the last ACK;
- stored discharges per second end to end, until the last message is
  processed into its discharge and calls;
- the worker's time per message: Celery's own runtime of each
  ``interop.process_message`` task, from the workers' logs;

each also as a ratio to a baseline measured in the same run on the same
database: one INSERT and COMMIT of each message into a plain table, the
least a durable store of a message costs. Then it checks that every message
was acknowledged AA and processed, once: as many discharges and patients as
messages, none twice, none lost. Its rows are removed afterwards (``--keep``
keeps them); the audit trail's rows stay, as that table refuses deletes.
"""

import datetime as dt
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from calls.models import Department, Discharge, FollowUpCall, FollowUpRule, Patient, RuleStep
from followup.devtools.guard import add_force_argument, claim_database
from followup.models import User
from followup.roles import Role
from interop.hl7v2 import MLLP_END, MLLP_START, frame
from interop.models import InboundMessage, Kind, StayVisit, WardMapping

CODE = "BENCHFEED"
SENDER = ("BENCH", "FEED")
NURSES = 5
TARGET_MS = 25  # worker time per A03 (README, "Hospital feed")
TASK_DONE = re.compile(r"Task interop\.process_message\[[^\]]+\] succeeded in ([0-9.e-]+)s: 'processed'")
LISTENING = re.compile(r"^HL7 MLLP listener on 127\.0\.0\.1:(\d+)$", re.MULTILINE)
BASELINE_TABLE = "benchmark_feed_baseline"


def database_url() -> str:
    """The URL of the database this process uses, for the worker processes."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc), or a
    negative number where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -(10**9)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Command(BaseCommand):
    help = "Send synthetic ADT^A03s over MLLP to a listener and workers it starts; print ACKs/s, discharges/s."

    def add_arguments(self, parser):
        parser.add_argument("--messages", type=int, default=2000, help="A03s to send, one patient each")
        parser.add_argument("--connections", type=int, default=1, help="MLLP connections sending side by side")
        parser.add_argument("--workers", type=int, default=1, help="Celery worker processes (solo pool each)")
        parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the processing")
        parser.add_argument("--keep", action="store_true", help="keep the messages, patients and discharges")
        add_force_argument(parser)

    def handle(self, *args, messages: int, connections: int, workers: int, timeout: float, keep: bool, **options):
        if connection.vendor == "sqlite" and connection.settings_dict["NAME"] in ("", ":memory:"):
            raise CommandError("benchmark_feed needs a database the worker processes can open too.")
        if messages < 1 or connections < 1 or workers < 1:
            raise CommandError("--messages, --connections and --workers must be at least 1.")
        claim_database(command="benchmark_feed", force=options["force"])
        run = f"{int(time.time()) % 10**8:08d}{secrets.randbelow(100):02d}"
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        self.stdout.write(
            f"benchmark_feed: {messages} ADT^A03 over {connections} MLLP connection(s), {workers} worker(s), "
            f"{connection.vendor} {connection.settings_dict['NAME']}, load average {load}"
        )
        department = self._setup()
        baseline = self._baseline([self._message(run, i) for i in range(min(messages, 500))])
        self.stdout.write(f"baseline: INSERT + COMMIT of one message into a plain table: {baseline * 1000:.2f} ms")
        with TemporaryDirectory(prefix="benchmark_feed-") as folder:
            started = [self._start_worker(Path(folder), n) for n in range(workers)]
            try:
                listener, listener_log, address = self._start_listener(Path(folder), connections)
                started.append((listener, listener_log))
                for process, log in started[:-1]:
                    self._wait_ready(process, log)
                self._run(run, messages, connections, timeout, baseline, address, started[:-1])
            finally:
                for process, _log in started:
                    process.terminate()
                for process, _log in started:
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()
                if not keep:
                    self._cleanup(run, department)

    # --- set-up ------------------------------------------------------------------------------

    def _setup(self) -> Department:
        with transaction.atomic():
            department, created = Department.objects.get_or_create(code=CODE, defaults={"name": "Feed benchmark"})
            if created:
                WardMapping.objects.create(kind=Kind.HL7, sender="/".join(SENDER), code=CODE, department=department)
                rule = FollowUpRule.objects.create(department=department, name="Feed benchmark rule")
                RuleStep.objects.create(
                    rule=rule,
                    offset_days=2,
                    late_days=7,
                    weekdays=list(range(7)),
                    window_start=dt.time(14),
                    window_end=dt.time(17),
                )
                group = Group.objects.get(name=Role.NURSE)
                for index in range(NURSES):
                    nurse = User.objects.create(username=f"benchfeed_nurse_{index}", display_name=f"Feed nurse {index}")
                    nurse.groups.add(group)
                    department.staff.add(nurse)
        return department

    def _message(self, run: str, index: int) -> str:
        today = timezone.localdate()
        discharged, admitted = today - dt.timedelta(days=1), today - dt.timedelta(days=5)
        pv1 = [""] * 46
        pv1[:4] = ["PV1", "1", "I", f"{CODE}^301^2"]
        pv1[7], pv1[19], pv1[44], pv1[45] = (
            "D01^李^四",
            f"V{run}{index:06d}",
            f"{admitted:%Y%m%d}0930",
            f"{discharged:%Y%m%d}1030",
        )
        return (
            "\r".join(
                [
                    f"MSH|^~\\&|{SENDER[0]}|{SENDER[1]}|FOLLOWUP||{today:%Y%m%d}0800||ADT^A03^ADT_A03|B{run}-{index}"
                    "|P|2.5|||||CHN|UNICODE UTF-8",
                    f"EVN|A03|{today:%Y%m%d}0800",
                    f"PID|1||BF{run}{index:06d}^^^HOSP^MR||张^三{index}||19600517|F|||||13812345678^PRN^CP",
                    "|".join(pv1),
                    "DG1|1||I25.1^冠心病^I10||20261116|F",
                ]
            )
            + "\r"
        )

    def _baseline(self, payloads: list[str]) -> float:
        """Seconds per message to INSERT it, alone, into a plain table and
        COMMIT: what any durable store of a message costs at least."""
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {BASELINE_TABLE}")
            cursor.execute(f"CREATE TABLE {BASELINE_TABLE} (id integer PRIMARY KEY, payload text NOT NULL)")
        try:
            started = time.perf_counter()
            for number, payload in enumerate(payloads):
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        f"INSERT INTO {BASELINE_TABLE} (id, payload) VALUES (%s, %s)",  # noqa: S608  # nosec B608
                        [number, payload],
                    )
            return (time.perf_counter() - started) / len(payloads)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {BASELINE_TABLE}")

    def _env(self, **extra: str) -> dict[str, str]:
        """The environment of a listener or worker process: this database and
        broker, DEBUG off (no query log kept in memory, connections reused)
        as on a server."""
        return {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "DEBUG": "false",
            "DEVTOOLS": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "PYTHONUNBUFFERED": "1",
            **extra,
        }

    def _start(self, folder: Path, name: str, command: list[str], **env: str) -> tuple[subprocess.Popen, Path]:
        log = folder / f"{name}.log"
        with log.open("w") as out:
            process = subprocess.Popen(  # noqa: S603 - fixed arguments: this interpreter, loopback only
                [sys.executable, *command],
                cwd=settings.BASE_DIR,
                env=self._env(**env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return process, log

    def _start_worker(self, folder: Path, number: int) -> tuple[subprocess.Popen, Path]:
        worker = ["-m", "celery", "--app", "followup", "worker", "--pool", "solo", "--loglevel", "INFO"]
        quiet = ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        return self._start(folder, f"worker-{number}", [*worker, "--hostname", f"benchfeed{number}@%h", *quiet])

    def _start_listener(self, folder: Path, connections: int) -> tuple[subprocess.Popen, Path, tuple[str, int]]:
        process, log = self._start(
            folder,
            "listener",
            ["manage.py", "hl7_listener", "--host", "127.0.0.1", "--port", "0"],
            INTEROP_HL7_ALLOWED_ADDRESSES="127.0.0.1",
            INTEROP_HL7_MAX_CONNECTIONS=str(connections + 5),
        )
        deadline = time.monotonic() + 60
        while not (found := LISTENING.search(log.read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                raise CommandError(f"The listener did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        return process, log, ("127.0.0.1", int(found[1]))

    def _wait_ready(self, process: subprocess.Popen, log: Path) -> None:
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise CommandError(f"A worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)

    # --- the run -----------------------------------------------------------------------------

    def _run(self, run: str, count: int, connections: int, timeout: float, baseline: float, address, workers):
        cpu_before = sum(cpu_seconds(process.pid) for process, _log in workers)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=connections) as pool:
            shares = [list(range(n, count, connections)) for n in range(connections)]
            answers = [a for share in pool.map(lambda s: self._send(address, run, s), shares) for a in share]
        acked = time.perf_counter() - started
        done = self._wait_processed(run, count, started, timeout)
        cpu = sum(cpu_seconds(process.pid) for process, _log in workers) - cpu_before
        refused = [answer for answer in answers if not answer.startswith("AA|")]
        times = [float(t) for _process, log in workers for t in TASK_DONE.findall(log.read_text())]
        self._report(count, acked, done, baseline, times, cpu)
        self._check(run, count, refused)

    def _send(self, address: tuple[str, int], run: str, indexes: list[int]) -> list[str]:
        """Send each message and wait for its ACK; the MSA segment of each."""
        answers = []
        with socket.create_connection(address, timeout=60) as sock:
            for index in indexes:
                sock.sendall(frame(self._message(run, index)))
                data = b""
                while not data.endswith(MLLP_END):
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise CommandError("The listener closed the connection.")
                    data += chunk
                ack = data.removeprefix(MLLP_START).removesuffix(MLLP_END).decode("utf-8", errors="replace")
                answers.append(next((s[4:] for s in ack.split("\r") if s.startswith("MSA|")), ack))
        return answers

    def _wait_processed(self, run: str, count: int, started: float, timeout: float) -> float:
        waiting = InboundMessage.objects.filter(
            control_id__startswith=f"B{run}-", status=InboundMessage.Status.RECEIVED
        )
        deadline = time.monotonic() + timeout
        while waiting.exists() or InboundMessage.objects.filter(control_id__startswith=f"B{run}-").count() < count:
            if time.monotonic() > deadline:
                raise CommandError(f"Not every message was processed within {timeout} s.")
            time.sleep(0.05)
        return time.perf_counter() - started

    def _report(self, count: int, acked: float, done: float, baseline: float, times: list[float], cpu: float) -> None:
        per_ack = acked / count
        self.stdout.write(
            f"ACKs: {count} in {acked:.1f} s = {count / acked:.1f}/s ({per_ack * 1000:.1f} ms each, "
            f"{per_ack / baseline:.1f}x baseline)"
        )
        self.stdout.write(f"stored discharges: {count} in {done:.1f} s end to end = {count / done:.1f}/s")
        if not times:
            self.stdout.write("worker time per message: no task runtimes in the workers' logs")
            return
        median = statistics.median(times)
        p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        verdict = "met" if median * 1000 <= TARGET_MS else "missed"
        self.stdout.write(
            f"worker time per message: median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
            f"mean {statistics.mean(times) * 1000:.1f} ms over {len(times)} tasks = {median / baseline:.1f}x baseline "
            f"(target <= {TARGET_MS} ms: {verdict})"
        )
        if cpu >= 0:
            self.stdout.write(
                f"worker CPU per message: {cpu / count * 1000:.1f} ms (user + system time of the worker processes, "
                "what the machine's other work cannot inflate as it inflates the wall clock)"
            )

    def _check(self, run: str, count: int, refused: list[str]) -> None:
        messages = InboundMessage.objects.filter(control_id__startswith=f"B{run}-")
        statuses = dict(messages.order_by().values_list("status").annotate(n=Count("pk")))
        discharges = Discharge.objects.filter(patient__mrn__startswith=f"BF{run}")
        found = {
            "messages": messages.count(),
            "processed": statuses.get(InboundMessage.Status.PROCESSED, 0),
            "discharges": discharges.count(),
            "patients": Patient.objects.filter(mrn__startswith=f"BF{run}").count(),
            "distinct references": discharges.values("source_reference").distinct().count(),
            "refused ACKs": len(refused),
        }
        wanted = {**dict.fromkeys(found, count), "refused ACKs": 0}
        line = ", ".join(f"{n} {name}" for name, n in found.items())
        if found != wanted:
            raise CommandError(f"checks failed: {line} (wanted {count} each and none refused) {refused[:3]}")
        self.stdout.write(f"checks: {line}: none lost, none twice")

    def _cleanup(self, run: str, department: Department) -> None:
        with transaction.atomic():
            stays = Discharge.objects.filter(patient__mrn__startswith=f"BF{run}")
            InboundMessage.objects.filter(control_id__startswith=f"B{run}-").delete()
            StayVisit.objects.filter(discharge__in=stays).delete()
            FollowUpCall.objects.filter(discharge__in=stays).delete()
            stays.delete()
            Patient.objects.filter(mrn__startswith=f"BF{run}").delete()
            if not Discharge.objects.filter(department=department).exists():
                WardMapping.objects.filter(department=department).delete()
                RuleStep.objects.filter(rule__department=department).delete()
                FollowUpRule.objects.filter(department=department).delete()
                department.staff.clear()
                User.objects.filter(username__startswith="benchfeed_nurse_").delete()
                department.delete()
