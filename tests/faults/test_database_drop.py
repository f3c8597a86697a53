"""The database connection serving a nurse's request is killed by PostgreSQL
(``pg_terminate_backend``) in the middle of saving a call's completion: she
gets the call screen back with her form as typed and a message that nothing
was saved, nothing half-saved is left, and saving the same form again works.

To hit the save itself, a second connection holds the call's row lock, so the
request's UPDATE waits; a third one terminates the waiting backend."""

import threading
import time

import psycopg
import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from calls.models import CallAnswer, FollowUpCall
from calls.views.calls import LOST_CONNECTION
from tests.calls.call_work_helpers import NOW, make_call, scripted_version, ward_of
from tests.faults.conftest import fail_unless_postgresql, requires_postgresql
from tests.faults.helpers import completion_post


def connect(autocommit: bool) -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=autocommit,
        connect_timeout=5,
    )


def terminate_when_waiting(pid: int, blocker: psycopg.Connection, done: list) -> None:
    with connect(autocommit=True) as killer:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            waiting = killer.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'", [pid]
            ).fetchone()[0]
            if waiting:
                done.append(killer.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0])
                break
            time.sleep(0.01)
    blocker.rollback()  # releases the row lock whatever happened


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_during_the_save_shows_an_error_and_saving_again_loses_nothing(client_for, nurse):
    fail_unless_postgresql()
    ward = ward_of(nurse)
    _version, chest, _note = scripted_version(department=ward)
    call = make_call(department=ward, nurse=nurse)
    client = client_for(nurse)
    form = completion_post(call, chest, summary="Chest pain gone; walks 20 minutes a day.")
    url = reverse("calls:call_complete", args=[call.pk])

    with time_machine.travel(NOW, tick=True):
        assert client.get(reverse("calls:call_detail", args=[call.pk])).status_code == 200
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        blocker = connect(autocommit=False)
        blocker.execute(f"SELECT id FROM {FollowUpCall._meta.db_table} WHERE id = %s FOR UPDATE", [call.pk])  # noqa: S608  # nosec B608
        terminated: list = []
        killer = threading.Thread(target=terminate_when_waiting, args=(pid, blocker, terminated))
        killer.start()
        first = client.post(url, form)
        killer.join()
        blocker.close()

        assert terminated == [True]
        assert first.status_code == 503
        assert str(LOST_CONNECTION) in first.content.decode()
        assert "Chest pain gone; walks 20 minutes a day." in first.content.decode()  # her form as typed
        call.refresh_from_db()
        assert (call.status, call.summary, CallAnswer.objects.filter(call=call).count()) == ("scheduled", "", 0)

        second = client.post(url, form)

    assert second.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.summary, call.version) == ("completed", "Chest pain gone; walks 20 minutes a day.", 2)
    assert list(CallAnswer.objects.filter(call=call).values_list("question_id", flat=True)) == [chest.pk]
