"""Answers typed and checked (issue 17, item 8): yes/no answers read in the
script's language wherever they show; a number question carries a unit and
an allowed range, and a value outside it is refused with a message or
accepted with a range warning, as the admin chose (docs/scripts.md)."""

import re
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from calls.admin.scripts import QuestionForm
from calls.forms.script_answers import CallAnswersForm
from calls.models import CallAnswer, ClinicalAlert, FollowUpCall, Question
from calls.selectors.scripts import script_render
from calls.services.call_work import call_complete
from tests.calls.call_work_helpers import NOW, bilingual_script, make_call, ward_of
from tests.factories import QuestionFactory, SatisfactionItemFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def with_pressure(version, *, policy="refuse", required=False):
    return QuestionFactory(
        version=version,
        order=3,
        kind="number",
        text="Systolic pressure" if version.language == "en" else "收缩压",
        unit="mmHg",
        min_value=60,
        max_value=250,
        out_of_range=policy,
        required=required,
    )


@pytest.fixture
def desk(nurse):
    ward = ward_of(nurse)
    script, versions = bilingual_script()
    call = make_call(department=ward, nurse=nurse, script=script)
    item = SatisfactionItemFactory(code="care", name="Care", name_zh="护理")
    return call, versions, item


def post(client, call, version, answers, item, language="en"):
    client.cookies.load({"django_language": language})
    data = {
        "script_version": version.pk,
        **{f"q_{question.pk}": value for question, value in answers.items()},
        "outcome-expected_version": call.version,
        "outcome-answered_by": "patient",
        "outcome-satisfaction": "satisfied",
        f"outcome-item_{item.pk}": "9",
        "outcome-summary": "Fine.",
        "outcome-duration": "5",
    }
    return client.post(reverse("calls:call_complete", args=[call.pk]), data)


def radio_labels(html: str, question) -> list[str]:
    return re.findall(rf'<label for="id_q_{question.pk}_\d+"[^>]*>\s*(.*?)\s*</label>', html, re.S)


# --- yes/no in the script's language -------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "ui", "labels"), [("zh-hans", "en", ["是", "否"]), ("en", "zh-hans", ["Yes", "No"])]
)
def test_yes_no_buttons_read_in_the_scripts_language_whatever_the_ui(desk, script, ui, labels):
    _call, versions, _item = desk
    render = script_render(version=versions[script][0])
    with translation.override(ui):
        form = CallAnswersForm(questions=render.questions)
        assert [str(label) for _value, label in form.fields[f"q_{versions[script][1].pk}"].choices] == labels


def test_the_call_screen_shows_the_chinese_scripts_yes_no_to_an_english_nurse(client_for, nurse, desk):
    call, versions, _item = desk
    chinese, chest, _activity = versions["zh-hans"]
    FollowUpCall.objects.filter(pk=call.pk).update(script_version=chinese)

    client = client_for(nurse)
    client.cookies.load({"django_language": "en"})
    html = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()

    assert radio_labels(html, chest) == ["是", "否"]
    assert "Outcome" in html  # the page itself stays in English


@pytest.mark.parametrize(
    ("script", "ui", "shown", "reason"),
    [
        ("zh-hans", "en", "是", "出院后有没有胸痛？: 是"),
        ("en", "zh-hans", "Yes", "Any chest pain since discharge?: Yes"),
    ],
)
def test_saved_yes_and_the_alert_read_in_the_scripts_language(client_for, nurse, desk, script, ui, shown, reason):
    call, versions, item = desk
    version, chest, activity = versions[script]

    response = post(client_for(nurse), call, version, {chest: "yes", activity: activity.choices[1]}, item, ui)

    assert response.status_code == 302
    assert ClinicalAlert.objects.get().reason == reason
    html = client_for(nurse).get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    cells = re.findall(r'<td><span lang="([\w-]+)">(.*?)</span>', html)
    assert cells == [(script, shown), (script, activity.choices[1])]


# --- number questions: unit and range ------------------------------------------------------


def test_a_number_question_shows_its_unit_and_expected_range(client_for, nurse, desk):
    call, versions, _item = desk
    pressure = with_pressure(versions["zh-hans"][0])
    client = client_for(nurse)
    client.cookies.load({"django_language": "zh-hans"})

    html = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()

    assert re.search(rf'name="q_{pressure.pk}"[^>]*>\s*<span class="input-group-text">mmHg</span>', html)
    assert "预期范围：60 至 250 mmHg。" in html


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Outside the allowed range (60 to 250 mmHg): check the value with the patient."),
        ("zh-hans", "超出允许范围（60 至 250 mmHg）：请与患者核对数值。"),
    ],
)
@pytest.mark.parametrize("value", ["1", "250.001", "-120", "1e3"])
def test_a_refused_number_is_refused_with_a_message_and_nothing_is_saved(
    client_for, nurse, desk, language, message, value
):
    call, versions, item = desk
    version, chest, _activity = versions["en"]
    pressure = with_pressure(version)

    response = post(client_for(nurse), call, version, {chest: "no", pressure: value}, item, language)

    assert response.status_code == 400
    assert message in response.content.decode()
    call.refresh_from_db()
    assert (call.status, CallAnswer.objects.count()) == ("scheduled", 0)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e400", "12O", "\x00", "١٢٠٠"])
