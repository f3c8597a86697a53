"""The audit trail is append-only in the database, not only in the app.

A privacy officer must be able to trust that nobody, through the app, the
admin, a shell or a bug, edited or removed a row. So the database itself
refuses it, with a trigger that fails the statement with an integrity error
('audit trail is append-only'; Django raises IntegrityError on both
databases).

- PostgreSQL (production): UPDATE and DELETE are refused, row by row (a
  statement that touches no row, such as deleting the trail of a user who
  has none, goes through). TRUNCATE is not guarded: the test runner empties
  tables with TRUNCATE between transactional tests, and TRUNCATE needs the
  table owner's TRUNCATE privilege, which the application's database role
  should not have in production. A superuser can still switch triggers off
  (``SET session_replication_role = replica``) for a deliberate purge, as the
  dashboard benchmark does to remove its own rows; that act is outside the
  application's reach.
- SQLite (a laptop, the default settings): UPDATE is refused. DELETE is not:
  Django empties tables between transactional tests (live-server browser
  tests, worker fault tests) with DELETE on SQLite, and a trigger cannot tell
  that flush from any other delete, so guarding DELETE would break the test
  suite on the developers' default database. Nobody runs a hospital on SQLite.
"""

from django.db import migrations

TABLE = "followup_auditevent"
MESSAGE = "audit trail is append-only"

POSTGRES_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
    END
    $$""",
    f"""CREATE TRIGGER {TABLE}_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()""",
]
POSTGRES_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
]
SQLITE_FORWARD = [
    f"""CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}');
    END""",
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update"]


def _run(schema_editor, statements_by_vendor: dict[str, list[str]]) -> None:
    for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def forward(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD})


def backward(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0005_audit_source_patient_fields"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
