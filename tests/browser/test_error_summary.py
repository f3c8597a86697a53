"""Refusals show at the top (issue 17, item 3), in Chromium and in both
languages: a refused form comes back with an error summary above it, the
focus on the summary (so it is on screen and read out), and each message a
link that puts the focus on its field."""

import datetime as dt

import pytest

from tests.browser.helpers import log_in, open_call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en-GB": {
        "heading": "Nothing was saved. Please correct these 5 things:",
        "complete": "Complete the call",
        "duration": "Duration: This field is required.",
        "death_heading": "Nothing was saved. Please correct this 1 thing:",
        "death": "Date of death: The date of death cannot be in the future.",
        "record_death": "Continue: see what will be cancelled",
        "died": "Family member says the patient has died",
        "many_heading": "Nothing was saved. Please correct these",
    },
    "zh-CN": {
        "heading": "未保存任何内容。请更正以下 5 处：",
        "complete": "完成随访",
        "duration": "通话时长：这个字段是必填项。",
        "death_heading": "未保存任何内容。请更正以下 1 处：",
        "death": "死亡日期：死亡日期不能晚于今天。",
        "record_death": "继续：查看将取消哪些随访",
        "died": "家属告知患者已去世",
        "many_heading": "未保存任何内容。请更正以下",
    },
}


@pytest.fixture(params=["en-GB", "zh-CN"])
def localized(request, browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale=request.param, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    yield context.new_page(), WORDS[request.param]
    context.close()


def focused_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def on_screen(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 100) <= 900


def test_a_refused_call_puts_the_summary_on_screen_with_the_focus_and_links_to_the_fields(localized, desk, artifacts):
    page, words = localized
    log_in(page, "lina")
    open_call(page)
    page.get_by_role("button", name=words["complete"]).scroll_into_view_if_needed()
    page.get_by_role("button", name=words["complete"]).click()
    page.wait_for_load_state()

    summary = page.locator("#error-summary")
    assert focused_id(page) == "error-summary"
    assert on_screen(page, "#error-summary")
    page.screenshot(path=str(artifacts / f"error-summary-{page.evaluate('document.documentElement.lang')}.png"))
    assert (summary.get_attribute("role"), summary.get_attribute("tabindex")) == ("alert", "-1")
    assert summary.locator("h2").inner_text() == words["heading"]
    links = summary.locator("a")
    assert links.count() == 5

    page.evaluate("window.scrollTo(0, 0)")
    summary.get_by_role("link", name=words["duration"]).click()
    assert focused_id(page) == "id_outcome-duration"
    assert on_screen(page, "#id_outcome-duration")

    page.evaluate("window.scrollTo(0, 0)")
    links.first.click()
    assert focused_id(page) == f"id_q_{desk['chest'].pk}_0"
    assert on_screen(page, f"#id_q_{desk['chest'].pk}_0")


def test_a_refused_death_record_opens_its_section_from_the_summary(localized, desk):
    page, words = localized
    log_in(page, "lina")
    page.goto(f"/calls/{desk['call'].pk}/")
    page.get_by_text(words["died"]).click()
    page.locator("#id_deceased-died_on").fill((desk["today"] + dt.timedelta(days=2)).isoformat())
    page.get_by_role("button", name=words["record_death"]).click()
    page.wait_for_load_state()

    assert focused_id(page) == "error-summary"
    assert page.locator("#error-summary h2").inner_text() == words["death_heading"]
    page.locator("details.deceased").evaluate("details => details.open = false")
    page.locator("#error-summary").get_by_role("link", name=words["death"]).click()
    assert page.locator("details.deceased").evaluate("details => details.open") is True
    assert focused_id(page) == "id_deceased-died_on"


def test_a_refused_discharge_shows_the_summary_first(localized, desk):
    page, words = localized
    log_in(page, "lina")
    page.goto("/calls/discharges/new/")
    page.locator("#submit-id-save").click()
    page.wait_for_load_state()

    assert focused_id(page) == "error-summary"
    assert on_screen(page, "#error-summary")
    assert page.locator("#error-summary h2").inner_text().startswith(words["many_heading"])
    page.locator("#error-summary a").first.click()
    assert focused_id(page) == "id_mrn"


def test_a_refused_complaint_shows_the_summary_first(localized, desk):
    page, words = localized
    log_in(page, "lina")
    page.goto("/complaints/new/")
    page.locator(".complaint-form [type=submit]").click()
    page.wait_for_load_state()

    assert focused_id(page) == "error-summary"
    assert on_screen(page, "#error-summary")
    assert page.locator("#error-summary h2").inner_text().startswith(words["many_heading"])
    page.locator("#error-summary a").last.click()
    assert focused_id(page) == "id_description"
    assert on_screen(page, "#id_description")