def test_hostile_numbers_are_refused_as_not_numbers(client_for, nurse, desk, value):
    call, versions, item = desk
    version, chest, _activity = versions["en"]
    pressure = with_pressure(version)

    response = post(client_for(nurse), call, version, {chest: "no", pressure: value}, item)

    assert response.status_code == 400
    assert CallAnswer.objects.count() == 0


@pytest.mark.parametrize(("value", "stored"), [("60", 60), ("250", 250), ("120.5", 120.5), (" 118 ", 118)])
def test_a_number_inside_the_range_is_saved_as_typed(client_for, nurse, desk, value, stored):
    call, versions, item = desk
    version, chest, _activity = versions["en"]
    pressure = with_pressure(version)

    response = post(client_for(nurse), call, version, {chest: "no", pressure: value}, item)

    assert response.status_code == 302
    assert CallAnswer.objects.get(question=pressure).value == stored
    assert CallAnswer.objects.get(question=pressure).is_out_of_range is False


@pytest.mark.parametrize(
    ("language", "told", "badge"),
    [
        ("en", "“Systolic pressure”: 300 mmHg is outside 60 to 250 mmHg; it is saved with a range warning.", "Outside"),
        ("zh-hans", "“Systolic pressure”：300 mmHg 超出 60 至 250 mmHg；已保存并标记范围警告。", "超出"),
    ],
)
def test_a_flagged_number_is_saved_with_a_range_warning_not_a_red_flag(client_for, nurse, desk, language, told, badge):
    call, versions, item = desk
    version, chest, _activity = versions["en"]
    pressure = with_pressure(version, policy="flag")
    client = client_for(nurse)

    response = post(client, call, version, {chest: "no", pressure: "300"}, item, language)

    assert response.status_code == 302
    answer = CallAnswer.objects.get(question=pressure)
    assert (answer.value, answer.is_out_of_range, answer.is_red_flag) == (300, True, False)
    assert ClinicalAlert.objects.count() == 0
    page = client.get(response.url).content.decode()
    assert told in page
    html = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    assert f'<span class="badge text-bg-warning range-warning">{badge} 60 ' in html
    assert '<td><span lang="en">300 mmHg</span>' in html


def test_the_service_refuses_an_out_of_range_or_non_number_value(nurse, desk):
    call, versions, _item = desk
    version, chest, _activity = versions["en"]
    pressure = with_pressure(version)

    for value, message in [
        (1, "“Systolic pressure”: 1 mmHg is outside the allowed range (60 to 250 mmHg)."),
        ("120", "“Systolic pressure” needs a number."),
        (True, "“Systolic pressure” needs a number."),
    ]:
        with pytest.raises(ValidationError) as excinfo:
            call_complete(
                call=call,
                by=nurse,
                expected_version=call.version,
                answered_by="patient",
                answers={chest.pk: "no", pressure.pk: value},
                satisfaction="satisfied",
                item_scores={},
                summary="",
                duration_seconds=60,
                script_version=version,
            )
        assert excinfo.value.message_dict == {"answers": [message]}
    call.refresh_from_db()
    assert (call.status, CallAnswer.objects.count()) == ("scheduled", 0)


@pytest.mark.parametrize(
    ("low", "high", "value", "outside"),
    [
        (60, None, 59, True),
        (60, None, 9999, False),
        (None, 250, 251, True),
        (None, 250, -5, False),
        (None, None, -5, False),
    ],
)
def test_half_open_ranges(desk, low, high, value, outside):
    _call, versions, _item = desk
    question = QuestionFactory(version=versions["en"][0], kind="number", min_value=low, max_value=high)
    assert question.is_out_of_range(value) is outside


# --- admin ----------------------------------------------------------------------------------


def admin_question(**values):
    data = {
        "order": 1,
        "text": "Weight",
        "help_text": "",
        "kind": "number",
        "choices": "",
        "required": "on",
        "red_flag_answers": "",
        "unit": "kg",
        "min_value": "30",
        "max_value": "200",
        "out_of_range": "flag",
        **values,
    }
    return QuestionForm(data)


def test_admin_sets_unit_range_and_policy_on_a_number_question():
    form = admin_question()
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["unit"], form.cleaned_data["min_value"], form.cleaned_data["out_of_range"]) == (
        "kg",
        Decimal("30"),
        Question.OutOfRange.FLAG,
    )


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"kind": "yes_no"}, {"unit", "min_value", "max_value"}),
        ({"min_value": "300"}, {"max_value"}),
        ({"out_of_range": "ignore"}, {"out_of_range"}),
        ({"min_value": "NaN"}, {"min_value"}),
    ],
)
def test_admin_refuses_a_range_that_cannot_work(values, errors):
    form = admin_question(**values)
    assert form.is_valid() is False
    assert set(form.errors) == errors
