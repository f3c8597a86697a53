"""Her calls and her patients, respondents and complaints (issue 17, items 6
and 7), in Chromium, in English and in Chinese: the nurse finds a patient by
phone from the worklist's search box and opens the patient page; she completes a call
answered by the patient and his daughter, finds it on the "done" tab, raises
a complaint from it that names the daughter, and saving brings her back to
the call, which lists the complaint."""

import re

import pytest
from django.urls import reverse

from calls.models import FollowUpCall
from complaints.models import Category, Complaint
from tests.browser.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCALES = ["en-GB", "zh-CN"]
WORDS = {
    "en-GB": {
        "phone": "138 0013 8000",
        "matches": "1 patient matches “138 0013 8000”",
        "contacts": "Patient and contacts",
        "calls": "1 call",
        "done_tab": "Done",
        "done_today": "You completed 1 call today.",
        "open_call": "Open the call",
        "raise": "Raise complaint",
        "save": "Save the complaint",
        "recorded": "Complaint {ref} recorded.",
        "respondent": "Patient and a family member (daughter, Zhou Li)",
        "complete": "Complete the call",
    },
    "zh-CN": {
        "phone": "+86 138-0013-8000",
        "matches": "共 1 位患者与“+86 138-0013-8000”匹配",
        "contacts": "患者及联系人",
        "calls": "1 个回访",
        "done_tab": "已完成",
        "done_today": "您今天已完成 1 个随访电话。",
        "open_call": "打开这次回访",
        "raise": "登记投诉",
        "save": None,  # read from the catalogue below
        "recorded": "投诉 {ref} 已登记。",
        "respondent": "患者和家属（daughter, Zhou Li）",
        "complete": "完成随访",
    },
}


def in_context(browser, live_server, locale):
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return context, context.new_page()


@pytest.fixture
def zhou(desk):
    patient = desk["call"].discharge.patient
    patient.phone = "+8613800138000"
    patient.family_name, patient.family_relation, patient.family_phone = "Zhou Li", "daughter", "+8613900139000"
    patient.save()
    return patient


def words(locale: str) -> dict:
    from django.utils import translation

    shown = dict(WORDS[locale])
    with translation.override("zh-hans" if locale == "zh-CN" else "en"):
        shown["save"] = translation.gettext("Save the complaint")
    return shown


@pytest.mark.parametrize("locale", LOCALES)
def test_a_phone_typed_in_the_search_box_finds_the_patient_and_opens_her_page(browser, live_server, desk, zhou, locale):
    shown = words(locale)
    context, page = in_context(browser, live_server, locale)
    log_in(page, "lina")

    page.locator("#patient-search-q").fill(shown["phone"])
    page.locator("#patient-search-q").press("Enter")
    page.wait_for_url(re.compile(r"/calls/patients/\?q="))
    assert page.locator("#patient-results caption").inner_text() == shown["matches"]
    page.locator("#patient-results").get_by_role("link", name="Zhou Min").click()

    page.wait_for_url(f"**{reverse('calls:patient_detail', args=[zhou.pk])}")
    assert page.locator("h1.patient-name").inner_text() == f"Zhou Min {zhou.mrn}"
    assert page.locator("#contacts-heading").inner_text() == shown["contacts"]
    assert page.locator('.patient-contacts a[href="tel:+8613800138000"]').count() == 1
    assert page.locator("#calls-heading").inner_text() == shown["calls"]
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_a_call_with_patient_and_daughter_leads_to_a_complaint_naming_her_and_back(
    browser, live_server, desk, zhou, locale
):
    shown = words(locale)
    call = desk["call"]
    context, page = in_context(browser, live_server, locale)
    log_in(page, "lina")

    # The call, answered by Zhou Min and his daughter.
    page.goto(reverse("calls:call_detail", args=[call.pk]))
    page.check(f'input[name="q_{desk["chest"].pk}"][value="no"]')
    relation = page.locator('input[name="outcome-family_member_relation"]')
    page.check('input[name="outcome-answered_by"][value="patient"]')
    assert relation.is_visible() is False  # no stop for the keyboard when only the patient spoke
    page.check('input[name="outcome-answered_by"][value="both"]')
    assert relation.is_visible() is True
    assert page.input_value('input[name="outcome-family_member_relation"]') == "daughter"
    assert page.input_value('input[name="outcome-family_member_name"]') == "Zhou Li"
    page.check('input[name="outcome-satisfaction"][value="basic"]')
    page.fill('textarea[name="outcome-summary"]', "His daughter says the bill was charged twice.")
    page.fill('input[name="outcome-duration"]', "6")
    page.get_by_role("button", name=shown["complete"]).click()
    page.wait_for_url("**/calls/")

    # The "done" tab shows it, completed today.
    page.get_by_role("link", name=shown["done_tab"], exact=True).click()
    page.wait_for_url(re.compile(r"\?tab=done"))
    assert page.locator(".done-count").inner_text() == shown["done_today"]
    row = page.locator("table.done-calls tbody tr")
    assert row.count() == 1
    assert "Zhou Min" in row.inner_text()
    row.get_by_role("link", name=shown["open_call"]).click()
    page.wait_for_url(f"**{reverse('calls:call_detail', args=[call.pk])}")
    assert page.locator(".call-respondent").inner_text() == shown["respondent"]

    # The complaint names the daughter; saving comes back to the call.
    page.get_by_role("link", name=shown["raise"]).click()
    page.wait_for_url(re.compile(r"/complaints/new/\?call="))
    assert page.input_value("input[name=complainant_name]") == "Zhou Li"
    assert page.input_value("select[name=complainant_relation]") == "family"
    assert page.input_value("input[name=complainant_phone]") == "+8613900139000"
    page.select_option("select[name=category]", value=str(Category.objects.get(code="fees").pk))
    page.fill("textarea[name=description]", "The CT scan was charged twice.")
    page.get_by_role("button", name=shown["save"]).click()
    page.wait_for_url(f"**{reverse('calls:call_detail', args=[call.pk])}")

    complaint = Complaint.objects.get()
    assert page.get_by_role("alert").filter(has_text=complaint.reference).inner_text() == shown["recorded"].format(
        ref=complaint.reference
    )
    listed = page.locator(".call-complaints li a")
    assert (listed.count(), listed.first.inner_text()) == (1, complaint.reference)
    assert listed.first.get_attribute("href") == reverse("complaints:detail", args=[complaint.pk])
    context.close()

    stored = FollowUpCall.objects.get(pk=call.pk)
    assert (stored.answered_by, stored.family_member_relation, stored.family_member_name) == (
        "both",
        "daughter",
        "Zhou Li",
    )
    assert (complaint.source_call_id, complaint.complainant_name, complaint.complainant_relation) == (
        call.pk,
        "Zhou Li",
        "family",
    )
