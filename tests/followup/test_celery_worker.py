"""A real Celery worker process, started against the configured broker
(Redis in CI, the file-system broker on a laptop), runs a task we send."""

import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings

from followup.tasks import ping


@pytest.mark.worker
def test_a_real_worker_runs_a_task_sent_through_the_broker():
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "--app",
            "followup",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=settings.BASE_DIR,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        result = ping.apply_async()
        assert result.get(timeout=60) == "pong"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert "followup.ping" in output
