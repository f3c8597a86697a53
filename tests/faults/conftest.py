"""Real parts for the fault tests: a redis-server of the test's own on a free
loopback port, and the PostgreSQL requirement of the tests that need it."""

import os
import socket
import subprocess
import time
from pathlib import Path

import kombu.pools
import pytest
from django.db import connection

REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, up: bool, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            reachable = sock.connect_ex(("127.0.0.1", port)) == 0
        if reachable == up:
            return
        time.sleep(0.05)
    raise AssertionError(f"port {port} still {'closed' if up else 'open'} after {timeout} s")


class RedisServer:
    """A redis-server process on 127.0.0.1:``port``, without persistence,
    that the test can stop and start again."""

    def __init__(self, port: int, folder: Path):
        self.port = port
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, up=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None
        wait_for_port(self.port, up=False)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_broker(redis_server, settings, monkeypatch):
    """Point Django's settings and the Celery app at the test's own Redis
    (Celery reads CELERY_BROKER_URL from the environment before its
    configuration); the app's previous broker comes back afterwards."""
    from followup.celery import app

    previous = app.conf.broker_url, app.conf.broker_transport_options  # before the environment changes
    monkeypatch.setenv("CELERY_BROKER_URL", redis_server.url)
    settings.CELERY_BROKER_URL = redis_server.url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    app.conf.broker_url = redis_server.url
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    forget_connections(app)
    yield redis_server
    app.conf.broker_url, app.conf.broker_transport_options = previous
    forget_connections(app)


def forget_connections(app) -> None:
    """Drop the app's pooled connections and producers, so the next message
    goes to the broker the configuration names now."""
    app.close()
    app.amqp._producer_pool = None
    kombu.pools.reset()


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


requires_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql" and os.environ.get("CI") != "true",
    reason="needs PostgreSQL (DATABASE_URL=postgres://...); CI always runs it",
)


def fail_unless_postgresql() -> None:
    """Under CI=true the PostgreSQL-only tests never skip: they fail here
    with the reason instead."""
    if not is_postgresql():
        pytest.fail("this fault test needs PostgreSQL: set DATABASE_URL=postgres://... (CI=true requires it)")


@pytest.fixture
def shared_database(own_broker, tmp_path):
    """The database this test shares with its worker, server and command
    processes (see tests/faults/shared_db.py); use with
    ``django_db(transaction=True)``."""
    from tests.faults.shared_db import shared_database_for

    return shared_database_for(own_broker.url, tmp_path)


@pytest.fixture
def start_worker(shared_database, tmp_path):
    """``start_worker(name)`` starts a real Celery worker process on the
    shared database and the test's own broker and waits until it is ready;
    every worker started is stopped afterwards."""
    from tests.faults.helpers import Worker

    workers = []

    def start(name: str):
        worker = Worker(shared_database, tmp_path, name)
        workers.append(worker)
        worker.wait_until_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()
