"""Builders and process helpers shared by the fault tests."""

import ast
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from calls.models import FollowUpCall
from tests.faults.shared_db import SharedDatabase


def attempt_post(call: FollowUpCall, result: str) -> dict:
    return {"attempt-expected_version": call.version, "attempt-result": result, "attempt-note": ""}


def completion_post(call: FollowUpCall, question, summary: str = "Recovering well, taking medicines.") -> dict:
    return {
        f"q_{question.pk}": "no",
        "outcome-expected_version": call.version,
        "outcome-answered_by": "patient",
        "outcome-satisfaction": "satisfied",
        "outcome-summary": summary,
        "outcome-duration": "6:00",
        "outcome-next_call_on": "",
    }


def wait_for(
    condition: Callable[[], object],
    *,
    what: str,
    timeout: float = 120,
    logs: dict[str, Callable[[], str]] | None = None,
) -> None:
    """Poll ``condition`` until it is true; on timeout fail with the given
    processes' logs (``{"worker": worker.log}``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    shown = "".join(f"\n--- {name} log:\n{read()}" for name, read in (logs or {}).items())
    raise AssertionError(f"timed out waiting for {what} after {timeout} s{shown}")


class Worker:
    """A real Celery worker process (``celery --app followup worker --pool
    solo``) on the shared database and the test's own broker, logging to a
    file in ``folder``."""

    def __init__(self, shared: SharedDatabase, folder: Path, name: str):
        self.log_path = folder / f"{name}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "--app",
                    "followup",
                    "worker",
                    "--pool",
                    "solo",
                    "--hostname",
                    f"{name}@%h",
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=settings.BASE_DIR,
                env=shared.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text()

    def results(self, task: str) -> list:
        """The return values of the runs of ``task`` (its name) that succeeded, in order."""
        succeeded = re.compile(rf"Task {re.escape(task)}\[[0-9a-f-]+\] succeeded in [0-9.]+s: (.*)$", re.MULTILINE)
        return [ast.literal_eval(found) for found in succeeded.findall(self.log())]

    def wait_until_ready(self) -> None:
        wait_for(lambda: " ready." in self.log(), what="worker ready", logs={"worker": self.log})

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
