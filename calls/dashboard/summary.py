# ruff: noqa: S608  -- SQL built from this module's own constants (table and column names), never from input.
"""The dashboard's summary tables on PostgreSQL: triggers keep
calls_dashboardday and calls_dashboarditemday exact on every insert, update
and delete of a call, item score, spot check or a discharge's department, in
the same transaction. ``summary_rebuild()`` recomputes both from scratch (the
migrations fill them with it; `manage.py rebuild_dashboard_summary` after a
restore or a bulk load with triggers off). See docs/dashboard.md.

The triggers are statement-level, over transition tables (``REFERENCING NEW
TABLE AS ...``): one statement that inserts, updates or deletes N rows runs
each trigger once, which sums the statement's rows per summary key and
applies one ``INSERT ... ON CONFLICT DO UPDATE`` per key, so its cost grows
with N (a row-level trigger updated the same summary row once per call, each
time over a longer chain of dead row versions: quadratic inside one
transaction). PostgreSQL allows transition tables only on a trigger of one
event without a column list, hence one trigger per table and event; an
UPDATE trigger keeps only the rows whose counted columns changed.

A row counts while everything it hangs on exists: a call through its
discharge, an item score and a spot check through their call. Deleting a
call takes along the item scores still attached to it (the app deletes them
first; this keeps the summary exact in either order)."""

from django.db import connection

DAY_COLUMNS = "department_id, due_date, assigned_to_id, status, cancel_reason, answered_by, satisfaction, spot_check"
DAY_KEY = (
    "(department_id, due_date, (COALESCE(assigned_to_id, 0)), status, cancel_reason, answered_by, "
    "satisfaction, spot_check)"
)
ITEM_KEY = "(department_id, due_date, item_id, score)"
# The columns of a call the summary counts: an UPDATE that changes none of them changes nothing.
CALL_COUNTED = (
    "discharge_id, due_date, assigned_to_id, status, cancel_reason, answered_by, satisfaction, duration_seconds"
)
SPOT_STATE = "(CASE WHEN {s}.verdict = '' THEN 'pending' ELSE {s}.verdict END)"


def _day_upsert(delta: str, *, with_: str = "") -> str:
    """Add the delta rows (DAY_COLUMNS, duration_seconds, sign) to
    calls_dashboardday: one upsert per key, in key order (two writers lock
    the summary rows in the same order), skipping keys that net to nothing."""
    return f"""
{with_}
INSERT INTO calls_dashboardday ({DAY_COLUMNS}, calls, duration_sum, duration_n)
SELECT {DAY_COLUMNS}, sum(sign), sum(sign * COALESCE(duration_seconds, 0)),
       sum(CASE WHEN duration_seconds IS NULL THEN 0 ELSE sign END)
FROM ({delta}) AS delta
GROUP BY {DAY_COLUMNS}
HAVING sum(sign) <> 0 OR sum(sign * COALESCE(duration_seconds, 0)) <> 0
    OR sum(CASE WHEN duration_seconds IS NULL THEN 0 ELSE sign END) <> 0
ORDER BY {DAY_COLUMNS}
ON CONFLICT {DAY_KEY} DO UPDATE SET
  calls = calls_dashboardday.calls + EXCLUDED.calls,
  duration_sum = calls_dashboardday.duration_sum + EXCLUDED.duration_sum,
  duration_n = calls_dashboardday.duration_n + EXCLUDED.duration_n;"""  # nosec B608


def _item_upsert(delta: str, *, with_: str = "") -> str:
    """Add the delta rows (department_id, due_date, item_id, score, sign) to
    calls_dashboarditemday, one upsert per key, in key order."""
    return f"""
{with_}
INSERT INTO calls_dashboarditemday (department_id, due_date, item_id, score, scores)
SELECT department_id, due_date, item_id, score, sum(sign)
FROM ({delta}) AS delta
GROUP BY department_id, due_date, item_id, score
HAVING sum(sign) <> 0
ORDER BY department_id, due_date, item_id, score
ON CONFLICT {ITEM_KEY} DO UPDATE SET scores = calls_dashboarditemday.scores + EXCLUDED.scores;"""  # nosec B608


