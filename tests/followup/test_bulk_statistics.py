"""After a big write (the weekly queue, a discharge file) the tables'
statistics are refreshed (followup.bulk.refresh_statistics), so the next
statements are planned for the rows just written: from a small sample
between the steps of a long write, in full at its end."""

import datetime as dt

import pytest
from django.db import connection, transaction

from calls.models import FollowUpCall
from followup.bulk import QUICK_STATISTICS, refresh_statistics
from tests.factories import DepartmentFactory, bulk_calls

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics are PostgreSQL's; CI runs it"),
]


def _one(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _histogram(table: str) -> int:
    """The number of bounds of the histogram of the table's ids: at most
    the statistics target plus one."""
    return _one(
        "SELECT array_length(histogram_bounds::text::text[], 1) FROM pg_stats WHERE tablename = %s AND attname = 'id'",
        [table],
    )


def test_the_planner_learns_the_rows_just_written_and_the_setting_comes_back():
    table = FollowUpCall._meta.db_table
    bulk_calls(department=DepartmentFactory(), rows=[{"due_date": dt.date(2026, 11, 30)}] * 120)
    before = _one("SHOW default_statistics_target")

    with transaction.atomic():  # inside a service's transaction, as the queue and the import call it
        refresh_statistics(FollowUpCall, quick=True)
        inside = _one("SHOW default_statistics_target")

    assert _one("SELECT reltuples FROM pg_class WHERE relname = %s", [table]) >= 120
    assert _one("SELECT count(*) FROM pg_stats WHERE tablename = %s AND attname = 'status'", [table]) == 1
    # A small sample: 120 distinct ids make a histogram of at most QUICK_STATISTICS buckets.
    assert 2 <= _histogram(table) <= QUICK_STATISTICS + 1
    assert before == inside == _one("SHOW default_statistics_target") != str(QUICK_STATISTICS)


def test_full_statistics_come_back_after_quick_ones():
    """A long write (a discharge file) takes quick statistics between its
    steps and full ones at the end: the pages are planned with those."""
    table = FollowUpCall._meta.db_table
    bulk_calls(department=DepartmentFactory(), rows=[{"due_date": dt.date(2026, 11, 30)}] * 120)
    with transaction.atomic():
        refresh_statistics(FollowUpCall, quick=True)
        quick = _histogram(table)
        refresh_statistics(FollowUpCall)

    assert quick <= QUICK_STATISTICS + 1 < _histogram(table)
