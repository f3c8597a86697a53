# ruff: noqa: S608  -- SQL built from constants of this module and the models' choices, never user input.
"""The summary of the dashboard's patient figures on PostgreSQL (the call
figures' summary is calls/dashboard/summary.py).

A stay's state hangs on all of its calls (reached: one of them completed;
lost: none completed, none cancelled for death, one unreachable; rated by its
last rated call), so it cannot be kept as a sum of per-call deltas. Two
tables instead:

- ``calls_dashboardstay``: one row per stay (discharge not cancelled) with
  the counts its state hangs on and the rating of its last rated call, as
  calls/dashboard/patients.py defines them;
- ``calls_dashboardstayday``: how many stays of a department discharged on a
  day share one state, sex, age band, ICD-10 code and rating. The dashboard
  sums these rows (a few per day), as it sums the call summary's.

Statement-level triggers on calls, discharges and patients collect the stays
a statement touched (a call only when its counted columns changed and it is
or was completed, unreachable or cancelled for death: generating scheduled
calls costs nothing here), take a transaction advisory lock per stay in id
order (two transactions recomputing one stay wait for each other rather than
both reading it stale), subtract the stays' old rows from the day table,
recompute them from their calls, and add them back: one upsert per day key,
in key order. ``stays_rebuild()`` recomputes both from scratch.
"""

from django.db import connection

from ..models import FollowUpCall
from .patients import FAMILY_TOOK_PART, age_band_sql

S = FollowUpCall.Status
LOCK_NAMESPACE = 73_303  # pg_advisory_xact_lock(int, int); the queue uses 73_301, the feeds 73_302
# Stays are locked by bucket (id modulo this), not one by one: a file import of
# 200,000 stays in one transaction would otherwise hold 200,000 advisory locks
# and run out of the server's lock table (max_locks_per_transaction). Two
# changes of stays in the same bucket wait for each other; that is all.
LOCK_BUCKETS = 64


def _quoted(values) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


DECEASED = f"(c.status = '{S.CANCELLED}' AND c.cancel_reason = '{FollowUpCall.CancelReason.DECEASED}')"
FAMILY = (
    f"(c.status = '{S.COMPLETED}' AND c.answered_by IN ({_quoted(FAMILY_TOOK_PART)}))" if FAMILY_TOOK_PART else "FALSE"
)
# A call some stay figure counts (or counted, before a change).
COUNTED = (
    f"({{c}}.status IN ('{S.COMPLETED}', '{S.UNREACHABLE}') "
    f"OR ({{c}}.status = '{S.CANCELLED}' AND {{c}}.cancel_reason = '{FollowUpCall.CancelReason.DECEASED}'))"
)
CALL_COUNTED_COLUMNS = (
    "discharge_id",
    "status",
    "cancel_reason",
    "answered_by",
    "satisfaction",
    "due_date",
    "completed_at",
)
DISCHARGE_COUNTED_COLUMNS = ("department_id", "discharged_on", "icd10", "patient_id", "archived")
PATIENT_COUNTED_COLUMNS = ("sex", "birth_date")

STAY_COLUMNS = (
    "discharge_id, department_id, discharged_on, sex, age_band, icd10, "
    "completed_calls, deceased_calls, unreachable_calls, family_calls, rating"
)
DAY_KEY_COLUMNS = "department_id, discharged_on, sex, age_band, icd10, reached, deceased, lost, family, rating"


def _state(ids: str) -> str:
    """The stay rows of the discharges ``ids`` (a subquery of ids) as
    calls/dashboard/patients.py counts them: one join of their calls."""
    age = age_band_sql("date_part('year', age(d.discharged_on, p.birth_date))")
    return f"""
SELECT d.id, d.department_id, d.discharged_on, p.sex, {age}, d.icd10,
       count(c.id) FILTER (WHERE c.status = '{S.COMPLETED}'),
       count(c.id) FILTER (WHERE {DECEASED}),
       count(c.id) FILTER (WHERE c.status = '{S.UNREACHABLE}'),
       count(c.id) FILTER (WHERE {FAMILY}),
       COALESCE((SELECT r.satisfaction FROM calls_followupcall r
                 WHERE r.discharge_id = d.id AND r.status = '{S.COMPLETED}' AND r.satisfaction <> ''
                 ORDER BY r.due_date DESC, r.completed_at DESC NULLS LAST, r.id DESC LIMIT 1), '')
FROM calls_discharge d JOIN calls_patient p ON p.id = d.patient_id
LEFT JOIN calls_followupcall c ON c.discharge_id = d.id
WHERE NOT d.archived AND d.id IN ({ids})
GROUP BY d.id, p.sex, p.birth_date"""  # nosec B608