def _calls(
    source: str, sign: int, *, where: str = "", department: str = "d.department_id", spot: str | None = None
) -> str:
    """Delta rows of the calls ``c`` in ``source`` (which joins ``d``, their
    discharge's department, unless ``department`` says otherwise), each
    counted ``sign`` times, with their spot-check state read from the table
    unless ``spot`` gives it."""
    if spot is None:
        spot = f"COALESCE({SPOT_STATE.format(s='s')}, '')"
        source += " LEFT JOIN calls_spotcheck s ON s.call_id = c.id"
    return (
        f"SELECT {department} AS department_id, c.due_date, c.assigned_to_id, c.status, c.cancel_reason, "
        f"c.answered_by, c.satisfaction, {spot} AS spot_check, c.duration_seconds, {sign} AS sign FROM {source}{where}"  # nosec B608
    )


def _items(source: str, sign: int, *, department: str = "d.department_id", due: str = "c.due_date") -> str:
    """Delta rows of the item scores ``i`` in ``source``, each counted ``sign`` times."""
    select = f"SELECT {department} AS department_id, {due} AS due_date, i.item_id, i.score, {sign} AS sign"
    return f"{select} FROM {source}"


def _function(name: str, body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
{body}
  RETURN NULL;
END $$ LANGUAGE plpgsql;"""


CALL_OF_ITEM = "JOIN calls_followupcall c ON c.id = i.call_id JOIN calls_discharge d ON d.id = c.discharge_id"
CALL_OF_SPOT = "JOIN calls_followupcall c ON c.id = sp.call_id JOIN calls_discharge d ON d.id = c.discharge_id"
# The calls (and their item scores) an UPDATE moved: some counted column changed.
CALLS_MOVED = f"""WITH moved AS (
  SELECT o.id AS old_id, n.id AS new_id, (o.discharge_id, o.due_date) IS DISTINCT FROM (n.discharge_id, n.due_date)
         AS moves_items
  FROM old_calls o FULL JOIN new_calls n ON n.id = o.id
  WHERE o.id IS NULL OR n.id IS NULL OR (o.{CALL_COUNTED.replace(", ", ", o.")}) IS DISTINCT FROM
        (n.{CALL_COUNTED.replace(", ", ", n.")})
)"""  # nosec B608
DISCHARGES_MOVED = """WITH moved AS (
  SELECT n.id, o.department_id AS old_department, n.department_id AS new_department
  FROM old_discharges o JOIN new_discharges n ON n.id = o.id
  WHERE o.department_id IS DISTINCT FROM n.department_id
)"""
SPOT_NONE = "''"
OLD_CALLS = "old_calls c JOIN calls_discharge d ON d.id = c.discharge_id"
NEW_CALLS = "new_calls c JOIN calls_discharge d ON d.id = c.discharge_id"
WITH_ITEMS = " JOIN calls_itemscore i ON i.call_id = c.id"
OLD_MOVED = " WHERE c.id IN (SELECT old_id FROM moved)"  # nosec B608
NEW_MOVED = " WHERE c.id IN (SELECT new_id FROM moved)"  # nosec B608
OLD_MOVED_ITEMS = " WHERE c.id IN (SELECT old_id FROM moved WHERE moves_items)"  # nosec B608
NEW_MOVED_ITEMS = " WHERE c.id IN (SELECT new_id FROM moved WHERE moves_items)"  # nosec B608

FUNCTIONS = {
    "calls_dashboard_call_insert": _day_upsert(_calls(NEW_CALLS, 1)),
    "calls_dashboard_call_delete": _day_upsert(_calls(OLD_CALLS, -1))
    + _item_upsert(_items(OLD_CALLS + WITH_ITEMS, -1)),
    "calls_dashboard_call_update": _day_upsert(
        _calls(OLD_CALLS, -1, where=OLD_MOVED) + " UNION ALL " + _calls(NEW_CALLS, 1, where=NEW_MOVED),
        with_=CALLS_MOVED,
    )
    + _item_upsert(
        _items(OLD_CALLS + WITH_ITEMS + OLD_MOVED_ITEMS, -1)
        + " UNION ALL "
        + _items(NEW_CALLS + WITH_ITEMS + NEW_MOVED_ITEMS, 1),
        with_=CALLS_MOVED,
    ),
    "calls_dashboard_item_insert": _item_upsert(_items(f"new_items i {CALL_OF_ITEM}", 1)),
    "calls_dashboard_item_delete": _item_upsert(_items(f"old_items i {CALL_OF_ITEM}", -1)),
    "calls_dashboard_item_update": _item_upsert(
        _items(f"old_items i {CALL_OF_ITEM}", -1) + " UNION ALL " + _items(f"new_items i {CALL_OF_ITEM}", 1)
    ),
    # A spot check moves its call from no spot check to its state, or back.
    "calls_dashboard_spot_insert": _day_upsert(
        _calls(f"new_spots sp {CALL_OF_SPOT}", -1, spot=SPOT_NONE)
        + " UNION ALL "
        + _calls(f"new_spots sp {CALL_OF_SPOT}", 1, spot=SPOT_STATE.format(s="sp"))
    ),
    "calls_dashboard_spot_delete": _day_upsert(
        _calls(f"old_spots sp {CALL_OF_SPOT}", -1, spot=SPOT_STATE.format(s="sp"))
        + " UNION ALL "
        + _calls(f"old_spots sp {CALL_OF_SPOT}", 1, spot=SPOT_NONE)
    ),
    "calls_dashboard_spot_update": _day_upsert(
        _calls(f"old_spots sp {CALL_OF_SPOT}", -1, spot=SPOT_STATE.format(s="sp"))
        + " UNION ALL "
        + _calls(f"old_spots sp {CALL_OF_SPOT}", 1, spot=SPOT_NONE)
        + " UNION ALL "
        + _calls(f"new_spots sp {CALL_OF_SPOT}", -1, spot=SPOT_NONE)
        + " UNION ALL "
        + _calls(f"new_spots sp {CALL_OF_SPOT}", 1, spot=SPOT_STATE.format(s="sp"))
    ),
    # A discharge moved to another department takes its calls and item scores along.
    "calls_dashboard_discharge_update": _day_upsert(
        _calls("moved m JOIN calls_followupcall c ON c.discharge_id = m.id", -1, department="m.old_department")
        + " UNION ALL "
        + _calls("moved m JOIN calls_followupcall c ON c.discharge_id = m.id", 1, department="m.new_department"),
        with_=DISCHARGES_MOVED,
    )
    + _item_upsert(
        _items(
            "moved m JOIN calls_followupcall c ON c.discharge_id = m.id JOIN calls_itemscore i ON i.call_id = c.id",
            -1,
            department="m.old_department",
        )
        + " UNION ALL "
        + _items(
            "moved m JOIN calls_followupcall c ON c.discharge_id = m.id JOIN calls_itemscore i ON i.call_id = c.id",
            1,
            department="m.new_department",
        ),
        with_=DISCHARGES_MOVED,
    ),
}

# (trigger, table, event, transition tables); the function is the trigger's name.
TRIGGERS = [
    ("calls_dashboard_call_insert", "calls_followupcall", "INSERT", "NEW TABLE AS new_calls"),
    ("calls_dashboard_call_update", "calls_followupcall", "UPDATE", "OLD TABLE AS old_calls NEW TABLE AS new_calls"),
    ("calls_dashboard_call_delete", "calls_followupcall", "DELETE", "OLD TABLE AS old_calls"),
    ("calls_dashboard_item_insert", "calls_itemscore", "INSERT", "NEW TABLE AS new_items"),
    ("calls_dashboard_item_update", "calls_itemscore", "UPDATE", "OLD TABLE AS old_items NEW TABLE AS new_items"),
    ("calls_dashboard_item_delete", "calls_itemscore", "DELETE", "OLD TABLE AS old_items"),
    ("calls_dashboard_spot_insert", "calls_spotcheck", "INSERT", "NEW TABLE AS new_spots"),
    ("calls_dashboard_spot_update", "calls_spotcheck", "UPDATE", "OLD TABLE AS old_spots NEW TABLE AS new_spots"),
    ("calls_dashboard_spot_delete", "calls_spotcheck", "DELETE", "OLD TABLE AS old_spots"),
    (
        "calls_dashboard_discharge_update",
        "calls_discharge",
        "UPDATE",
        "OLD TABLE AS old_discharges NEW TABLE AS new_discharges",
    ),
]

INSTALL = "\n".join(
    [
        f"CREATE UNIQUE INDEX IF NOT EXISTS calls_dashboardday_key ON calls_dashboardday {DAY_KEY};",
        f"CREATE UNIQUE INDEX IF NOT EXISTS calls_dashboarditemday_key ON calls_dashboarditemday {ITEM_KEY};",
        *(_function(name, body) for name, body in FUNCTIONS.items()),
        *(
            f"DROP TRIGGER IF EXISTS {name} ON {table};\n"
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {tables} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}();"
            for name, table, event, tables in TRIGGERS
        ),
    ]
)

UNINSTALL = "\n".join(
    [
        *(f"DROP TRIGGER IF EXISTS {name} ON {table};" for name, table, _event, _tables in TRIGGERS),
        f"DROP FUNCTION IF EXISTS {', '.join(f'{name}()' for name in FUNCTIONS)};",
    ]
)

REBUILD = """
DELETE FROM calls_dashboardday;
DELETE FROM calls_dashboarditemday;
INSERT INTO calls_dashboardday (department_id, due_date, assigned_to_id, status, cancel_reason, answered_by,
                                satisfaction, spot_check, calls, duration_sum, duration_n)
SELECT d.department_id, c.due_date, c.assigned_to_id, c.status, c.cancel_reason, c.answered_by, c.satisfaction,
       COALESCE(CASE WHEN s.verdict = '' THEN 'pending' ELSE s.verdict END, ''),
       count(*), COALESCE(sum(c.duration_seconds), 0), count(c.duration_seconds)
FROM calls_followupcall c JOIN calls_discharge d ON d.id = c.discharge_id
LEFT JOIN calls_spotcheck s ON s.call_id = c.id
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO calls_dashboarditemday (department_id, due_date, item_id, score, scores)
SELECT d.department_id, c.due_date, i.item_id, i.score, count(*)
FROM calls_itemscore i JOIN calls_followupcall c ON c.id = i.call_id JOIN calls_discharge d ON d.id = c.discharge_id
GROUP BY 1, 2, 3, 4;
ANALYZE calls_dashboardday;
ANALYZE calls_dashboarditemday;
"""


# The summary rows of some departments that differ from a recount of their calls
# and item scores (as REBUILD counts them): none while the triggers keep it exact.
DIFFERENCES = f"""
WITH kept AS (
  SELECT {DAY_COLUMNS}, calls, duration_sum, duration_n FROM calls_dashboardday
  WHERE department_id = ANY(%(departments)s) AND (calls, duration_sum, duration_n) <> (0, 0, 0)
), counted AS (
  SELECT d.department_id, c.due_date, c.assigned_to_id, c.status, c.cancel_reason, c.answered_by, c.satisfaction,
         COALESCE(CASE WHEN s.verdict = '' THEN 'pending' ELSE s.verdict END, '') AS spot_check,
         count(*) AS calls, COALESCE(sum(c.duration_seconds), 0) AS duration_sum,
         count(c.duration_seconds) AS duration_n
  FROM calls_followupcall c JOIN calls_discharge d ON d.id = c.discharge_id
  LEFT JOIN calls_spotcheck s ON s.call_id = c.id
  WHERE d.department_id = ANY(%(departments)s)
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
), kept_items AS (
  SELECT department_id, due_date, item_id, score, scores FROM calls_dashboarditemday
  WHERE department_id = ANY(%(departments)s) AND scores <> 0
), counted_items AS (
  SELECT d.department_id, c.due_date, i.item_id, i.score, count(*) AS scores
  FROM calls_itemscore i JOIN calls_followupcall c ON c.id = i.call_id
  JOIN calls_discharge d ON d.id = c.discharge_id
  WHERE d.department_id = ANY(%(departments)s)
  GROUP BY 1, 2, 3, 4
)
SELECT (SELECT count(*) FROM ((TABLE kept EXCEPT ALL TABLE counted)
                              UNION ALL (TABLE counted EXCEPT ALL TABLE kept)) AS days)
     + (SELECT count(*) FROM ((TABLE kept_items EXCEPT ALL TABLE counted_items)
                              UNION ALL (TABLE counted_items EXCEPT ALL TABLE kept_items)) AS items)
"""  # nosec B608


def summary_differences(department_ids: list[int]) -> int:
    """How many summary rows of these departments differ from a recount of
    their calls and item scores (0: exact). PostgreSQL only."""
    with connection.cursor() as cursor:
        cursor.execute(DIFFERENCES, {"departments": list(department_ids)})
        return cursor.fetchone()[0]


def summary_in_use() -> bool:
    """The dashboard reads the summary tables on PostgreSQL (kept by triggers)."""
    return connection.vendor == "postgresql"


def summary_install(apps=None, schema_editor=None) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(INSTALL)
    summary_rebuild()


def summary_uninstall(apps=None, schema_editor=None) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(UNINSTALL)


def summary_rebuild() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(REBUILD)
