"""A real Celery worker process (``celery --app followup worker --pool solo``)
on our own redis-server, against a database it shares with the test: the
PostgreSQL test database (CI), or on SQLite a throwaway database file
migrated for the test (the in-memory test database cannot be shared).

- Killed (SIGKILL) in the middle of a generation: each ward's calls are
  created in one transaction, so a ward has all its calls or none; the rerun
  creates exactly the rest.
- The same generation task delivered twice (two messages; on PostgreSQL to
  two workers at once): every call exists once and the two runs' counts add
  up exactly."""

import pytest

from calls.tasks import generate_weekly_queue
from tests.faults.helpers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

GENERATION = generate_weekly_queue.name


def test_a_worker_killed_mid_generation_leaves_whole_wards_and_the_rerun_completes(shared_database, start_worker):
    shared_database.seed(20_000, 4)  # 5,000 discharges due today in each of the wards F0-F3
    worker = start_worker("first")

    generate_weekly_queue.apply_async()
    # Kill once ward F0 is committed and the next ward's transaction is open.
    wait_for(
        lambda: shared_database.calls_of_ward("F0") == 5_000 and shared_database.generation_writing(),
        what="the generation to be inside its second ward",
        logs={"worker": worker.log},
    )
    worker.kill()

    after_kill = shared_database.counts()
    assert after_kill["F0"] == 5_000
    assert sorted(set(after_kill.values()) - {0, 5_000}) == []  # every ward whole or empty
    assert 0 in after_kill.values()  # the kill landed before the end
    created_before = sum(after_kill.values())

    rerun = start_worker("second")
    generate_weekly_queue.apply_async()
    wait_for(lambda: rerun.results(GENERATION), what="the rerun", logs={"worker": rerun.log})

    assert rerun.results(GENERATION) == [
        {"created": 20_000 - created_before, "already_present": created_before, "missed": 0, "failed_departments": []}
    ]
    assert shared_database.counts() == {"F0": 5_000, "F1": 5_000, "F2": 5_000, "F3": 5_000}


def test_the_same_generation_delivered_twice_creates_each_call_once(shared_database, start_worker):
    shared_database.seed(4_000, 4)
    # PostgreSQL: two workers take one message each and overlap. SQLite
    # allows one writer, so there one worker takes both messages in turn.
    workers = [start_worker("one")] + ([start_worker("two")] if shared_database.sqlite_path is None else [])

    generate_weekly_queue.apply_async()
    generate_weekly_queue.apply_async()
    wait_for(
        lambda: sum(len(w.results(GENERATION)) for w in workers) == 2,
        what="both deliveries",
        logs={"worker": workers[0].log},
    )

    results = [r for w in workers for r in w.results(GENERATION)]
    assert [r["failed_departments"] for r in results] == [[], []]
    assert {key: sum(r[key] for r in results) for key in ("created", "already_present", "missed")} == {
        "created": 4_000,
        "already_present": 4_000,
        "missed": 0,
    }
    assert shared_database.counts() == {"F0": 1_000, "F1": 1_000, "F2": 1_000, "F3": 1_000}
