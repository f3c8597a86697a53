"""Nothing typed is lost, and the call is quick by keyboard (issue 17, items 2
and 11), in Chromium, in English and in Chinese: a reload puts her answers
back; a session that ended before she sent the call takes her to log in with
a reason and back to the call with her answers, and the call then completes;
typing while offline is kept in the browser and put back after a reload; the
inactivity warning is read out and seen without taking her focus; an answered
call completes in at most 40 keystrokes beyond the text she types."""

import re

import pytest
from django.contrib.sessions.models import Session

from calls.models import CallDraft, FollowUpCall
from tests.browser.helpers import log_in
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCALES = ["en-GB", "zh-CN"]
SAVED = {"en-GB": r"Saved as a draft at \d\d:\d\d\.", "zh-CN": r"已于 \d\d:\d\d 保存为草稿。"}
PUT_BACK = {
    "en-GB": r"What you typed on this call \(saved at [\d-]+ \d\d:\d\d\) is back in the form\. "
    r"It stays a draft, seen only by you, until you complete the call\.",
    "zh-CN": r"您在此随访中输入的内容（保存于 [\d-]+ \d\d:\d\d）已回到表单中。"
    r"在您完成随访之前，它作为草稿保留，仅您本人可见。",
}
NOT_SENT = {
    "en-GB": "You were logged out before this was sent (a session ends after 30 minutes without activity). "
    "Nothing is lost: log in again and you will be back on the page with what you typed.",
    "zh-CN": "提交前您已被登出（30 分钟无操作会话即结束）。内容没有丢失：重新登录后将回到该页面，您输入的内容仍在。",
}
LOGGED_OUT_NOTICE = {
    "en-GB": "You have been logged out. What you type is kept on this computer: log in again to save it, "
    "and you will come back here.",
    "zh-CN": "您已被登出。您输入的内容暂存在这台电脑上：重新登录即可保存，并会回到此页面。",
}
OFFLINE_NOTICE = {
    "en-GB": "No connection: what you type is kept on this computer and saved as soon as the connection is back.",
    "zh-CN": "网络已断开：您输入的内容暂存在这台电脑上，网络恢复后立即保存。",
}
RESTORED_NOTICE = {
    "en-GB": "What you typed here and had not been saved yet is back in the form.",
    "zh-CN": "您在此输入但尚未保存的内容已回到表单中。",
}
WARNING = {
    "en-GB": "You will be logged out soon because of inactivity: carry on typing, or press “Stay logged in”.",
    "zh-CN": "由于长时间无操作，您即将被登出：请继续输入，或点击“保持登录”。",
}
COMPLETED = {"en-GB": "Call with Zhou Min completed.", "zh-CN": "与 Zhou Min 的随访已完成。"}
SUMMARY = "Recovering; her daughter helps with the medicines."


@pytest.fixture(params=LOCALES)
def locale(request):
    return request.param


@pytest.fixture
def localized(browser, live_server, locale):
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield context, page
    context.close()


def kept_in_browser(page) -> list[str]:
    return page.evaluate(
        "Object.keys(localStorage).filter(function (k) { return k.indexOf('followup-draft:') === 0; })"
    )


def answer_some(page, desk):
    page.check(f'input[name="q_{desk["chest"].pk}"][value="no"]')
    page.locator('textarea[name="outcome-summary"]').fill(SUMMARY)
    page.locator('input[name="outcome-duration"]').fill("6:40")


def wait_saved(page, locale):
    page.locator("#draft-status").filter(has_text=re.compile(SAVED[locale])).wait_for()


def test_a_reload_puts_her_answers_back(localized, desk, locale):
    _context, page = localized
    call = desk["call"]
    log_in(page, "lina")
    page.goto(f"/calls/{call.pk}/")
    answer_some(page, desk)
    wait_saved(page, locale)
    # Once the server has it, nothing stays in the browser.
    assert kept_in_browser(page) == []

    page.reload()

    assert page.locator(f'input[name="q_{desk["chest"].pk}"][value="no"]').is_checked()
    assert page.locator('textarea[name="outcome-summary"]').input_value() == SUMMARY
    assert page.locator('input[name="outcome-duration"]').input_value() == "6:40"
    assert re.fullmatch(PUT_BACK[locale], page.locator("main .alert-info[role=status]").inner_text())
    assert CallDraft.objects.get().fields["outcome-summary"] == [SUMMARY]


