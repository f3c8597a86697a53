"""A nurse raises a complaint from a follow-up call in a real browser
(Playwright driving Debian's Chromium against the live server)."""

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.urls import reverse

from complaints.models import Complaint
from tests.browser.helpers import log_in
from tests.factories import FollowUpCallFactory, PatientFactory

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def drive_browser(base_url: str, username: str, call_id: int) -> dict:
    """The nurse's clicks. Runs in its own thread: Playwright's event loop
    must not share a thread (and its database connections) with the ORM."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(base_url=base_url)
        log_in(page, username)
        page.goto(f"{reverse('complaints:create')}?call={call_id}")
        seen = {
            "prefilled": [
                page.input_value("input[name=complainant_name]"),
                page.input_value("input[name=patient_mrn]"),
                page.input_value("select[name=channel]"),
            ]
        }
        page.select_option("select[name=category]", label="Fees")
        page.fill("textarea[name=description]", "Charged twice for the CT scan.")
        page.check("input[name=settled_on_the_spot]")
        page.check("input[name=measures][value=explanation]")
        page.fill("textarea[name=reply]", "Explained the bill line by line; she accepted.")
        page.click("text=Save the complaint")
        page.wait_for_url("**/complaints/*/")
        seen["detail_url"], seen["heading"] = page.url, page.text_content("h1")
        page.goto(f"{reverse('complaints:list')}?view=all")
        seen["listed"] = page.text_content("tbody tr td a")
        browser.close()
    return seen


def test_nurse_raises_a_complaint_from_a_call_and_sees_it_on_the_list(live_server, nurse, ward):
    patient = PatientFactory(name="张建国", mrn="ZY20260001", phone="+8613812345678")
    call = FollowUpCallFactory(discharge__patient=patient, discharge__department=ward)

    with ThreadPoolExecutor(max_workers=1) as pool:
        seen = pool.submit(drive_browser, live_server.url, nurse.username, call.pk).result(timeout=120)

    complaint = Complaint.objects.get()
    assert seen["prefilled"] == ["张建国", "ZY20260001", "followup_call"]
    assert seen["detail_url"] == f"{live_server.url}{reverse('complaints:detail', args=[complaint.pk])}"
    assert seen["heading"] == f"{complaint.reference} · Closed"
    assert seen["listed"] == complaint.reference
    assert (complaint.source_call_id, complaint.patient_id, complaint.status) == (call.pk, patient.pk, "closed")
