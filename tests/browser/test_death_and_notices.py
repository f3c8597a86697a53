"""Death recorded with care, and a nurse told what concerns her (issue 17,
items 5 and 10), in Chromium, in English and in Chinese:

- the nurse records a death whose date the family did not say, through the
  confirmation page, and then sees the cancelled call read-only; the head
  nurse reverses the mistaken record with a reason and the call is back;
- the nurse finds in her notifications the calls handed to her and the head
  nurse's spot-check verdict with its comment, each leading to the call."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from calls.models import DeathRecord, FollowUpCall, SpotCheck
from calls.services.call_work import calls_reassign
from followup.roles import Role
from tests.browser.helpers import log_in
from tests.browser.test_accessibility import violations
from tests.calls.call_work_helpers import make_call
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en-GB": {
        "died": "Family member says the patient has died",
        "unknown": "Date unknown: the family did not say",
        "continue": "Continue: see what will be cancelled",
        "confirm_heading": "Record the death of Zhou Min?",
        "cancels": "This cancels 1 open call:",
        "record": "Record the death and cancel these calls",
        "recorded": "The death of Zhou Min is recorded; 1 open call(s) cancelled. No more calls will be made.",
        "date_unknown": "Date of death: unknown (the family did not say).",
        "reverse_link": "Reverse this death record",
        "reason": "Why the death record is wrong",
        "reverse": "Reverse the death record",
        "missing_reason": "Why the death record is wrong: Say why the death record is wrong.",
        "reversed": (
            "The death record of Zhou Min is reversed. Calls scheduled again: 1; recorded as missed: 0; "
            "left cancelled: 0; newly planned: 0."
        ),
        "scheduled": "Scheduled",
        "cancelled": "Cancelled",
        "notifications": "Notifications",
        "handed": "Wang Fang gave you 2 calls to make, the first due {due}.",
        "verdict": "Wang Fang checked your call of {day}: Needs improvement. Comment: “Ask about the medicines first.”",
        "save_verdict": "Save verdict",
        "checked_by": "Checked by Wang Fang on",
        "new": "new",
    },
    "zh-CN": {
        "died": "家属告知患者已去世",
        "unknown": "日期不详：家属未说明",
        "continue": "继续：查看将取消哪些随访",
        "confirm_heading": "登记 Zhou Min 已去世？",
        "cancels": "将取消 1 个未完成的随访：",
        "record": "登记死亡并取消这些随访",
        "recorded": "已登记 Zhou Min 去世，取消了 1 条未完成随访，今后不再致电。",
        "date_unknown": "死亡日期：不详（家属未说明）。",
        "reverse_link": "撤销此死亡登记",
        "reason": "死亡登记错误的原因",
        "reverse": "撤销死亡登记",
        "missing_reason": "死亡登记错误的原因：请说明死亡登记为何有误。",
        "reversed": "Zhou Min 的死亡登记已撤销。重新安排的随访：1 个；记为错过：0 个；仍为取消：0 个；新安排：0 个。",
        "scheduled": "已排期",
        "cancelled": "已取消",
        "notifications": "通知",
        "handed": "Wang Fang 交给您 2 个随访电话，最早的 {due} 到期。",
        "verdict": "Wang Fang 抽查了您 {day} 的随访：需改进。意见：“Ask about the medicines first.”",
        "save_verdict": "保存抽查结论",
        "checked_by": "Wang Fang 于",
        "new": "新",
    },
}


@pytest.fixture(params=["en-GB", "zh-CN"])
def locale(request):
    return request.param


@pytest.fixture
def open_as(browser, live_server, locale):
    """A fresh browser (its own cookies) in ``locale``, logged in as ``username``."""
    contexts = []

    def open_page(username):
        context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        log_in(page, username)
        return page

    yield open_page
    for context in contexts:
        context.close()


def main_text(page) -> str:
    return page.locator("main").inner_text()


def test_nurse_records_a_death_of_unknown_date_and_the_head_nurse_reverses_it(open_as, locale, desk, artifacts):
    words, call = WORDS[locale], desk["call"]
    nurse = open_as("lina")
    nurse.goto(f"/calls/{call.pk}/")

    nurse.get_by_text(words["died"]).click()
    nurse.get_by_label(words["unknown"]).check()
    nurse.get_by_role("button", name=words["continue"]).click()

    # The second step: nothing recorded yet, the call to be cancelled named.
    assert nurse.get_by_role("heading", level=1).inner_text() == words["confirm_heading"]
    assert nurse.locator("#cancelled-heading").inner_text() == words["cancels"]
    assert nurse.locator("#calls-to-cancel tbody tr").count() == 1
    assert FollowUpCall.objects.get(pk=call.pk).status == "scheduled"
    nurse.screenshot(path=str(artifacts / f"death-confirm-{locale}.png"), full_page=True)
    assert violations(nurse) == []
    nurse.get_by_role("button", name=words["record"]).click()

    nurse.wait_for_url(re.compile(rf"/calls/{call.pk}/$"))
    text = main_text(nurse)
    assert words["recorded"] in text
    assert words["date_unknown"] in text
    assert nurse.locator("main .badge").first.inner_text() == words["cancelled"]
    assert nurse.locator("#attempt-form").count() == 0
    assert nurse.get_by_role("link", name=words["reverse_link"]).count() == 0
    assert violations(nurse) == []
    record = DeathRecord.objects.get()
    assert (record.died_on, record.recorded_by.username) == (None, "lina")

    head = open_as("wangfang")
    head.goto(f"/calls/{call.pk}/")
    head.get_by_role("link", name=words["reverse_link"]).click()
    head.wait_for_url(re.compile(rf"/calls/deaths/{record.pk}/reverse/$"))
    assert violations(head) == []
    head.get_by_role("button", name=words["reverse"]).click()  # no reason: refused, said at the top
    assert head.evaluate("document.activeElement.id") == "error-summary"
    assert head.locator("#error-summary li").inner_text() == words["missing_reason"]
    head.get_by_label(words["reason"]).fill("The family meant another patient.")
    head.get_by_role("button", name=words["reverse"]).click()

    head.wait_for_url(re.compile(rf"/calls/{call.pk}/$"))
    assert words["reversed"] in main_text(head)
    assert head.locator("main .badge").first.inner_text() == words["scheduled"]
    record.refresh_from_db()
    assert (record.reversed_by.username, record.reversal_reason) == ("wangfang", "The family meant another patient.")
    nurse.goto(f"/calls/{call.pk}/")
    assert nurse.locator("#attempt-form").count() == 1


def test_nurse_is_told_of_calls_handed_to_her_and_of_a_spot_check_verdict(open_as, locale, desk, artifacts):
    words = WORDS[locale]
    ward, nurse, head, today = desk["ward"], desk["nurse"], desk["head"], desk["today"]
    erin = UserFactory(username="erin", display_name="Erin", roles=[Role.NURSE])
    ward.staff.add(erin)
    handed = [make_call(department=ward, nurse=erin, due=today + dt.timedelta(days=n)) for n in (3, 1)]
    calls_reassign(calls=FollowUpCall.objects.filter(pk__in=[c.pk for c in handed]), to=nurse, by=head)
    done = make_call(department=ward, nurse=nurse, due=today - dt.timedelta(days=3), status="completed")
    completed_at = timezone.now() - dt.timedelta(days=2)
    FollowUpCall.objects.filter(pk=done.pk).update(completed_by=nurse, completed_at=completed_at)
    check = SpotCheck.objects.create(
        call=done, week=today - dt.timedelta(days=today.weekday()), sampled_at=completed_at
    )

    reviewer = open_as("wangfang")
    reviewer.goto(f"/calls/spot-checks/{check.pk}/")
    reviewer.locator('input[name="verdict"][value="needs_improvement"]').check()
    reviewer.locator('textarea[name="comment"]').fill("Ask about the medicines first.")
    reviewer.get_by_role("button", name=words["save_verdict"]).click()
    reviewer.wait_for_url(re.compile(r"/calls/spot-checks/$"))

    page = open_as("lina")
    link = page.get_by_role("link", name=re.compile(words["notifications"]))
    assert link.locator(".badge").inner_text().startswith("2")  # the unread count, loaded after the page
    link.click()
    items = page.locator("main .list-group-item")
    day = timezone.localdate(completed_at).isoformat()
    assert [items.nth(n).locator("a").inner_text() for n in range(2)] == [
        words["verdict"].format(day=day),
        words["handed"].format(due=(today + dt.timedelta(days=1)).isoformat()),
    ]
    page.screenshot(path=str(artifacts / f"notifications-{locale}.png"), full_page=True)
    assert violations(page) == []

    items.first.locator("a").click()
    page.wait_for_url(re.compile(rf"/calls/{done.pk}/$"))
    assert words["checked_by"] in page.locator(".spot-check-verdict").inner_text()
    assert "Ask about the medicines first." in page.locator(".spot-check-verdict").inner_text()
    assert violations(page) == []

    page.go_back()
    page.reload()
    items = page.locator("main .list-group-item")
    assert [words["new"] in items.nth(n).inner_text() for n in range(2)] == [False, True]
    items.nth(1).locator("a").click()
    page.wait_for_url(re.compile(r"/calls/\?tab=all$"))
    assert page.get_by_role("link", name=handed[0].discharge.patient.name).count() == 1
