"""A rule step's calling days: one checkbox per weekday in the admin (in
English and Chinese), stored as the weekday numbers the queue reads, and
checked by the model."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from calls.models import FollowUpRule, RuleStep
from tests.factories import DepartmentFactory, FollowUpRuleFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:calls_followuprule_add")
CHECKBOX = re.compile(
    r'<input type="checkbox" name="steps-0-weekdays" value="(\d)" id="id_steps-0-weekdays_\d"( checked)?>'
    r"\s*([^<]+)</label>"
)


def picker(html: str) -> list[tuple[str, bool, str]]:
    """(value, ticked, label) of the first step's calling-day checkboxes."""
    return [(value, bool(checked), label.strip()) for value, checked, label in CHECKBOX.findall(html)]


def rule_post(department, **step):
    data = {
        "name": "Cardiology after discharge",
        "department": department.pk,
        "diagnosis_match": "",
        "is_active": "on",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-order": "0",
        "steps-0-offset_days": "7",
        "steps-0-early_days": "0",
        "steps-0-late_days": "7",
        "steps-0-window_start": "14:00",
        "steps-0-window_end": "17:00",
        "steps-0-max_attempts": "3",
        "steps-0-attempt_days": "2",
        "steps-0-dial_from": "08:00",
        "steps-0-dial_until": "20:00",
        "steps-0-script": "",
    }
    data.update({f"steps-0-{name}": value for name, value in step.items()})
    return data


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("en", ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]),
        ("zh-hans", ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]),
    ],
)
def test_calling_days_are_a_checkbox_per_weekday_in_both_languages(client_for, admin_user, language, labels):
    html = client_for(admin_user).get(ADD, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert picker(html) == [(str(n), False, label) for n, label in enumerate(labels)]


def test_a_steps_stored_days_are_ticked(client_for, admin_user):
    step = FollowUpRuleFactory().steps.create(
        offset_days=7, weekdays=[1, 3], window_start=dt.time(14), window_end=dt.time(17)
    )
    html = client_for(admin_user).get(reverse("admin:calls_followuprule_change", args=[step.rule_id])).content.decode()

    assert [(value, ticked) for value, ticked, _label in picker(html)] == [
        ("0", False),
        ("1", True),
        ("2", False),
        ("3", True),
        ("4", False),
        ("5", False),
        ("6", False),
    ]


def test_ticked_days_are_stored_as_weekday_numbers(client_for, admin_user):
    department = DepartmentFactory(code="CARD")

    response = client_for(admin_user).post(ADD, rule_post(department, weekdays=["3", "1"]))

    assert response.status_code == 302
    assert list(RuleStep.objects.values_list("rule__name", "weekdays")) == [("Cardiology after discharge", [1, 3])]


@pytest.mark.parametrize(
    ("weekdays", "message"),
    [
        ([], "Choose at least one weekday."),
        (["7"], "Select a valid choice. 7 is not one of the available choices."),
        (["mon"], "Select a valid choice. mon is not one of the available choices."),
    ],
)
def test_the_admin_refuses_no_day_or_an_unknown_day(client_for, admin_user, weekdays, message):
    department = DepartmentFactory(code="CARD")

    response = client_for(admin_user).post(ADD, rule_post(department, weekdays=weekdays))

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors == [{"weekdays": [message]}]
    assert FollowUpRule.objects.count() == 0


def test_the_refusal_reads_in_chinese(client_for, admin_user):
    department = DepartmentFactory(code="CARD")

    response = client_for(admin_user).post(ADD, rule_post(department, weekdays=[]), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.context["inline_admin_formsets"][0].formset.errors == [{"weekdays": ["请至少选择一天。"]}]


@pytest.mark.parametrize(
    ("weekdays", "message"),
    [
        ([], "Choose at least one weekday."),
        (None, "Choose at least one weekday."),
        ("0,1,2", "Weekdays are numbers from 0 (Monday) to 6 (Sunday)."),
        ({"monday": True}, "Weekdays are numbers from 0 (Monday) to 6 (Sunday)."),
        ([7], "Weekdays are numbers from 0 (Monday) to 6 (Sunday)."),
        ([-1], "Weekdays are numbers from 0 (Monday) to 6 (Sunday)."),
        (["1"], "Weekdays are numbers from 0 (Monday) to 6 (Sunday)."),
        ([True], "Weekdays are numbers from 0 (Monday) to 6 (Sunday)."),
        ([1, 1], "Choose each weekday only once."),
    ],
)
def test_the_model_refuses_empty_out_of_range_or_repeated_days(weekdays, message):
    step = RuleStep(
        rule=FollowUpRuleFactory(),
        offset_days=7,
        weekdays=weekdays,
        window_start=dt.time(14),
        window_end=dt.time(17),
    )

    with pytest.raises(ValidationError) as refused:
        step.full_clean()

    assert refused.value.message_dict == {"weekdays": [message]}


def test_the_model_accepts_every_day_once():
    step = RuleStep(
        rule=FollowUpRuleFactory(),
        offset_days=7,
        weekdays=[0, 1, 2, 3, 4, 5, 6],
        window_start=dt.time(14),
        window_end=dt.time(17),
    )
    step.full_clean()
