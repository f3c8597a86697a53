"""The pages nurses, head nurses and complaint officers use all day, checked
with axe-core in the real browser, in English and in Simplified Chinese:
contrast, labels, landmarks, table headers, names of buttons and links."""

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe

from calls.models import ClinicalAlert, FollowUpCall
from complaints import services as complaint_services
from complaints.models import Category
from followup.roles import Role
from tests.browser.helpers import log_in
from tests.calls.call_work_helpers import make_call
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# user -> the pages that user opens; {call} and {complaint} are filled in.
PAGES = {
    "lina": [
        "/calls/",
        "/calls/{call}/",
        "/calls/discharges/",
        "/calls/discharges/new/",
        "/complaints/",
        "/complaints/new/",
    ],
    "wangfang": [
        "/calls/dashboard/",
        "/calls/dashboard/patients/",
        "/calls/alerts/",
        "/calls/spot-checks/",
        "/complaints/report/",
    ],
    "zhaomin": [
        "/complaints/",
        "/complaints/{complaint}/",
        "/complaints/promises/",
        "/complaints/notifications/",
    ],
}


@pytest.fixture
def busy_desk(desk):
    """The desk with a red-flag alert, a completed call and an open complaint."""
    officer = UserFactory(username="zhaomin", display_name="Zhao Min", roles=[Role.COMPLAINT_OFFICER])
    done = make_call(department=desk["ward"], nurse=desk["nurse"], status=FollowUpCall.Status.COMPLETED)
    now = dt.datetime.now(dt.UTC)
    ClinicalAlert.objects.create(call=done, raised_at=now, due_at=now + dt.timedelta(hours=24), reason="Chest pain")
    complaint = complaint_services.complaint_create(
        by=desk["nurse"],
        channel="hotline",
        category=Category.objects.get(code="fees"),
        description="Charged twice for the CT scan.",
        complainant_name="Zhou Min",
        complainant_phone="+8613812345678",
        departments=[desk["ward"]],
        owner=officer,
    )
    return {**desk, "complaint": complaint}


def violations(page) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']}" for v in found]


@pytest.mark.parametrize("locale", ["en-GB", "zh-CN"])
def test_main_pages_have_no_accessibility_violations(browser, live_server, busy_desk, locale):
    found = []
    for username, urls in [(None, ["/accounts/login/"]), *PAGES.items()]:
        context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        if username:
            log_in(page, username)
        for url in urls:
            url = url.format(call=busy_desk["call"].pk, complaint=busy_desk["complaint"].pk)
            page.goto(url)
            assert page.url.endswith(url), f"{username} was sent to {page.url} instead of {url}"
            found += [f"{username} {url}: {v}" for v in violations(page)]
        context.close()
    assert found == []


def test_the_head_nurses_navigation_fits_one_line_at_1280_pixels(page, desk):
    log_in(page, "wangfang")
    items = page.locator("nav.navbar .navbar-brand, nav.navbar .nav-link, nav.navbar .btn-group .btn").evaluate_all(
        "els => els.map(e => [e.innerText.trim(), Math.round(e.getBoundingClientRect().right)])"
    )
    assert [text for text, _right in items] == [
        "Follow-up desk",
        "Call worklist",
        "Discharges",
        "Clinical alerts",
        "Dashboard",
        "Spot checks",
        "Complaints",
        "Notifications",
        "Wang Fang",
        "English",
        "简体中文",
    ]
    assert [text for text, right in items if right > 1280] == []
    assert page.locator("nav.navbar").bounding_box()["height"] < 60


def test_a_crowded_navigation_wraps_its_links_and_keeps_the_menu_and_languages_on_screen(page, desk):
    boss = UserFactory(
        username="boss", display_name="Wang Fang, head nurse and administrator", roles=[Role.HEAD_NURSE, Role.ADMIN]
    )
    desk["ward"].staff.add(boss)
    log_in(page, "boss")
    rights = page.locator("nav.navbar .nav-link, nav.navbar .btn-group .btn").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().right)"
    )
    assert len(rights) == 11  # seven links (Administration too), notifications, the user menu, two languages
    assert max(rights) <= 1280
    page.locator("#user-menu").click()
    assert page.get_by_role("button", name="Log out").is_visible()
