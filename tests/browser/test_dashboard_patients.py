"""The head nurse opens the dashboard, reads the patient-level figures, clicks
one and sees the list behind it with as many rows (issue 18), in English and
in Chinese."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from calls.models import FollowUpCall
from followup.roles import Role
from tests.browser.helpers import log_in
from tests.factories import DepartmentFactory, UserFactory, bulk_stays

S = FollowUpCall.Status
WORDS = {
    "en-GB": {"patients": "Patients", "lost": "Lost to follow-up", "list": "Patients behind the figure"},
    "zh-CN": {"patients": "患者", "lost": "失访", "list": "该数字对应的患者"},
}


@pytest.fixture
def cohort(transactional_db):
    head = UserFactory(username="wangfang", display_name="Wang Fang", roles=[Role.HEAD_NURSE])
    ward = DepartmentFactory(code="CARD", name="Cardiology")
    ward.staff.add(head)
    today = timezone.localdate()
    stays = []
    for i in range(20):
        discharged = today - dt.timedelta(days=20 - i)
        due = discharged + dt.timedelta(days=7)
        if i < 3:
            calls = [{"due_date": due, "status": S.CANCELLED, "cancel_reason": "deceased"}]
        elif i < 7:
            calls = [{"due_date": due, "status": S.UNREACHABLE}]
        else:
            calls = [{"due_date": due, "status": S.COMPLETED, "satisfaction": "satisfied", "answered_by": "patient"}]
        stays.append({"discharged_on": discharged, "sex": "F" if i % 2 else "M", "icd10": "I25.1", "calls": calls})
    bulk_stays(department=ward, stays=stays)
    return {"start": today - dt.timedelta(days=27), "end": today}


@pytest.mark.parametrize("locale", ["en-GB", "zh-CN"])
def test_the_head_nurse_clicks_a_patient_figure_and_sees_as_many_patients(browser, live_server, cohort, locale):
    words = WORDS[locale]
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, "wangfang")
        page.goto(f"/calls/dashboard/?start={cohort['start']:%Y-%m-%d}&end={cohort['end']:%Y-%m-%d}")
        assert page.locator("#dash-patients").inner_text() == words["patients"]
        figures = {
            key: page.locator(f'#patient-figures tr[data-figure="{key}"] [data-cell="current"]').inner_text()
            for key in ("patients_discharged", "patients_reached", "patients_deceased", "patients_lost")
        }
        assert figures == {
            "patients_discharged": "20",
            "patients_reached": "13",
            "patients_deceased": "3",
            "patients_lost": "4",
        }
        page.locator('#patient-figures tr[data-figure="patients_lost"] th a').click()
        page.wait_for_url(re.compile(r"/calls/dashboard/patients/\?.*outcome=lost"))
        assert page.locator("h1").inner_text() == words["list"]
        rows = page.locator("#dashboard-patients tbody tr")
        assert rows.count() == 4
        assert page.locator("#list-total").get_attribute("data-total") == "4"
        # each row opens the patient's stay
        rows.first.get_by_role("link").click()
        page.wait_for_url(re.compile(r"/calls/dashboard/patients/\d+/$"))
        assert page.locator("#stay-outcome").inner_text().strip() == words["lost"]
    finally:
        context.close()
