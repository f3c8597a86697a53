"""Answers typed and checked (issue 17, item 8), in Chromium and in both
languages: yes/no buttons and saved answers read in the script's language;
a number question shows its unit, a value outside a "refuse" range is
refused with a message and nothing is saved, a value outside a "flag" range
is saved with a range warning that shows on the call."""

import re

import pytest
from django.utils import timezone

from calls.models import CallAnswer, ClinicalAlert, FollowUpCall, ScriptVersion
from followup.roles import Role
from tests.browser.helpers import log_in
from tests.calls.call_work_helpers import bilingual_script, make_call, ward_of
from tests.factories import QuestionFactory, SatisfactionItemFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en-GB": {
        "language": "en",
        "yes_no": ["Yes", "No"],
        "refused": "Outside the allowed range (60 to 250 mmHg): check the value with the patient.",
        "saved": "“Weight”: 250 kg is outside 30 to 200 kg; it is saved with a range warning.",
        "badge": "Outside 30 to 200 kg",
        "pressure": "Systolic pressure",
        "weight": "Weight",
        "summary": "Summary",
        "duration": "Duration",
        "complete": "Complete the call",
    },
    "zh-CN": {
        "language": "zh-hans",
        "yes_no": ["是", "否"],
        "refused": "超出允许范围（60 至 250 mmHg）：请与患者核对数值。",
        "saved": "“体重”：250 kg 超出 30 至 200 kg；已保存并标记范围警告。",
        "badge": "超出 30 至 200 kg",
        "pressure": "收缩压",
        "weight": "体重",
        "summary": "概况",
        "duration": "通话时长",
        "complete": "完成随访",
    },
}


@pytest.fixture
def numbers_desk(transactional_db):
    nurse = UserFactory(username="lina", display_name="Li Na", roles=[Role.NURSE])
    ward = ward_of(nurse)
    script, versions = bilingual_script()
    for language, (version, _chest, _activity) in versions.items():
        words = TEXT["en-GB" if language == "en" else "zh-CN"]
        QuestionFactory(
            version=version, order=3, kind="number", text=words["pressure"], unit="mmHg", min_value=60, max_value=250
        )
        QuestionFactory(
            version=version,
            order=4,
            kind="number",
            text=words["weight"],
            unit="kg",
            min_value=30,
            max_value=200,
            out_of_range="flag",
        )
    SatisfactionItemFactory(code="care", name="Care", name_zh="护理")
    call = make_call(department=ward, nurse=nurse, script=script, due=timezone.localdate(), patient__name="Zhou Min")
    return {"call": call, "versions": versions}


def open_page(browser, live_server, locale):
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, "lina")
    return context, page


def labels_of(page, question) -> list[str]:
    return [text.strip() for text in page.locator(f'label[for^="id_q_{question.pk}_"]').all_inner_texts()]


@pytest.mark.parametrize("locale", ["en-GB", "zh-CN"])
def test_numbers_are_refused_or_flagged_and_answers_read_in_the_scripts_language(
    browser, live_server, numbers_desk, locale
):
    words = TEXT[locale]
    call = numbers_desk["call"]
    version, chest, _activity = numbers_desk["versions"][words["language"]]
    context, page = open_page(browser, live_server, locale)
    page.goto(f"/calls/{call.pk}/")

    assert labels_of(page, chest) == words["yes_no"]
    pressure = page.get_by_label(words["pressure"])
    assert pressure.locator("xpath=following-sibling::span").inner_text() == "mmHg"
    page.check(f'input[name="q_{chest.pk}"][value="yes"]')
    pressure.fill("1")
    page.get_by_label(words["weight"]).fill("250")
    page.check('input[name="outcome-answered_by"][value="patient"]')
    page.check('input[name="outcome-satisfaction"][value="satisfied"]')
    page.get_by_label(words["summary"]).fill("Recovering.")
    page.get_by_label(words["duration"]).fill("6")
    page.get_by_role("button", name=words["complete"]).click()

    page.wait_for_load_state()
    assert page.locator(f"#id_q_{version.questions.get(order=3).pk}_error").inner_text() == words["refused"]
    assert FollowUpCall.objects.get(pk=call.pk).status == "scheduled"
    assert CallAnswer.objects.count() == 0

    page.get_by_label(words["pressure"]).fill("120")
    page.get_by_role("button", name=words["complete"]).click()
    page.wait_for_url("**/calls/")
    assert words["saved"] in page.locator("main").inner_text()

    page.goto(f"/calls/{call.pk}/")
    rows = page.locator("table:has(caption) tbody tr").all_inner_texts()
    assert [re.sub(r"\s+", " ", row).strip() for row in rows] == [
        f"{chest.text} {words['yes_no'][0]} {'Red flag' if locale == 'en-GB' else '危急'}",
        f"{words['pressure']} 120 mmHg",
        f"{words['weight']} 250 kg {words['badge']}",
    ]
    context.close()

    answer = CallAnswer.objects.get(question__order=4)
    assert (answer.value, answer.is_out_of_range, answer.is_red_flag) == (250, True, False)
    assert ClinicalAlert.objects.get().reason == f"{chest.text}: {words['yes_no'][0]}"


def test_an_english_nurse_answers_a_chinese_script_with_its_own_yes_and_no(browser, live_server, numbers_desk):
    """The call was answered on the Chinese version (by a Chinese colleague):
    the English page keeps the script's 是/否 around the script's Chinese text."""
    call = numbers_desk["call"]
    chinese, chest, _activity = numbers_desk["versions"]["zh-hans"]
    FollowUpCall.objects.filter(pk=call.pk).update(script_version=chinese, status="in_progress")
    ScriptVersion.objects.filter(pk=numbers_desk["versions"]["en"][0].pk).update(status="retired")
    context, page = open_page(browser, live_server, "en-GB")
    page.goto(f"/calls/{call.pk}/")

    assert labels_of(page, chest) == ["是", "否"]
    assert page.get_by_role("heading", name="Outcome").is_visible()
    assert page.locator(".call-script-questions").get_attribute("lang") == "zh-hans"
    context.close()
