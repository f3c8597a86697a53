"""A call screen for small screens and for paper (issue 17, item 9), in
Chromium on a 390 x 844 phone screen, in English and in Chinese: the dial
links and "Complete the call" are on screen without scrolling and stay there
while she scrolls; the phases fold; a Chinese name is one line in the
worklist, the discharge list and the call screen's heading; the call sheet
prints the full numbers without the navigation."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from calls.models import FollowUpCall
from followup.models import AuditEvent
from followup.roles import Role
from tests.browser.helpers import log_in
from tests.calls.call_work_helpers import make_call, scripted_version, ward_of
from tests.factories import SatisfactionItemFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LOCALES = ["en-GB", "zh-CN"]
CHINESE_NAME = "欧阳明华"


@pytest.fixture
def phone_desk(transactional_db):
    """Li Na's ward: a scripted call for 欧阳明华 (patient's and daughter's
    numbers) with two earlier calls, so the page is long, and three more calls
    so the worklist has rows to squeeze."""
    nurse = UserFactory(username="lina", display_name="李娜", roles=[Role.NURSE])
    ward = ward_of(nurse)
    _version, chest, _note = scripted_version(department=ward)
    SatisfactionItemFactory(code="medicines_explained", name="Medicines explained clearly", name_zh="用药讲解清楚")
    today = timezone.localdate()
    call = make_call(
        department=ward,
        nurse=nurse,
        due=today,
        patient__name=CHINESE_NAME,
        patient__phone="+8613812345678",
        patient__family_name="欧阳丽",
        patient__family_relation="女儿",
        patient__family_phone="+8613900001111",
        patient__communication_notes="Speaks slowly; call the daughter after 17:00. " * 4,
    )
    for days in (3, 5):
        make_call(
            department=ward,
            nurse=nurse,
            discharge=call.discharge,
            offset=days,
            due=today - dt.timedelta(days=10 - days),
            status=FollowUpCall.Status.COMPLETED,
            summary="Recovering well, walks every day, takes the medicines as prescribed. " * 3,
        )
    for name in ("司马光", "诸葛亮", "Zhou Min"):
        make_call(department=ward, nurse=nurse, due=today, patient__name=name)
    return {"nurse": nurse, "call": call, "chest": chest, "ward": ward}


def phone_page(browser, live_server, locale):
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport=PHONE)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def in_viewport(locator) -> bool:
    box = locator.bounding_box()
    return (
        box is not None
        and box["width"] > 0
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= PHONE["width"]
        and box["y"] + box["height"] <= PHONE["height"]
    )


def lines_of(locator) -> int:
    """How many lines the element's text takes (distinct tops of its line fragments)."""
    return locator.evaluate(
        """el => {
            const range = document.createRange();
            range.selectNodeContents(el);
            return new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size;
        }"""
    )


def one_line(locator) -> bool:
    """The rendered height of the element's text is that of one line (a cell
    is as tall as its row: its text is measured, not the cell)."""
    height, line = locator.evaluate(
        """el => {
            const style = getComputedStyle(el);
            const line = style.lineHeight === "normal"
                ? parseFloat(style.fontSize) * 1.2
                : parseFloat(style.lineHeight);
            const range = document.createRange();
            range.selectNodeContents(el);
            return [range.getBoundingClientRect().height, line];
        }"""
    )
    return 0 < height < 1.5 * line


@pytest.mark.parametrize("locale", LOCALES)
def test_dial_links_and_complete_are_on_a_phone_screen_without_scrolling(
    browser, live_server, phone_desk, locale, artifacts
):
    call = phone_desk["call"]
    context, page = phone_page(browser, live_server, locale)
    log_in(page, "lina")
    page.goto(f"/calls/{call.pk}/")

    bar = page.locator(".call-bar")
    patient_link = bar.locator('a[href="tel:+8613812345678"]')
    family_link = bar.locator('a[href="tel:+8613900001111"]')
    complete = bar.get_by_role("button", name={"en-GB": "Complete the call", "zh-CN": "完成随访"}[locale])
    assert page.evaluate("window.scrollY") == 0
    page.screenshot(path=str(artifacts / f"call-screen-390-{locale}.png"))
    assert [in_viewport(patient_link), in_viewport(family_link), in_viewport(complete)] == [True, True, True]
    who = {"en-GB": "Patient", "zh-CN": "患者"}[locale]
    assert patient_link.inner_text().split() == [who, "+86", "138", "1234", "5678"]
    # Nothing is wider than the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]

    # Half way down and at the very end of the page, the bar is still there,
    # and it never covers the last thing on the page.
    for where in ("document.body.scrollHeight / 2", "document.body.scrollHeight"):
        page.evaluate(f"window.scrollTo(0, {where})")
        assert [in_viewport(patient_link), in_viewport(complete)] == [True, True]
    last = page.locator("main a.btn", has_text={"en-GB": "Raise complaint", "zh-CN": "投诉"}[locale])
    assert last.bounding_box()["y"] + last.bounding_box()["height"] <= bar.bounding_box()["y"]
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_phases_fold_and_the_bar_leads_to_the_outcome(browser, live_server, phone_desk, locale):
    call = phone_desk["call"]
    context, page = phone_page(browser, live_server, locale)
    log_in(page, "lina")
    page.goto(f"/calls/{call.pk}/")

    # On a phone the discharge record and the earlier calls arrive folded; the
    # attempt, the script and the outcome open.
    opened = page.eval_on_selector_all(
        "details.call-phase, details.call-script-phase",
        "els => els.map(d => [d.id || d.querySelector('h2').id, d.open])",
    )
    assert opened == [
        ["call-record", False],
        ["call-earlier", False],
        ["call-attempt", True],
        ["script-phase-preparation", True],
        ["script-phase-opening", True],
        ["script-phase-main", True],
        ["script-phase-closing", True],
        ["call-outcome", True],
    ]
    earlier = page.locator("#call-earlier > summary")
    assert earlier.get_attribute("aria-expanded") is None  # a native <details>: the browser tells its state
    earlier.focus()
    page.keyboard.press("Enter")  # opened from the keyboard
    assert page.locator("#call-earlier").evaluate("d => d.open") is True

    # Folded by her, the outcome opens again when the bar's link is followed.
    page.locator("#call-outcome > summary").click()
    assert page.locator("#call-outcome").evaluate("d => d.open") is False
    to_outcome = {"en-GB": "Go to the outcome", "zh-CN": "转到处理结果"}[locale]
    page.locator(".call-bar").get_by_role("link", name=to_outcome).click()
    assert page.locator("#call-outcome").evaluate("d => d.open") is True
    assert in_viewport(page.locator("#outcome-heading"))
    context.close()


