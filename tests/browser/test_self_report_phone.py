"""A newcomer's path through self-report (issue 22): the demo step turns it
on for cardiology, the outbox holds the text message, and its link opens
on a phone-sized window (390 px) where the questionnaire is answered, in
English and in Chinese; the form is axe-clean and fits 320 px."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from calls.models import FollowUpCall
from followup.devtools.demo import self_report as demo_self_report
from tests.calls.self_report_helpers import outbox_messages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LINK = re.compile(r"https?://\S+/r/[A-Za-z0-9_-]{30}")

# language -> (answer "No", "Satisfied", "I am the patient", send button, thank-you heading)
WORDS = {
    "en": ("No", "Satisfied", "I am the patient", "Send my answers", "Thank you"),
    "zh-hans": ("否", "满意", "我是患者本人", "提交我的回答", "谢谢"),
}


class Out:
    def write(self, text):
        self.text = text


@pytest.fixture
def demo_outbox(desk, settings, tmp_path, live_server):
    settings.VAR_DIR = tmp_path
    settings.SITE_URL = live_server.url
    return tmp_path / "outbox"


def violations(page) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']}" for v in found]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_patient_answers_the_outbox_link_on_a_phone(browser, desk, demo_outbox, settings, language):
    settings.SELF_REPORT_LANGUAGE = language
    out = Out()
    demo_self_report.seed(out)
    [message] = outbox_messages(demo_outbox)
    url = LINK.search(message["text"]).group(0)
    assert "1 text messages" in out.text
    no, satisfied, patient, send, thanks = WORDS[language]

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(url)
    assert page.url.endswith("/r/")
    assert page.locator("html").get_attribute("lang") == language
    assert violations(page) == []
    page.get_by_role("radio", name=no, exact=True).check()
    page.get_by_role("radio", name=satisfied, exact=True).check()
    page.get_by_role("radio", name=patient).check()
    box = page.get_by_role("button", name=send).bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300
    page.get_by_role("button", name=send).click()
    page.get_by_role("heading", name=thanks).wait_for()
    context.close()

    call = FollowUpCall.objects.get(pk=desk["call"].pk)
    assert (call.status, call.channel, call.answered_by) == ("completed", "self_report", "patient")


def test_the_form_fits_320_pixels_and_keeps_answers_typed_before_closing(browser, desk, demo_outbox):
    demo_self_report.seed(Out())
    [message] = outbox_messages(demo_outbox)
    url = LINK.search(message["text"]).group(0)

    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert violations(page) == []
    with page.expect_response(lambda r: r.request.method == "POST" and r.status == 204):
        page.get_by_role("radio", name="是", exact=True).check()
    context.close()

    again = browser.new_context(viewport={"width": 320, "height": 640})
    page = again.new_page()
    page.goto(url)
    assert page.get_by_role("radio", name="是", exact=True).is_checked()
    again.close()