def _roll(sign: int, where: str) -> str:
    """Add ``sign`` times the stay rows ``where`` to the day table, one
    upsert per key in key order."""
    return f"""
INSERT INTO calls_dashboardstayday ({DAY_KEY_COLUMNS}, stays)
SELECT department_id, discharged_on, sex, age_band, icd10, completed_calls > 0, deceased_calls > 0,
       (completed_calls = 0 AND deceased_calls = 0 AND unreachable_calls > 0), family_calls > 0, rating,
       {sign} * count(*)
FROM calls_dashboardstay WHERE {where}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
ON CONFLICT ({DAY_KEY_COLUMNS}) DO UPDATE SET stays = calls_dashboardstayday.stays + EXCLUDED.stays;"""  # nosec B608


def _recompute(ids: str) -> str:
    """The statements that bring the stays ``ids`` up to date."""
    mine = f"discharge_id IN ({ids})"
    return f"""
PERFORM pg_advisory_xact_lock({LOCK_NAMESPACE}, bucket)
FROM (SELECT DISTINCT (id % {LOCK_BUCKETS})::int AS bucket FROM ({ids}) AS touched(id) ORDER BY bucket) AS locked;
{_roll(-1, mine)}
DELETE FROM calls_dashboardstay WHERE {mine};
INSERT INTO calls_dashboardstay ({STAY_COLUMNS}) {_state(ids)};
{_roll(1, mine)}"""  # nosec B608


def _changed(old: str, new: str, columns) -> str:
    return f"({', '.join(f'{old}.{c}' for c in columns)}) IS DISTINCT FROM ({', '.join(f'{new}.{c}' for c in columns)})"


CALLS_INSERTED = f"SELECT discharge_id FROM new_calls c WHERE {COUNTED.format(c='c')}"  # nosec B608
CALLS_DELETED = f"SELECT discharge_id FROM old_calls c WHERE {COUNTED.format(c='c')}"  # nosec B608
_CALLS_MOVED = (
    "FROM old_calls o JOIN new_calls n ON n.id = o.id "
    f"WHERE {_changed('o', 'n', CALL_COUNTED_COLUMNS)} AND ({COUNTED.format(c='o')} OR {COUNTED.format(c='n')})"
)
CALLS_UPDATED = f"SELECT o.discharge_id {_CALLS_MOVED} UNION SELECT n.discharge_id {_CALLS_MOVED}"
DISCHARGES_INSERTED = "SELECT id FROM new_discharges"
DISCHARGES_DELETED = "SELECT id FROM old_discharges"
DISCHARGES_UPDATED = (
    "SELECT n.id FROM old_discharges o JOIN new_discharges n ON n.id = o.id "  # nosec B608
    f"WHERE {_changed('o', 'n', DISCHARGE_COUNTED_COLUMNS)}"
)
PATIENTS_UPDATED = (
    "SELECT d.id FROM old_patients o JOIN new_patients n ON n.id = o.id "  # nosec B608
    f"JOIN calls_discharge d ON d.patient_id = n.id WHERE {_changed('o', 'n', PATIENT_COUNTED_COLUMNS)}"
)

