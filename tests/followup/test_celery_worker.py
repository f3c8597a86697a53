"""A real Celery worker process, started against the configured broker
(Redis in CI, the file-system broker on a laptop), runs a task we send.

The worker listens on a queue of this test's own, so messages other tests
left on the shared broker (a feed message queued with no worker running)
cannot stand in front of ours; its output goes to a file, not a pipe, so a
chatty worker can never block on a full pipe buffer."""

import os
import signal
import subprocess
import sys
import uuid

import pytest
from django.conf import settings

from followup.tasks import ping


@pytest.mark.worker
def test_a_real_worker_runs_a_task_sent_through_the_broker(tmp_path):
    queue = f"test-ping-{uuid.uuid4().hex}"
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
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
                "--queues",
                queue,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=settings.BASE_DIR,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        result = ping.apply_async(queue=queue)
        try:
            answer = result.get(timeout=90)
        except Exception as error:
            raise AssertionError(
                f"the worker did not answer: {error!r}\n--- worker log:\n{log_path.read_text()}"
            ) from error
        assert answer == "pong"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    assert "followup.ping" in log_path.read_text()
