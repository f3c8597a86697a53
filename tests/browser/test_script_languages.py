"""The script speaks the nurse's language (issue 17, item 1), in Chromium:
the administrator publishes the Chinese version of a script whose English
version is already published and is told who will see it; a nurse whose
browser is in Chinese then sees the Chinese script, one in English the
English script, and the completed call records the version she used."""

import re

import pytest
from django.utils import timezone

from calls.models import FollowUpCall, ScriptVersion
from followup.roles import Role
from tests.browser.helpers import log_in
from tests.calls.call_work_helpers import bilingual_script, make_call, ward_of
from tests.factories import SatisfactionItemFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLISHED = {
    "en-GB": (
        "Cardiology day 7 v2 (Simplified Chinese) is published. From the next call they open, nurses working in "
        "Simplified Chinese see it on the calls of 1 rule step that names this script; calls already answered "
        "keep the version they were answered with."
    ),
    "zh-CN": (
        "Cardiology day 7 v2 (简体中文) 已发布。使用简体中文界面的护士从打开的下一个随访起，"
        "在指定此话术的 1 个规则步骤的随访上看到它；已接听的随访保留当时使用的版本。"
    ),
}
SCRIPT_LINE = {
    "zh-CN": ("话术：心内科第7天随访，第 2 版（简体中文）", "您好，我是您的责任护士。", "出院后有没有胸痛？"),
    "en-GB": (
        "Script: Cardiology day 7, version 1 (English)",
        "Good afternoon, I am your ward nurse.",
        "Any chest pain",
    ),
}


@pytest.fixture
def bilingual_desk(transactional_db):
    nurse = UserFactory(username="lina", display_name="Li Na", roles=[Role.NURSE])
    UserFactory(username="root", display_name="Admin", roles=[Role.ADMIN])
    ward = ward_of(nurse)
    script, versions = bilingual_script()
    chinese = versions["zh-hans"][0]
    ScriptVersion.objects.filter(pk=chinese.pk).update(status=ScriptVersion.Status.DRAFT)
    SatisfactionItemFactory(code="care", name="Care", name_zh="护理")
    call = make_call(department=ward, nurse=nurse, script=script, due=timezone.localdate(), patient__name="Zhou Min")
    return {"call": call, "versions": versions}


def in_context(browser, live_server, locale):
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return context, context.new_page()


@pytest.mark.parametrize("locale", ["en-GB", "zh-CN"])
def test_admin_publishes_the_chinese_version_and_each_nurse_sees_her_language(
    browser, live_server, bilingual_desk, locale
):
    call, versions = bilingual_desk["call"], bilingual_desk["versions"]
    chinese = versions["zh-hans"][0]

    context, page = in_context(browser, live_server, locale)
    log_in(page, "root")
    page.goto(f"/admin/calls/scriptversion/{chinese.pk}/change/")
    page.locator("form[action$='/publish/'] button").click()
    page.wait_for_url(re.compile(rf"/admin/calls/scriptversion/{chinese.pk}/change/$"))
    assert page.locator("ul.messagelist li").first.inner_text() == PUBLISHED[locale]
    context.close()

    for nurse_locale in ("zh-CN", "en-GB"):
        context, page = in_context(browser, live_server, nurse_locale)
        log_in(page, "lina")
        page.goto(f"/calls/{call.pk}/")
        header, opening, question = SCRIPT_LINE[nurse_locale]
        assert page.locator(".call-script-version").inner_text() == header
        assert page.locator(".call-script-point p").first.inner_text() == opening
        assert question in page.locator(".call-script-questions").inner_text()
        assert page.locator(".call-script-point p").first.get_attribute("lang") == (
            "zh-hans" if nurse_locale == "zh-CN" else "en"
        )
        context.close()


def test_the_chinese_nurse_completes_the_call_on_the_chinese_version(browser, live_server, bilingual_desk):
    call, versions = bilingual_desk["call"], bilingual_desk["versions"]
    chinese, chest, _activity = versions["zh-hans"]
    ScriptVersion.objects.filter(pk=chinese.pk).update(status=ScriptVersion.Status.PUBLISHED)

    context, page = in_context(browser, live_server, "zh-CN")
    log_in(page, "lina")
    page.goto(f"/calls/{call.pk}/")
    page.check(f'input[name="q_{chest.pk}"][value="no"]')
    page.check('input[name="outcome-answered_by"][value="patient"]')
    page.check('input[name="outcome-satisfaction"][value="satisfied"]')
    page.get_by_label("概况").fill("恢复良好。")
    page.get_by_label("通话时长").fill("6")
    page.get_by_role("button", name="完成随访").click()
    page.wait_for_url("**/calls/")
    context.close()

    call.refresh_from_db()
    assert (call.status, call.script_version) == (FollowUpCall.Status.COMPLETED, chinese)
    assert list(call.answers.values_list("question__text", "value")) == [("出院后有没有胸痛？", "no")]
