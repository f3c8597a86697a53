"""A nurse's afternoon, in a real browser: log in, open the worklist, dial,
complete a call, the deceased path, a red flag the head nurse acts on."""

import datetime as dt
import re

import pytest

from calls.models import CallAttempt, ClinicalAlert, FollowUpCall
from tests.browser.helpers import log_in, log_out, open_call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_nurse_records_a_no_answer_attempt_by_keyboard(page, desk, artifacts):
    log_in(page, "lina")
    page.wait_for_url("**/calls/")
    # The inactivity warning waits for its time: it is not shown on arrival.
    assert page.locator("#session-warning").is_visible() is False
    page.screenshot(path=str(artifacts / "worklist.png"), full_page=True)
    row = page.get_by_role("row", name=re.compile("Zhou Min"))
    assert "••••••••••5678" in row.inner_text()
    open_call(page)

    page.get_by_label("Result of this dial").focus()
    page.get_by_label("Result of this dial").select_option("no_answer")
    page.keyboard.press("Tab")  # note
    page.keyboard.type("Rang ten times")
    page.keyboard.press("Tab")  # no more calls
    page.keyboard.press("Tab")  # submit
    assert page.evaluate("document.activeElement.value") == "Record attempt"
    page.keyboard.press("Enter")

    page.wait_for_url("**/calls/")
    assert "Attempt 1 recorded (No answer)" in page.locator("main").inner_text()
    call = FollowUpCall.objects.get(pk=desk["call"].pk)
    assert (call.status, call.attempt_count, call.next_attempt_on > desk["today"]) == ("scheduled", 1, True)
    assert list(CallAttempt.objects.values_list("result", "note")) == [("no_answer", "Rang ten times")]


def fill_outcome(page, desk, *, chest="no"):
    page.check(f'input[name="q_{desk["chest"].pk}"][value="{chest}"]')
    page.check('input[name="outcome-answered_by"][value="patient"]')
    page.check('input[name="outcome-satisfaction"][value="satisfied"]')
    page.get_by_label("Medicines explained clearly").fill("9")
    page.get_by_label("Summary").fill("Recovering, takes medicines, walks daily.")
    page.get_by_label("Duration").fill("6:40")


def test_nurse_completes_a_call_with_answers_and_satisfaction(page, desk, artifacts):
    log_in(page, "lina")
    open_call(page)
    assert page.locator('a[href="tel:+8613812345678"]').count() == 1
    page.screenshot(path=str(artifacts / "call-screen.png"), full_page=True)

    page.get_by_label("Result of this dial").select_option("answered")
    page.get_by_role("button", name="Record attempt").click()
    page.wait_for_url(re.compile(r"/calls/\d+/#outcome$"))
    fill_outcome(page, desk)
    page.get_by_label("Duration").fill("")  # a mistake first: everything typed stays
    page.get_by_role("button", name="Complete the call").click()
    assert page.get_by_label("Summary").input_value() == "Recovering, takes medicines, walks daily."
    page.get_by_label("Duration").fill("6:40")
    page.get_by_role("button", name="Complete the call").click()

    page.wait_for_url("**/calls/")
    assert "Call with Zhou Min completed." in page.locator("main").inner_text()
    call = FollowUpCall.objects.get(pk=desk["call"].pk)
    assert (call.status, call.satisfaction, call.duration_seconds, call.attempt_count) == (
        "completed",
        "satisfied",
        400,
        1,
    )


def test_family_reports_the_patient_died(page, desk):
    log_in(page, "lina")
    open_call(page)

    page.get_by_text("Family member says the patient has died").click()
    page.get_by_label("Date of death").fill((desk["today"] - dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Continue: see what will be cancelled").click()
    page.get_by_role("button", name="Record the death and cancel these calls").click()

    page.wait_for_url(re.compile(rf"/calls/{desk['call'].pk}/$"))
    assert "The death of Zhou Min is recorded" in page.locator("main").inner_text()
    page.goto("/calls/?tab=all")
    assert page.get_by_role("link", name="Zhou Min").count() == 0
    assert FollowUpCall.objects.get(pk=desk["call"].pk).cancel_reason == "deceased"


def test_red_flag_reaches_the_head_nurse_who_records_the_action(page, desk, artifacts):
    log_in(page, "lina")
    open_call(page)
    fill_outcome(page, desk, chest="yes")
    page.get_by_role("button", name="Complete the call").click()
    page.wait_for_url("**/calls/")
    assert "the head nurse has been alerted" in page.locator("main").inner_text()

    log_out(page)
    log_in(page, "wangfang")
    page.goto("/calls/alerts/")
    page.screenshot(path=str(artifacts / "alerts.png"), full_page=True)
    assert "Any chest pain since discharge?: Yes" in page.locator("main").inner_text()
    page.get_by_label("Action taken").select_option("doctor_informed")
    page.get_by_label("What was done").fill("Dr Zhang will call her today.")
    page.get_by_role("button", name="Resolve").click()

    page.wait_for_url("**/calls/alerts/")
    assert "No open clinical alerts." in page.locator("main").inner_text()
    assert ClinicalAlert.objects.get().action == "doctor_informed"
