import threading
import time

import pytest
from django.db import OperationalError, connection

from complaints import services

pytestmark = pytest.mark.django_db(transaction=True)


def allocate_when_free(year: int) -> str:
    """SQLite's shared in-memory test database answers "table is locked" at
    once instead of waiting like a file database does; wait here instead.
    PostgreSQL blocks on the row lock and never gets here."""
    for _ in range(200):
        try:
            return services.reference_allocate(year=year)
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.01)
    raise AssertionError("the counter stayed locked")


def test_concurrent_allocations_never_share_a_number():
    """Four threads, each with its own database connection, take numbers at
    the same moment: the counter row hands out each number exactly once."""
    start = threading.Barrier(4)
    taken: list[str] = []

    def take():
        try:
            start.wait()
            for _ in range(5):
                taken.append(allocate_when_free(2031))
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == [f"TS-2031-{n:05d}" for n in range(1, 21)]
