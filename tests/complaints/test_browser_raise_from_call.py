"""A nurse raises a complaint from a follow-up call in a real browser
(Playwright driving Debian's Chromium against the live server)."""

import os
import shutil

import pytest
from django.urls import reverse

from complaints.models import Complaint
from tests.factories import TEST_PASSWORD, FollowUpCallFactory, PatientFactory

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # of the test itself are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser.new_page(base_url=live_server.url)
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_nurse_raises_a_complaint_from_a_call_and_sees_it_on_the_list(page, nurse, ward):
    patient = PatientFactory(name="张建国", mrn="ZY20260001", phone="+8613812345678")
    call = FollowUpCallFactory(discharge__patient=patient, discharge__department=ward)

    page.goto(reverse("login"))
    page.fill("input[name=username]", nurse.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{reverse('complaints:create')}?call={call.pk}")

    assert page.input_value("input[name=complainant_name]") == "张建国"
    assert page.input_value("input[name=patient_mrn]") == "ZY20260001"
    assert page.input_value("select[name=channel]") == "followup_call"
    page.select_option("select[name=category]", label="Fees")
    page.fill("textarea[name=description]", "Charged twice for the CT scan.")
    page.check("input[name=settled_on_the_spot]")
    page.select_option("select[name=outcome]", value="explanation")
    page.fill("textarea[name=reply]", "Explained the bill line by line; she accepted.")
    page.click("text=Save the complaint")

    complaint = Complaint.objects.get()
    page.wait_for_url(f"**{reverse('complaints:detail', args=[complaint.pk])}")
    assert page.text_content("h1") == f"{complaint.reference} · Closed"
    assert (complaint.source_call_id, complaint.patient_id, complaint.settled_on_the_spot) == (
        call.pk, patient.pk, True,
    )
    page.goto(f"{reverse('complaints:list')}?view=all")
    assert page.text_content("tbody tr td a") == complaint.reference
