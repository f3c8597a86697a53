# A call carries its stay's readmission-risk tier (FollowUpCall.risk_tier),
# so that the worklist orders a day's calls by it without looking up each
# call's stay: the column is added ("unknown"), filled from the stays, and
# a trigger copies a stay's tier onto its calls whenever it changes, however
# it is written (a rescoring, an import's upsert, a feed, the admin, a shell).
#
# - PostgreSQL: one statement-level trigger per UPDATE of the stays, over
#   the statement's old and new rows (an import updating 100,000 stays runs
#   it once, as the dashboard's summary triggers).
# - SQLite (a laptop, the default settings): a row trigger, for the stays
#   whose tier changed.
#
# New calls are given their stay's tier where they are created (the queue,
# a booked call, a self-report callback).

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION calls_call_risk_tier() RETURNS trigger AS $$
    BEGIN
      UPDATE calls_followupcall c SET risk_tier = n.risk_tier
      FROM old_discharges o JOIN new_discharges n ON n.id = o.id
      WHERE o.risk_tier IS DISTINCT FROM n.risk_tier AND c.discharge_id = n.id AND c.risk_tier <> n.risk_tier;
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER calls_call_risk_tier AFTER UPDATE ON calls_discharge
    REFERENCING OLD TABLE AS old_discharges NEW TABLE AS new_discharges
    FOR EACH STATEMENT EXECUTE FUNCTION calls_call_risk_tier()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS calls_call_risk_tier ON calls_discharge",
    "DROP FUNCTION IF EXISTS calls_call_risk_tier()",
]
SQLITE_FORWARD = [
    """CREATE TRIGGER calls_call_risk_tier AFTER UPDATE OF risk_tier ON calls_discharge
    FOR EACH ROW WHEN OLD.risk_tier IS NOT NEW.risk_tier
    BEGIN
        UPDATE calls_followupcall SET risk_tier = NEW.risk_tier
        WHERE discharge_id = NEW.id AND risk_tier <> NEW.risk_tier;
    END""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS calls_call_risk_tier"]


def _run(schema_editor, statements_by_vendor: dict[str, list[str]]) -> None:
    for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def fill_and_follow(apps, schema_editor):
    FollowUpCall = apps.get_model("calls", "FollowUpCall")
    Discharge = apps.get_model("calls", "Discharge")
    stay_tier = Discharge.objects.filter(pk=OuterRef("discharge_id")).values("risk_tier")[:1]
    # Every call is "unknown" now: only those of stays with another tier change.
    FollowUpCall.objects.using(schema_editor.connection.alias).exclude(discharge__risk_tier="unknown").update(
        risk_tier=Subquery(stay_tier)
    )
    _run(schema_editor, {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD})


def unfollow(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0026_call_not_phone_due_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="followupcall",
            name="risk_tier",
            field=models.CharField(
                choices=[("high", "High"), ("moderate", "Moderate"), ("low", "Low"), ("unknown", "Unknown")],
                default="unknown",
                editable=False,
                max_length=10,
                verbose_name="readmission risk tier",
            ),
        ),
        migrations.RunPython(fill_and_follow, unfollow, elidable=False),
    ]
