"""A worker keeps its database connection from task to task, as a web
process keeps it from request to request (CONN_MAX_AGE): Celery's Django
fixup would open a new PostgreSQL connection for every task, most of the
cost of a feed message (followup/celery.py)."""

import pytest
from django.db import connection

from interop.tasks import process_message
from tests.faults.conftest import fail_unless_postgresql, requires_postgresql
from tests.faults.helpers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), requires_postgresql]


def backends() -> list[tuple]:
    """The other client connections to the test database: the worker's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return cursor.fetchall()


def test_a_worker_keeps_its_database_connection_between_tasks(shared_database, start_worker):
    fail_unless_postgresql()
    shared_database.env["CONN_MAX_AGE"] = "60"  # as on a server (DEBUG off)
    # Connections the test run itself holds (another test's, the runner's) are not the worker's.
    before = set(backends())
    worker = start_worker("reuse")

    def run(tasks: int, total: int) -> None:
        for _ in range(tasks):
            process_message.delay(0)  # no message 0: one query, then nothing to do
        wait_for(lambda: len(worker.results(process_message.name)) == total, what="the tasks", logs={"w": worker.log})

    run(3, 3)
    first = set(backends()) - before
    run(3, 6)

    assert len(first) == 1
    assert set(backends()) - before == first
