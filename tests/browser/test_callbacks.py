"""Callbacks as a call centre does them (issue 17, item 4), in Chromium, in
English and in Chinese: the worklist shows the day and time a call is
planned for (not its due date); a nurse dials the family's number, is asked
to call back at 10:20 and records it; the call is on her worklist at 10:20,
and once that time has come it moves up, right after red flags.

The server's clock is moved (time-machine, ticking) to a Thursday morning
ahead of the real date, so the session cookies the browser keeps stay valid."""

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine

from calls.models import CallAttempt, FollowUpCall
from followup.roles import Role
from tests.browser.helpers import log_in
from tests.calls.call_work_helpers import make_call, ward_of
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
THURSDAY = dt.date(2027, 3, 4)
SATURDAY = dt.date(2027, 3, 6)

TEXT = {
    "en-GB": {
        "planned": "Thu 2027-03-04 16:00",
        "wang": "Thu 2027-03-04 10:05",
        "callback": "Thu 2027-03-04 10:20",
        "header": "day 7 · planned Thu 2027-03-04 16:00 · due 2027-03-06",
        "saved": (
            "Callback agreed for 2027-03-04 at 10:20, asked by: family member. The call is on the worklist for then."
        ),
        "badge": "Callback",
        "due_badge": "Callback due",
        "agreed": "Callback agreed for Thu 2027-03-04 at 10:20, asked by: Family member.",
    },
    "zh-CN": {
        "planned": "星期四 2027-03-04 16:00",
        "wang": "星期四 2027-03-04 10:05",
        "callback": "星期四 2027-03-04 10:20",
        "header": "第 7 天 · 计划 星期四 2027-03-04 16:00 · 期限 2027-03-06",
        "saved": "已约定 2027-03-04 10:20 回电，要求者：家属。该随访已按此时间排入工作列表。",
        "badge": "约定回电",
        "due_badge": "到时回电",
        "agreed": "已约定 2027-03-04（星期四）10:20 回电，要求者：家属。",
    },
}


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def clock(transactional_db):
    with time_machine.travel(at(THURSDAY, 10, 0), tick=True) as traveller:
        yield traveller


@pytest.fixture
def thursday_desk(clock):
    """Li Na's ward calls on Thursdays. Zhou Min's day-7 call is due on
    Saturday and planned for this Thursday at 16:00 (calling early is
    allowed); Wang Li's is planned for 10:05."""
    nurse = UserFactory(username="lina", display_name="Li Na", roles=[Role.NURSE])
    ward = ward_of(nurse)
    zhou = make_call(
        department=ward,
        nurse=nurse,
        due=SATURDAY,
        earliest_on=SATURDAY - dt.timedelta(days=3),
        scheduled_for=at(THURSDAY, 16),
        patient__name="Zhou Min",
        patient__phone="+8613812345678",
        patient__family_phone="+8613900001111",
    )
    make_call(department=ward, nurse=nurse, due=THURSDAY, scheduled_for=at(THURSDAY, 10, 5), patient__name="Wang Li")
    return {"zhou": zhou, "clock": clock}


def worklist_rows(page) -> list[tuple[str, str, str]]:
    """(patient, planned day and time, callback badge) of each row, top down."""
    page.goto("/calls/")
    rows = page.locator("table.worklist tbody tr")
    found = []
    for n in range(rows.count()):
        row = rows.nth(n)
        badge = row.locator(".worklist-callback")
        found.append(
            (
                row.locator("td a").first.inner_text(),
                row.locator(".worklist-planned").inner_text(),
                badge.inner_text() if badge.count() else "",
            )
        )
    return found


@pytest.mark.parametrize("locale", ["en-GB", "zh-CN"])
def test_nurse_records_asked_to_call_back_and_finds_the_call_on_her_worklist_at_that_time(
    browser, live_server, thursday_desk, locale, artifacts
):
    text = TEXT[locale]
    call = thursday_desk["zhou"]
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, "lina")

    # The planned day and time, not the due date: Zhou Min is on Thursday's list.
    assert worklist_rows(page) == [("Wang Li", text["wang"], ""), ("Zhou Min", text["planned"], "")]

    page.locator("table.worklist").get_by_role("link", name="Zhou Min").click()
    page.wait_for_url(re.compile(rf"/calls/{call.pk}/$"))
    assert page.locator(".call-planned").inner_text() == text["header"]
    callback_fields = page.locator("#attempt-form .attempt-callback")
    assert callback_fields.is_visible() is False

    page.locator("input[name='attempt-dialled'][value='family']").check()
    page.locator("select[name='attempt-result']").select_option("callback")
    assert callback_fields.is_visible() is True
    page.locator("input[name='attempt-callback_on']").fill("2027-03-04")
    page.locator("input[name='attempt-callback_time']").fill("10:20")
    page.locator("input[name='attempt-callback_asked_by'][value='family']").check()
    page.locator("textarea[name='attempt-note']").fill("Daughter: he is at the clinic until ten")
    page.screenshot(path=str(artifacts / f"callback-form-{locale}.png"), full_page=True)
    page.locator("#attempt-form [type=submit]").click()

    page.wait_for_url(re.compile(r"/calls/$"))
    assert page.locator("main .alert-success").inner_text() == text["saved"]
    assert worklist_rows(page) == [("Wang Li", text["wang"], ""), ("Zhou Min", text["callback"], text["badge"])]

    # 10:21: the callback's time has come; it goes to the top.
    thursday_desk["clock"].move_to(at(THURSDAY, 10, 21))
    assert worklist_rows(page) == [("Zhou Min", text["callback"], text["due_badge"]), ("Wang Li", text["wang"], "")]
    page.screenshot(path=str(artifacts / f"callback-worklist-{locale}.png"), full_page=True)

    page.locator("table.worklist").get_by_role("link", name="Zhou Min").click()
    assert page.locator(".call-callback").inner_text() == text["agreed"]
    assert "+8613900001111" in page.locator(".call-attempts").inner_text()
    context.close()

    attempt = CallAttempt.objects.get(call=call)
    assert (attempt.result, attempt.dialled, attempt.dialled_number, attempt.callback_asked_by) == (
        "callback",
        "family",
        "+8613900001111",
        "family",
    )
    assert FollowUpCall.objects.get(pk=call.pk).callback_at == at(THURSDAY, 10, 20)


def test_a_refused_callback_time_is_explained_at_the_top_and_keeps_the_fields_open(browser, live_server, thursday_desk):
    call = thursday_desk["zhou"]
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, "lina")
    page.goto(f"/calls/{call.pk}/")

    page.locator("select[name='attempt-result']").select_option("callback")
    page.locator("input[name='attempt-callback_on']").fill("2027-03-04")
    page.locator("input[name='attempt-callback_time']").fill("21:30")
    page.locator("input[name='attempt-callback_asked_by'][value='patient']").check()
    page.locator("#attempt-form [type=submit]").click()

    summary = page.locator("#error-summary")
    assert summary.inner_text().splitlines() == [
        "Nothing was saved. Please correct this 1 thing:",
        "Call back at (hospital time): This ward does not dial before 08:00 or after 20:00: "
        "choose a time between them.",
    ]
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#attempt-form .attempt-callback").is_visible() is True
    assert page.locator("input[name='attempt-callback_time']").input_value() == "21:30"
    context.close()
    assert CallAttempt.objects.filter(call=call).count() == 0
