"""Migration 0008 gives every existing version its script's language, so
each script shows what it showed before (docs/scripts.md)."""

import pytest

from tests.migration_steps import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("calls", "0007_dashboard_summary")]
AFTER = [("calls", "0009_script_version_one_published_per_language")]


def test_existing_versions_take_their_scripts_language_and_stay_published():
    old = migrate(BEFORE)
    CallScript, ScriptVersion = old.get_model("calls", "CallScript"), old.get_model("calls", "ScriptVersion")
    chinese = CallScript.objects.create(name="心内科出院随访", language="zh-hans")
    english = CallScript.objects.create(name="General", language="en")
    ScriptVersion.objects.create(script=chinese, number=1, status="retired")
    ScriptVersion.objects.create(script=chinese, number=2, status="published")
    ScriptVersion.objects.create(script=english, number=1, status="published")
    # Edited by hand: two published versions of one script.
    ScriptVersion.objects.create(script=english, number=2, status="published")
    try:
        new = migrate(AFTER)
        versions = new.get_model("calls", "ScriptVersion").objects.order_by("script__name", "number")
        assert list(versions.values_list("script__name", "number", "language", "title", "status")) == [
            ("General", 1, "en", "", "retired"),
            ("General", 2, "en", "", "published"),
            ("心内科出院随访", 1, "zh-hans", "", "retired"),
            ("心内科出院随访", 2, "zh-hans", "", "published"),
        ]
    finally:
        migrate_to_latest()
