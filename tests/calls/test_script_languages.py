"""A script has a published version per language; the call screen shows the
version in the nurse's UI language, else the hospital's default language,
and the call records the version used (issue 17, item 1; docs/scripts.md)."""

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from calls.models import FollowUpCall, ScriptVersion
from calls.selectors.scripts import pick_version, script_version_audience, script_version_for_call
from calls.services.scripts import script_version_duplicate, script_version_publish
from tests.calls.call_work_helpers import NOW, bilingual_script, make_call, ward_of
from tests.factories import QuestionFactory, SatisfactionItemFactory, ScriptVersionFactory, publishable_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def desk(nurse):
    ward = ward_of(nurse)
    script, versions = bilingual_script()
    call = make_call(department=ward, nurse=nurse, script=script)
    return call, versions


def zh_client(client, language="zh-hans"):
    client.cookies.load({"django_language": language})
    return client


@pytest.mark.parametrize(("language", "expected"), [("zh-hans", "zh-hans"), ("en", "en"), ("zh-cn", "zh-hans")])
def test_the_call_uses_the_version_in_the_nurses_language(desk, language, expected):
    call, versions = desk
    with translation.override(language):
        assert script_version_for_call(call=call) == versions[expected][0]


def test_a_language_without_a_version_gets_the_hospital_default_language(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    _script, versions = bilingual_script()
    published = [versions["en"][0], versions["zh-hans"][0]]
    assert pick_version(published, ui_language="fr", main_language="en") == versions["zh-hans"][0]
    settings.LANGUAGE_CODE = "en"
    assert pick_version(published, ui_language="fr", main_language="zh-hans") == versions["en"][0]


def test_a_script_published_in_one_language_only_serves_every_nurse(nurse):
    ward = ward_of(nurse)
    english_only = publishable_version(status=ScriptVersion.Status.PUBLISHED, language="en")
    call = make_call(department=ward, nurse=nurse, script=english_only.script)
    with translation.override("zh-hans"):
        assert script_version_for_call(call=call) == english_only


def test_publishing_a_new_chinese_version_retires_only_the_old_chinese_one(admin_user):
    script, versions = bilingual_script()
    draft = script_version_duplicate(version=versions["zh-hans"][0], by=admin_user)

    script_version_publish(version=draft, by=admin_user)

    assert list(script.versions.order_by("number").values_list("number", "language", "status")) == [
        (1, "en", "published"),
        (2, "zh-hans", "retired"),
        (3, "zh-hans", "published"),
    ]
    assert draft.title == "心内科第7天随访"


def test_the_database_refuses_two_published_versions_of_one_language():
    script, _versions = bilingual_script()
    with pytest.raises(IntegrityError), transaction.atomic():
        ScriptVersionFactory(script=script, number=9, language="zh-hans", status=ScriptVersion.Status.PUBLISHED)


def test_the_chinese_nurse_sees_the_chinese_script_and_the_english_nurse_the_english(client_for, nurse, desk):
    call, _versions = desk
    url = reverse("calls:call_detail", args=[call.pk])

    chinese = zh_client(client_for(nurse)).get(url).content.decode()
    english = zh_client(client_for(nurse), "en").get(url).content.decode()

    assert "您好，我是您的责任护士。" in chinese
    assert "Good afternoon, I am your ward nurse." not in chinese
    assert "话术：心内科第7天随访，第 2 版（简体中文）" in chinese
    assert "Good afternoon, I am your ward nurse." in english
    assert "Script: Cardiology day 7, version 1 (English)" in english


def test_the_answered_dial_records_the_version_in_the_nurses_language(client_for, nurse, desk):
    call, versions = desk
    zh_client(client_for(nurse)).post(
        reverse("calls:call_attempt", args=[call.pk]),
        {"attempt-expected_version": call.version, "attempt-result": "answered", "attempt-note": ""},
    )
    call.refresh_from_db()
    assert (call.status, call.script_version) == ("in_progress", versions["zh-hans"][0])

    # An English colleague opening the call now sees the Chinese version the answers belong to.
    html = zh_client(client_for(nurse), "en").get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    assert "出院后有没有胸痛？" in html


def complete(client, call, version, chest, **extra):
    item = SatisfactionItemFactory(code="care", name="Care")
    data = {
        "script_version": version.pk,
        f"q_{chest.pk}": "no",
        "outcome-expected_version": call.version,
        "outcome-answered_by": "patient",
        "outcome-satisfaction": "satisfied",
        f"outcome-item_{item.pk}": "9",
        "outcome-summary": "Fine.",
        "outcome-duration": "5",
        **extra,
    }
    return client.post(reverse("calls:call_complete", args=[call.pk]), data)


def test_completing_records_the_version_the_nurse_saw(client_for, nurse, desk):
    call, versions = desk
    version, chest, _activity = versions["zh-hans"]

    response = complete(zh_client(client_for(nurse)), call, version, chest)

    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.script_version) == (FollowUpCall.Status.COMPLETED, version)
    assert list(call.answers.values_list("question__text", "value")) == [("出院后有没有胸痛？", "no")]


def test_switching_language_before_saving_keeps_the_version_she_answered(client_for, nurse, desk):
    """The form was shown in Chinese; she switched the page to English and saved."""
    call, versions = desk
    version, chest, _activity = versions["zh-hans"]

    response = complete(zh_client(client_for(nurse), "en"), call, version, chest)

    assert response.status_code == 302
    call.refresh_from_db()
    assert call.script_version == version


@pytest.mark.parametrize("shown", ["999999", "abc", "-1", "１２", ""])
def test_a_shown_version_that_is_not_of_the_calls_script_is_ignored(client_for, nurse, desk, shown):
    call, versions = desk
    version, chest, _activity = versions["en"]
    other = publishable_version(status=ScriptVersion.Status.PUBLISHED)
    response = complete(client_for(nurse), call, version, chest, script_version=shown or other.pk)
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.script_version == version


def test_a_draft_of_the_script_is_never_used_as_the_shown_version(client_for, nurse, desk, admin_user):
    call, versions = desk
    draft = script_version_duplicate(version=versions["zh-hans"][0], by=admin_user)
    version, chest, _activity = versions["en"]
    response = complete(client_for(nurse), call, version, chest, script_version=draft.pk)
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.script_version == version


def test_audience_names_the_languages_and_active_rule_steps(settings, desk):
    settings.LANGUAGE_CODE = "en"
    call, versions = desk
    assert script_version_audience(versions["zh-hans"][0]) == (["Simplified Chinese"], 1)
    assert script_version_audience(versions["en"][0]) == (["English"], 1)
    call.step.rule.is_active = False
    call.step.rule.save()
    assert script_version_audience(versions["en"][0]) == (["English"], 0)


@pytest.mark.parametrize("ui_language", ["en", "zh-hans"])
def test_a_yes_no_answer_reads_in_the_language_of_the_script_it_was_asked_in(ui_language):
    """What the patient said stays in the words the nurse asked it in,
    whichever language the reader's screen is in (an earlier call's answers
    on the call screen), and the reader's language is left as it was."""
    english = QuestionFactory(version=ScriptVersionFactory(language="en"))
    chinese = QuestionFactory(version=ScriptVersionFactory(language="zh-hans"))
    with translation.override(ui_language):
        for _twice in range(2):
            assert [english.format_answer("yes"), english.format_answer("no")] == ["Yes", "No"]
            assert [chinese.format_answer("yes"), chinese.format_answer("no")] == ["是", "否"]
        assert translation.get_language() == ui_language
