# A call carries its stay's department (FollowUpCall.department), so that a
# ward's open calls are read from the (department, status, due date) index:
# the column is added empty, filled from the stays, then made required.

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_departments(apps, schema_editor):
    FollowUpCall = apps.get_model("calls", "FollowUpCall")
    Discharge = apps.get_model("calls", "Discharge")
    stay_department = Discharge.objects.filter(pk=OuterRef("discharge_id")).values("department_id")[:1]
    FollowUpCall.objects.using(schema_editor.connection.alias).update(department_id=Subquery(stay_department))
    if schema_editor.connection.vendor == "postgresql":
        # The foreign key checks of the update are deferred to the commit; run
        # them now, or PostgreSQL refuses the ALTER TABLE that follows
        # ("pending trigger events").
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0024_risk_detail_without_statistics"),
    ]

    operations = [
        migrations.AddField(
            model_name="followupcall",
            name="department",
            field=models.ForeignKey(
                null=True,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="calls.department",
                verbose_name="department",
            ),
        ),
        migrations.RunPython(fill_departments, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="followupcall",
            name="department",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="calls.department",
                verbose_name="department",
            ),
        ),
        migrations.AddIndex(
            model_name="followupcall",
            index=models.Index(fields=["department", "status", "due_date"], name="call_department_status_idx"),
        ),
    ]
