"""The dashboard's summary tables on PostgreSQL: triggers keep
calls_dashboardday and calls_dashboarditemday exact on every insert, update
and delete of a call, item score, spot check or a discharge's department, in
the same transaction. ``summary_rebuild()`` recomputes both from scratch (the
migration fills them with it; `manage.py rebuild_dashboard_summary` after a
restore or a bulk load with triggers off). See docs/dashboard.md."""

from django.db import connection

DAY_KEY = (
    "(department_id, due_date, (COALESCE(assigned_to_id, 0)), status, cancel_reason, answered_by, "
    "satisfaction, spot_check)"
)
ITEM_KEY = "(department_id, due_date, item_id, score)"

INSTALL = """
CREATE UNIQUE INDEX IF NOT EXISTS calls_dashboardday_key ON calls_dashboardday __DAY_KEY__;
CREATE UNIQUE INDEX IF NOT EXISTS calls_dashboarditemday_key ON calls_dashboarditemday __ITEM_KEY__;

CREATE OR REPLACE FUNCTION calls_dashboard_spot_state(p_call bigint) RETURNS text AS $$
  SELECT COALESCE((SELECT CASE WHEN verdict = '' THEN 'pending' ELSE verdict END
                   FROM calls_spotcheck WHERE call_id = p_call), '')
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION calls_dashboard_bump(
  p_dept bigint, p_due date, p_nurse bigint, p_status text, p_reason text, p_answered text, p_sat text,
  p_spot text, p_duration integer, p_sign integer
) RETURNS void AS $$
BEGIN
  IF p_dept IS NULL THEN RETURN; END IF;
  INSERT INTO calls_dashboardday (department_id, due_date, assigned_to_id, status, cancel_reason, answered_by,
                                  satisfaction, spot_check, calls, duration_sum, duration_n)
  VALUES (p_dept, p_due, p_nurse, p_status, p_reason, p_answered, p_sat, p_spot, p_sign,
          p_sign * COALESCE(p_duration, 0), CASE WHEN p_duration IS NULL THEN 0 ELSE p_sign END)
  ON CONFLICT __DAY_KEY__ DO UPDATE SET
    calls = calls_dashboardday.calls + EXCLUDED.calls,
    duration_sum = calls_dashboardday.duration_sum + EXCLUDED.duration_sum,
    duration_n = calls_dashboardday.duration_n + EXCLUDED.duration_n;
END $$ LANGUAGE plpgsql;

-- Move the item scores of one call between (department, due date) keys.
CREATE OR REPLACE FUNCTION calls_dashboard_items_bump(p_call bigint, p_dept bigint, p_due date, p_sign integer)
RETURNS void AS $$
BEGIN
  IF p_dept IS NULL THEN RETURN; END IF;
  INSERT INTO calls_dashboarditemday (department_id, due_date, item_id, score, scores)
  SELECT p_dept, p_due, item_id, score, p_sign * count(*) FROM calls_itemscore WHERE call_id = p_call
  GROUP BY item_id, score
  ON CONFLICT __ITEM_KEY__ DO UPDATE SET scores = calls_dashboarditemday.scores + EXCLUDED.scores;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION calls_dashboard_call_trigger() RETURNS trigger AS $$
DECLARE
  old_dept bigint;
  new_dept bigint;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    old_dept := (SELECT department_id FROM calls_discharge WHERE id = OLD.discharge_id);
    PERFORM calls_dashboard_bump(old_dept, OLD.due_date, OLD.assigned_to_id, OLD.status, OLD.cancel_reason,
      OLD.answered_by, OLD.satisfaction, calls_dashboard_spot_state(OLD.id), OLD.duration_seconds, -1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    new_dept := (SELECT department_id FROM calls_discharge WHERE id = NEW.discharge_id);
    PERFORM calls_dashboard_bump(new_dept, NEW.due_date, NEW.assigned_to_id, NEW.status, NEW.cancel_reason,
      NEW.answered_by, NEW.satisfaction, calls_dashboard_spot_state(NEW.id), NEW.duration_seconds, 1);
  END IF;
  IF TG_OP = 'UPDATE' AND (OLD.due_date <> NEW.due_date OR old_dept IS DISTINCT FROM new_dept) THEN
    PERFORM calls_dashboard_items_bump(NEW.id, old_dept, OLD.due_date, -1);
    PERFORM calls_dashboard_items_bump(NEW.id, new_dept, NEW.due_date, 1);
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION calls_dashboard_item_trigger() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO calls_dashboarditemday (department_id, due_date, item_id, score, scores)
    SELECT d.department_id, c.due_date, OLD.item_id, OLD.score, -1
    FROM calls_followupcall c JOIN calls_discharge d ON d.id = c.discharge_id WHERE c.id = OLD.call_id
    ON CONFLICT __ITEM_KEY__ DO UPDATE SET scores = calls_dashboarditemday.scores + EXCLUDED.scores;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO calls_dashboarditemday (department_id, due_date, item_id, score, scores)
    SELECT d.department_id, c.due_date, NEW.item_id, NEW.score, 1
    FROM calls_followupcall c JOIN calls_discharge d ON d.id = c.discharge_id WHERE c.id = NEW.call_id
    ON CONFLICT __ITEM_KEY__ DO UPDATE SET scores = calls_dashboarditemday.scores + EXCLUDED.scores;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

-- A spot check moves its call from one spot-check state to another.
CREATE OR REPLACE FUNCTION calls_dashboard_spot_trigger() RETURNS trigger AS $$
DECLARE
  c calls_followupcall%ROWTYPE;
  dept bigint;
  old_state text := '';
  new_state text := '';
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    old_state := CASE WHEN OLD.verdict = '' THEN 'pending' ELSE OLD.verdict END;
    SELECT * INTO c FROM calls_followupcall WHERE id = OLD.call_id;
    dept := (SELECT department_id FROM calls_discharge WHERE id = c.discharge_id);
    PERFORM calls_dashboard_bump(dept, c.due_date, c.assigned_to_id, c.status, c.cancel_reason, c.answered_by,
      c.satisfaction, old_state, c.duration_seconds, -1);
    PERFORM calls_dashboard_bump(dept, c.due_date, c.assigned_to_id, c.status, c.cancel_reason, c.answered_by,
      c.satisfaction, '', c.duration_seconds, 1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    new_state := CASE WHEN NEW.verdict = '' THEN 'pending' ELSE NEW.verdict END;
    SELECT * INTO c FROM calls_followupcall WHERE id = NEW.call_id;
    dept := (SELECT department_id FROM calls_discharge WHERE id = c.discharge_id);
    PERFORM calls_dashboard_bump(dept, c.due_date, c.assigned_to_id, c.status, c.cancel_reason, c.answered_by,
      c.satisfaction, '', c.duration_seconds, -1);
    PERFORM calls_dashboard_bump(dept, c.due_date, c.assigned_to_id, c.status, c.cancel_reason, c.answered_by,
      c.satisfaction, new_state, c.duration_seconds, 1);
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

-- A discharge moved to another department takes its calls and item scores along.
CREATE OR REPLACE FUNCTION calls_dashboard_discharge_trigger() RETURNS trigger AS $$
DECLARE
  c calls_followupcall%ROWTYPE;
BEGIN
  IF OLD.department_id = NEW.department_id THEN RETURN NULL; END IF;
  FOR c IN SELECT * FROM calls_followupcall WHERE discharge_id = NEW.id LOOP
    PERFORM calls_dashboard_bump(OLD.department_id, c.due_date, c.assigned_to_id, c.status, c.cancel_reason,
      c.answered_by, c.satisfaction, calls_dashboard_spot_state(c.id), c.duration_seconds, -1);
    PERFORM calls_dashboard_bump(NEW.department_id, c.due_date, c.assigned_to_id, c.status, c.cancel_reason,
      c.answered_by, c.satisfaction, calls_dashboard_spot_state(c.id), c.duration_seconds, 1);
    PERFORM calls_dashboard_items_bump(c.id, OLD.department_id, c.due_date, -1);
    PERFORM calls_dashboard_items_bump(c.id, NEW.department_id, c.due_date, 1);
  END LOOP;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS calls_dashboard_call ON calls_followupcall;
CREATE TRIGGER calls_dashboard_call AFTER INSERT OR DELETE OR UPDATE OF
  discharge_id, due_date, assigned_to_id, status, cancel_reason, answered_by, satisfaction, duration_seconds
  ON calls_followupcall FOR EACH ROW EXECUTE FUNCTION calls_dashboard_call_trigger();
DROP TRIGGER IF EXISTS calls_dashboard_item ON calls_itemscore;
CREATE TRIGGER calls_dashboard_item AFTER INSERT OR DELETE OR UPDATE OF call_id, item_id, score
  ON calls_itemscore FOR EACH ROW EXECUTE FUNCTION calls_dashboard_item_trigger();
DROP TRIGGER IF EXISTS calls_dashboard_spot ON calls_spotcheck;
CREATE TRIGGER calls_dashboard_spot AFTER INSERT OR DELETE OR UPDATE OF call_id, verdict
  ON calls_spotcheck FOR EACH ROW EXECUTE FUNCTION calls_dashboard_spot_trigger();
DROP TRIGGER IF EXISTS calls_dashboard_discharge ON calls_discharge;
CREATE TRIGGER calls_dashboard_discharge AFTER UPDATE OF department_id
  ON calls_discharge FOR EACH ROW EXECUTE FUNCTION calls_dashboard_discharge_trigger();
"""

INSTALL = INSTALL.replace("__DAY_KEY__", DAY_KEY).replace("__ITEM_KEY__", ITEM_KEY)

UNINSTALL = """
DROP TRIGGER IF EXISTS calls_dashboard_call ON calls_followupcall;
DROP TRIGGER IF EXISTS calls_dashboard_item ON calls_itemscore;
DROP TRIGGER IF EXISTS calls_dashboard_spot ON calls_spotcheck;
DROP TRIGGER IF EXISTS calls_dashboard_discharge ON calls_discharge;
DROP FUNCTION IF EXISTS calls_dashboard_call_trigger(), calls_dashboard_item_trigger(), calls_dashboard_spot_trigger(),
  calls_dashboard_discharge_trigger(), calls_dashboard_items_bump(bigint, bigint, date, integer),
  calls_dashboard_bump(bigint, date, bigint, text, text, text, text, text, integer, integer),
  calls_dashboard_spot_state(bigint);
"""

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