# (trigger and function name, table, event, transition tables, the stays it touches)
TRIGGERS = [
    ("calls_stays_call_insert", "calls_followupcall", "INSERT", "NEW TABLE AS new_calls", CALLS_INSERTED),
    (
        "calls_stays_call_update",
        "calls_followupcall",
        "UPDATE",
        "OLD TABLE AS old_calls NEW TABLE AS new_calls",
        CALLS_UPDATED,
    ),
    ("calls_stays_call_delete", "calls_followupcall", "DELETE", "OLD TABLE AS old_calls", CALLS_DELETED),
    (
        "calls_stays_discharge_insert",
        "calls_discharge",
        "INSERT",
        "NEW TABLE AS new_discharges",
        DISCHARGES_INSERTED,
    ),
    (
        "calls_stays_discharge_update",
        "calls_discharge",
        "UPDATE",
        "OLD TABLE AS old_discharges NEW TABLE AS new_discharges",
        DISCHARGES_UPDATED,
    ),
    (
        "calls_stays_discharge_delete",
        "calls_discharge",
        "DELETE",
        "OLD TABLE AS old_discharges",
        DISCHARGES_DELETED,
    ),
    (
        "calls_stays_patient_update",
        "calls_patient",
        "UPDATE",
        "OLD TABLE AS old_patients NEW TABLE AS new_patients",
        PATIENTS_UPDATED,
    ),
]


def _function(name: str, ids: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
{_recompute(ids)}
  RETURN NULL;
END $$ LANGUAGE plpgsql;"""


INSTALL = "\n".join(
    [
        *(_function(name, ids) for name, _table, _event, _tables, ids in TRIGGERS),
        *(
            f"DROP TRIGGER IF EXISTS {name} ON {table};\n"
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {tables} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}();"
            for name, table, event, tables, _ids in TRIGGERS
        ),
    ]
)
UNINSTALL = "\n".join(
    [
        *(f"DROP TRIGGER IF EXISTS {name} ON {table};" for name, table, _event, _tables, _ids in TRIGGERS),
        f"DROP FUNCTION IF EXISTS {', '.join(f'{name}()' for name, *_rest in TRIGGERS)};",
    ]
)
REBUILD = f"""
DELETE FROM calls_dashboardstay;
DELETE FROM calls_dashboardstayday;
INSERT INTO calls_dashboardstay ({STAY_COLUMNS}) {_state("SELECT id FROM calls_discharge")};
{_roll(1, "TRUE")}
ANALYZE calls_dashboardstay;
ANALYZE calls_dashboardstayday;
"""  # nosec B608
# Stay rows and day rows that differ from a recount (none while the triggers keep them exact).
DIFFERENCES = f"""
WITH kept AS (
  SELECT {STAY_COLUMNS} FROM calls_dashboardstay
), counted AS ({_state("SELECT id FROM calls_discharge")}
), kept_days AS (
  SELECT {DAY_KEY_COLUMNS}, stays FROM calls_dashboardstayday WHERE stays <> 0
), counted_days AS (
  SELECT department_id, discharged_on, sex, age_band, icd10, completed_calls > 0, deceased_calls > 0,
         (completed_calls = 0 AND deceased_calls = 0 AND unreachable_calls > 0), family_calls > 0, rating,
         count(*)
  FROM counted AS s(discharge_id, department_id, discharged_on, sex, age_band, icd10,
                    completed_calls, deceased_calls, unreachable_calls, family_calls, rating)
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
)
SELECT (SELECT count(*) FROM ((TABLE kept EXCEPT ALL TABLE counted)
                              UNION ALL (TABLE counted EXCEPT ALL TABLE kept)) a)
     + (SELECT count(*) FROM ((TABLE kept_days EXCEPT ALL TABLE counted_days)
                              UNION ALL (TABLE counted_days EXCEPT ALL TABLE kept_days)) b)
"""  # nosec B608


def stays_install(apps=None, schema_editor=None) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(INSTALL)
    stays_rebuild()


def stays_uninstall(apps=None, schema_editor=None) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(UNINSTALL)


def stays_rebuild() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(REBUILD)


def stays_differences() -> int:
    """How many stay and stay-day rows differ from a recount (0: exact). PostgreSQL only."""
    with connection.cursor() as cursor:
        cursor.execute(DIFFERENCES)
        return cursor.fetchone()[0]