def test_after_the_session_ended_she_logs_in_again_and_completes_the_call_with_her_answers(localized, desk, locale):
    context, page = localized
    call = desk["call"]
    log_in(page, "lina")
    page.goto(f"/calls/{call.pk}/")
    answer_some(page, desk)
    wait_saved(page, locale)

    Session.objects.all().delete()  # the session ends on the server
    summary = page.locator('textarea[name="outcome-summary"]')
    summary.press("End")
    summary.type(" Walks daily.")  # typed after the end: the server refuses it, the browser keeps it
    page.locator("#draft-notice").filter(has_text=LOGGED_OUT_NOTICE[locale]).wait_for()
    page.check('input[name="outcome-satisfaction"][value="satisfied"]')
    page.locator("#call-outcome button[type=submit]").click()

    page.wait_for_url(re.compile(r"/accounts/login/\?next=/calls/\d+/$"))
    assert page.locator("main .alert[role=alert]").inner_text() == NOT_SENT[locale]
    page.locator("input[name=username]").fill("lina")
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.locator("main").get_by_role("button").click()

    page.wait_for_url(re.compile(rf"/calls/{call.pk}/$"))
    assert summary.input_value() == SUMMARY + " Walks daily."
    assert page.locator(f'input[name="q_{desk["chest"].pk}"][value="no"]').is_checked()
    assert page.locator('input[name="outcome-satisfaction"][value="satisfied"]').is_checked()
    assert page.locator('input[name="outcome-duration"]').input_value() == "6:40"
    page.check('input[name="outcome-answered_by"][value="patient"]')
    page.locator("#call-outcome button[type=submit]").click()

    page.wait_for_url(re.compile(r"/calls/$"))
    assert COMPLETED[locale] in page.locator("main").inner_text()
    done = FollowUpCall.objects.get(pk=call.pk)
    assert (done.status, done.summary, done.satisfaction, done.duration_seconds) == (
        "completed",
        SUMMARY + " Walks daily.",
        "satisfied",
        400,
    )
    assert CallDraft.objects.count() == 0
    assert kept_in_browser(page) == []
    context.clear_cookies()


def test_typing_offline_is_kept_in_the_browser_and_put_back_after_a_reload(localized, desk, locale):
    context, page = localized
    call = desk["call"]
    log_in(page, "lina")
    page.goto(f"/calls/{call.pk}/")
    answer_some(page, desk)
    wait_saved(page, locale)

    context.set_offline(True)
    page.locator('input[name="outcome-duration"]').fill("8:15")
    page.check('input[name="outcome-satisfaction"][value="basic"]')
    page.locator("#draft-notice").filter(has_text=OFFLINE_NOTICE[locale]).wait_for()
    assert kept_in_browser(page) == [f"followup-draft:{desk['nurse'].pk}:{call.pk}"]
    # Back online, but the autosave still does not reach the server: what the reload shows
    # can only come from the browser's copy.
    page.route("**/draft/", lambda route: route.abort())
    context.set_offline(False)
    page.reload()

    assert page.locator('input[name="outcome-duration"]').input_value() == "8:15"
    assert page.locator('input[name="outcome-satisfaction"][value="basic"]').is_checked()
    assert page.locator('textarea[name="outcome-summary"]').input_value() == SUMMARY
    assert page.locator("#draft-restored").inner_text() == RESTORED_NOTICE[locale]
    # Still not on the server, and she is told so.
    page.locator("#draft-notice").filter(has_text=OFFLINE_NOTICE[locale]).wait_for()
    assert CallDraft.objects.get().fields["outcome-duration"] == ["6:40"]

    page.unroute("**/draft/")
    page.locator('textarea[name="outcome-summary"]').press("End")
    page.locator('textarea[name="outcome-summary"]').type("!")
    wait_saved(page, locale)
    assert page.locator("#draft-notice").inner_text() == ""
    fields = CallDraft.objects.get().fields
    assert (fields["outcome-duration"], fields["outcome-satisfaction"]) == (["8:15"], ["basic"])
    assert kept_in_browser(page) == []


