"""The database keeps the audit trail append-only (migration 0006): UPDATE is
refused on every database, DELETE on PostgreSQL. Run against PostgreSQL by
hand with DATABASE_URL=postgres://... (CI runs the suite there)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from followup.audit import audit_change
from followup.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="DELETE is guarded on PostgreSQL only")
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite leaves DELETE to the test flush")


@pytest.fixture
def event(nurse):
    return audit_change(actor=nurse, object_type="patient", object_id=12, fields=["phone"])


def test_the_database_refuses_to_update_an_audit_row(event):
    with pytest.raises(IntegrityError, match="audit trail is append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_name="mallory")

    event.refresh_from_db()
    assert event.actor_name == "alice"


def test_saving_an_audit_row_again_is_refused(event):
    event.fields = ""
    with pytest.raises(IntegrityError, match="audit trail is append-only"), transaction.atomic():
        event.save()

    assert AuditEvent.objects.get(pk=event.pk).fields == "phone"


def test_raw_sql_cannot_rewrite_the_trail_either(event):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE followup_auditevent SET patient_id = NULL")

    assert AuditEvent.objects.get(pk=event.pk).patient_id == 12


@on_postgresql
def test_postgresql_refuses_to_delete_an_audit_row(event):
    with pytest.raises(IntegrityError, match="audit trail is append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM followup_auditevent")

    assert AuditEvent.objects.count() == 1


@on_postgresql
def test_postgresql_lets_a_delete_that_touches_no_row_through(event):
    assert AuditEvent.objects.filter(pk=event.pk + 1).delete() == (0, {})


@on_sqlite
def test_sqlite_has_the_update_trigger_only():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'followup_auditevent'")
        assert cursor.fetchall() == [("followup_auditevent_no_update",)]


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_that_wrote_the_trail_is_still_flushed(nurse):
    """The flush after this test empties the table (TRUNCATE on PostgreSQL,
    DELETE on SQLite): the triggers must let it."""
    audit_change(actor=nurse, object_type="patient", object_id=1)
    audit_change(actor="system", object_type="user", object_id=nurse.pk, fields=["is_active"])

    assert AuditEvent.objects.count() == 2


def test_a_failed_log_in_is_written_once_with_the_name_typed(client, nurse):
    typed = "alice" + "x" * 200

    client.post(reverse("login"), {"username": typed, "password": TEST_PASSWORD})

    assert list(AuditEvent.objects.values_list("action", "actor_id", "actor_name")) == [
        ("login_failed", None, typed[:150])
    ]
