"""The single outcome each complaint had before 0005 becomes its measures."""

import datetime as dt

import pytest

from tests.migration_steps import migrate, migrate_to_latest

BEFORE = [("complaints", "0004_system_messages")]
AFTER = [("complaints", "0005_measures_secondary_categories_dispute")]


@pytest.mark.django_db(transaction=True)
def test_each_old_outcome_becomes_the_measures_it_stands_for():
    apps = migrate(BEFORE)
    User = apps.get_model("followup", "User")
    Category = apps.get_model("complaints", "Category")
    Complaint = apps.get_model("complaints", "Complaint")
    user = User.objects.create(username="migrator")
    category = Category.objects.create(code="mig", name_en="Mig", name_zh="迁")
    moment = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    for i, outcome in enumerate(["explanation", "apology", "compensation", "mediation", "legal", ""]):
        Complaint.objects.create(
            reference=f"M-{i}",
            channel="hotline",
            complainant_name="x",
            received_at=moment,
            received_by=user,
            category=category,
            description="x",
            outcome=outcome,
        )

    apps = migrate(AFTER)
    Measure = apps.get_model("complaints", "ResolutionMeasure")
    measures = sorted(Measure.objects.values_list("complaint__reference", "kind"))
    assert measures == [
        ("M-0", "explanation"),
        ("M-1", "apology"),
        ("M-2", "apology"),
        ("M-2", "compensation"),
        ("M-3", "mediation"),
        ("M-4", "legal_advised"),
    ]
    migrate_to_latest()