def test_nurse_completes_a_call_from_the_bar_on_a_phone(browser, live_server, phone_desk):
    call, chest = phone_desk["call"], phone_desk["chest"]
    context, page = phone_page(browser, live_server, "en-GB")
    log_in(page, "lina")
    page.goto(f"/calls/{call.pk}/")
    page.get_by_label("Result of this dial").select_option("answered")
    page.get_by_role("button", name="Record attempt").click()
    page.wait_for_url(re.compile(r"/calls/\d+/#outcome$"))
    page.check(f'input[name="q_{chest.pk}"][value="no"]')
    page.check('input[name="outcome-answered_by"][value="patient"]')
    page.check('input[name="outcome-satisfaction"][value="satisfied"]')
    page.get_by_label("Medicines explained clearly").fill("9")
    page.get_by_label("Summary").fill("Recovering.")
    page.get_by_label("Duration").fill("5")
    complete = page.locator(".call-bar").get_by_role("button", name="Complete the call")
    assert in_viewport(complete)
    complete.click()
    page.wait_for_url("**/calls/")
    call.refresh_from_db()
    assert (call.status, call.summary) == (FollowUpCall.Status.COMPLETED, "Recovering.")
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_a_chinese_name_stays_on_one_line_on_a_phone(browser, live_server, phone_desk, locale):
    call = phone_desk["call"]
    context, page = phone_page(browser, live_server, locale)
    log_in(page, "lina")

    page.goto("/calls/")
    name = page.locator("table.worklist a.person-name", has_text=CHINESE_NAME)
    assert (lines_of(name), one_line(name)) == (1, True)
    nurse = page.locator("table.worklist td.person-name").first
    assert (nurse.inner_text(), lines_of(nurse), one_line(nurse)) == ("李娜", 1, True)

    page.goto("/calls/discharges/")
    name = page.locator("table .person-name", has_text=CHINESE_NAME)
    assert (lines_of(name), one_line(name)) == (1, True)

    page.goto(f"/calls/{call.pk}/")
    # The heading may take two lines at 390 px, but the name itself is never split.
    name_rects = page.locator("h1.call-title").evaluate(
        """(h1, name) => {
            const text = h1.firstChild;
            const range = document.createRange();
            const at = text.data.indexOf(name);
            range.setStart(text, at);
            range.setEnd(text, at + name.length);
            return range.getClientRects().length;
        }""",
        CHINESE_NAME,
    )
    assert name_rects == 1
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_printed_call_sheet_shows_full_numbers_and_no_navigation(browser, live_server, phone_desk, locale, artifacts):
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, "lina")
    page.goto("/calls/")
    page.locator("main").get_by_role(
        "link", name={"en-GB": "Call sheet to print (full numbers)", "zh-CN": "打印随访单（完整号码）"}[locale]
    ).click()
    page.wait_for_url("**/calls/sheet/")
    assert page.locator("[data-print]").is_visible() is True  # shown by its script

    page.emulate_media(media="print")
    row = page.locator("table.call-sheet-table tbody tr", has_text=CHINESE_NAME)
    assert row.locator('a[href="tel:+8613812345678"]').inner_text() == "+86 138 1234 5678"
    assert row.locator('a[href="tel:+8613900001111"]').inner_text() == "+86 139 0000 1111"
    assert row.locator('a[href="tel:+8613812345678"]').is_visible() is True
    assert page.locator("table.call-sheet-table tbody tr").count() == 4
    assert page.locator("nav.navbar").is_visible() is False
    assert page.locator(".call-sheet-controls").is_visible() is False
    assert page.locator(".call-sheet-notice").is_visible() is True
    pdf = page.pdf(path=str(artifacts / f"call-sheet-{locale}.pdf"))
    assert pdf.startswith(b"%PDF")
    page.screenshot(path=str(artifacts / f"call-sheet-print-{locale}.png"), full_page=True)
    page.emulate_media(media="screen")
    assert page.locator("nav.navbar").is_visible() is True
    context.close()

    shown = AuditEvent.objects.filter(url_name="calls:call_sheet", action=AuditEvent.Action.VIEW)
    assert sorted(shown.values_list("patient_id", flat=True)) == sorted(
        FollowUpCall.objects.filter(assigned_to=phone_desk["nurse"], status="scheduled").values_list(
            "discharge__patient_id", flat=True
        )
    )