def test_the_inactivity_warning_is_read_out_and_seen_without_taking_her_focus(localized, desk, locale):
    _context, page = localized
    page.clock.install()
    log_in(page, "lina")
    page.goto(f"/calls/{desk['call'].pk}/")
    summary = page.locator('textarea[name="outcome-summary"]')
    summary.fill("Recovering")
    wait_saved(page, locale)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    summary.focus()

    page.clock.fast_forward("28:30")  # two minutes before the 30-minute expiry

    warning = page.locator("#session-warning-text")
    assert warning.inner_text() == WARNING[locale]
    assert (warning.get_attribute("role"), warning.get_attribute("aria-live")) == ("status", "polite")
    assert page.evaluate("document.activeElement.name") == "outcome-summary"
    for where in ("0", "document.body.scrollHeight / 2", "document.body.scrollHeight"):
        page.evaluate(f"window.scrollTo(0, {where})")
        box = page.locator("#session-warning .session-warning-box").bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 900
        assert page.locator("#session-stay").is_visible()

    # Typing is activity: the warning goes, and the focus never moved.
    summary.type(" well")
    page.locator("#session-warning-text").filter(has_text=re.compile("^$")).wait_for(state="attached")
    assert page.locator("#session-stay").is_hidden()
    assert page.evaluate("document.activeElement.name") == "outcome-summary"


class Keyboard:
    """Presses keys and counts every one that is not text: Tab, arrows, Enter, Space."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.count += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def tab_to(self, selector: str, *, limit: int = 60) -> None:
        """Tab until the focus is on ``selector``, as she would."""
        seen = []
        for _ in range(limit):
            self.press("Tab")
            if self.page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
            seen.append(self.page.evaluate("document.activeElement.outerHTML.slice(0, 90)"))
        raise AssertionError(f"{selector} never got the focus; the focus went to: " + " | ".join(seen[:12]))


def test_an_answered_call_completes_in_at_most_40_keystrokes(localized, desk, locale):
    _context, page = localized
    call, chest, note, item = desk["call"], desk["chest"], desk["note"], desk["attitude"]
    log_in(page, "lina")
    page.goto(f"/calls/{call.pk}/")
    keys = Keyboard(page)

    keys.tab_to('a[href="#call-script"]')
    keys.press("Enter")
    assert page.evaluate("document.activeElement.id") == "call-script"
    keys.tab_to(f'input[name="q_{chest.pk}"]')
    keys.press("ArrowRight")  # No
    keys.tab_to(f'textarea[name="q_{note.pk}"]')
    keys.type("Asks about her diet")
    keys.tab_to('input[name="outcome-answered_by"]')
    keys.press("Space")  # Patient, the first
    keys.tab_to('input[name="outcome-satisfaction"]')
    keys.press("Space")  # Satisfied, the first
    keys.tab_to('textarea[name="outcome-summary"]')
    keys.type(SUMMARY)
    keys.tab_to('input[name="outcome-duration"]')
    keys.type("6:40")
    keys.tab_to(f'input[name="outcome-item_{item.pk}"]')
    keys.type("9")
    keys.tab_to("#call-outcome button[type=submit]")
    keys.press("Enter")

    page.wait_for_url(re.compile(r"/calls/$"))
    assert COMPLETED[locale] in page.locator("main").inner_text()
    done = FollowUpCall.objects.get(pk=call.pk)
    assert (done.status, done.answered_by, done.satisfaction, done.summary, done.duration_seconds) == (
        "completed",
        "patient",
        "satisfied",
        SUMMARY,
        400,
    )
    assert list(done.answers.order_by("question__order").values_list("value", flat=True)) == [
        "no",
        "Asks about her diet",
    ]
    print(f"keystrokes beyond the text ({locale}): {keys.count}")
    assert keys.count <= 40
