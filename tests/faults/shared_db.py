"""A database the test and other processes (a Celery worker, gunicorn,
``manage.py`` commands) all use: the PostgreSQL test database (the test
commits: ``django_db(transaction=True)``), or on SQLite a throwaway database
file migrated for the test (the in-memory test database cannot be shared)."""

import ast
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from calls.models import Department, Discharge, FollowUpCall
from calls.services.queue import _LOCK_NAMESPACE
from interop.models import InboundMessage


class SharedDatabase:
    """The database the test and the worker processes both use."""

    def __init__(self, url: str, sqlite_path: Path | None, broker_url: str):
        self.url = url
        self.sqlite_path = sqlite_path
        self.env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": broker_url}

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, *args],
            cwd=settings.BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def seed(self, discharges: int, wards: int) -> None:
        self.run("-m", "tests.faults.worker_jobs", "seed", str(discharges), str(wards))

    def counts(self) -> dict[str, int]:
        return ast.literal_eval(self.run("-m", "tests.faults.worker_jobs", "counts").strip())

    def seed_feed_ward(self) -> None:
        self.run("-m", "tests.faults.worker_jobs", "seed-feed-ward")

    def feed_state(self) -> dict[str, list[dict]]:
        return json.loads(self.run("-m", "tests.faults.worker_jobs", "feed-state"))

    def message_statuses(self) -> list[tuple[str, str]]:
        """(control id, status) of every inbound message, oldest first."""
        sql = f"SELECT control_id, status FROM {InboundMessage._meta.db_table} ORDER BY id"  # noqa: S608  # nosec B608
        return [tuple(row) for row in self.query(sql, [])]

    def query(self, sql: str, params: list) -> list[tuple]:
        if self.sqlite_path is None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        with sqlite3.connect(self.sqlite_path, timeout=5) as db:
            return db.execute(sql.replace("%s", "?"), params).fetchall()

    def calls_of_ward(self, code: str) -> int:
        sql = (
            f"SELECT count(*) FROM {FollowUpCall._meta.db_table} c "  # noqa: S608  # nosec B608
            f"JOIN {Discharge._meta.db_table} d ON c.discharge_id = d.id "
            f"JOIN {Department._meta.db_table} w ON d.department_id = w.id WHERE w.code = %s"
        )
        return self.query(sql, [code])[0][0]

    def generation_writing(self) -> bool:
        """Is a generation inside a ward's transaction right now?"""
        if self.sqlite_path is None:  # the ward's advisory lock is held
            sql = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND granted"
            return self.query(sql, [_LOCK_NAMESPACE])[0][0] > 0
        probe = sqlite3.connect(self.sqlite_path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")  # fails while another process holds the write lock
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()


def shared_database_for(broker_url: str, folder: Path) -> SharedDatabase:
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        auth = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        return SharedDatabase(url, None, broker_url)
    path = folder / "shared.sqlite3"
    shared = SharedDatabase(f"sqlite:///{path}", path, broker_url)
    shared.run("manage.py", "migrate", "--verbosity", "0")
    return shared
