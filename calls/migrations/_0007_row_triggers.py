"""The first design of the dashboard summary's triggers (migration 0007):
row-level triggers, one upsert per changed call. Frozen here so that 0007
installs what it installed then, and 0008 can put it back when reversed;
calls/dashboard/summary.py holds the current design (statement-level
triggers over transition tables). Not a migration: the loader skips modules
whose name starts with an underscore."""

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


def row_triggers_install(apps=None, schema_editor=None) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(INSTALL)


def row_triggers_uninstall(apps=None, schema_editor=None) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(UNINSTALL)
