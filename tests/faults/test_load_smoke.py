"""The load test harness (``manage.py load_test``: gunicorn on the loopback,
locust headless, the integrity checks) works: five nurses for ten seconds
against the test database, every check passing."""

import pytest
from django.db import connection

pytestmark = [pytest.mark.load, pytest.mark.django_db(transaction=True)]


def test_five_nurses_for_ten_seconds_through_gunicorn_pass_every_check(shared_database):
    # SQLite allows one writer: one gunicorn worker there.
    workers = "2" if connection.vendor == "postgresql" else "1"
    output = shared_database.run(
        "manage.py",
        "load_test",
        "--users",
        "5",
        "--spawn-rate",
        "5",
        "--run-time",
        "10s",
        "--workers",
        workers,
        "--calls-per-nurse",
        "10",
        "--shared-calls",
        "10",
    )

    assert "Seeded ward LOAD1: 5 nurses, 60 calls due today." in output
    assert "server errors (5xx): 0; dropped connections: 0" in output
    assert output.rstrip().endswith("All checks passed.")
