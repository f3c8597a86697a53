"""A rule step's attempt policy in the admin (issue 17, item 4): how many
unanswered dials on how many different days before "lost to follow-up", and
the hours outside which the ward does not dial; and the migration that gave
existing steps a policy that changes nothing they planned."""

import datetime as dt

import pytest

from calls.models import FollowUpRule, RuleStep
from tests.calls.test_rule_weekdays import ADD, rule_post
from tests.factories import DepartmentFactory
from tests.migration_steps import migrate, migrate_to_latest

BEFORE = [("calls", "0012_merge_patient_merges")]
AFTER = [("calls", "0013_callbacks_dialled_number_attempt_policy")]


@pytest.mark.django_db
def test_the_admin_stores_the_attempt_policy(client_for, admin_user):
    response = client_for(admin_user).post(
        ADD,
        rule_post(
            DepartmentFactory(code="CARD"), weekdays=["3"], max_attempts="4", attempt_days="3", dial_from="07:30"
        ),
    )

    assert response.status_code == 302
    assert list(RuleStep.objects.values_list("max_attempts", "attempt_days", "dial_from", "dial_until")) == [
        (4, 3, dt.time(7, 30), dt.time(20, 0))
    ]


@pytest.mark.django_db
def test_the_admin_takes_no_dialling_hours_as_no_limit(client_for, admin_user):
    client_for(admin_user).post(
        ADD, rule_post(DepartmentFactory(code="CARD"), weekdays=["3"], dial_from="", dial_until="")
    )

    assert list(RuleStep.objects.values_list("dial_from", "dial_until")) == [(None, None)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("step", "errors"),
    [
        (
            {"max_attempts": "2", "attempt_days": "3"},
            {"attempt_days": ["The dials cannot fall on more days than there are dials: at most 2."]},
        ),
        (
            {"dial_from": "08:00", "dial_until": ""},
            {"dial_until": ["Give both dialling hours, or leave both empty for no limit."]},
        ),
        (
            {"dial_from": "20:00", "dial_until": "08:00"},
            {"dial_until": ["The end of the dialling hours must be after their start."]},
        ),
        (
            {"window_start": "19:00", "window_end": "21:00"},
            {"window_start": ["The calling window must lie within the dialling hours (08:00-20:00)."]},
        ),
        ({"attempt_days": "0"}, {"attempt_days": ["Ensure this value is greater than or equal to 1."]}),
    ],
)
def test_the_admin_refuses_a_policy_that_cannot_work(client_for, admin_user, step, errors):
    response = client_for(admin_user).post(ADD, rule_post(DepartmentFactory(code="CARD"), weekdays=["3"], **step))

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors == [errors]
    assert FollowUpRule.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_existing_steps_get_a_policy_that_keeps_what_they_planned():
    old = migrate(BEFORE)
    Department, Rule, Step = (old.get_model("calls", name) for name in ("Department", "FollowUpRule", "RuleStep"))
    rule = Rule.objects.create(name="Weekly", department=Department.objects.create(code="CARD", name="Cardiology"))
    common = {"rule": rule, "weekdays": [3]}
    Step.objects.create(offset_days=7, window_start=dt.time(16), window_end=dt.time(17), max_attempts=3, **common)
    Step.objects.create(offset_days=14, window_start=dt.time(16), window_end=dt.time(17), max_attempts=1, **common)
    Step.objects.create(offset_days=30, window_start=dt.time(7), window_end=dt.time(21), max_attempts=5, **common)
    try:
        new = migrate(AFTER)
        steps = new.get_model("calls", "RuleStep").objects.order_by("offset_days")
        assert list(steps.values_list("offset_days", "max_attempts", "attempt_days", "dial_from", "dial_until")) == [
            (7, 3, 2, dt.time(8), dt.time(20)),
            (14, 1, 1, dt.time(8), dt.time(20)),
            (30, 5, 2, dt.time(7), dt.time(21)),
        ]
    finally:
        migrate_to_latest()
