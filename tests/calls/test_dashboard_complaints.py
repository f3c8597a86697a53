import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from complaints.models import Category, Complaint, ResolutionMeasure
from complaints.selectors import outcome_shares
from tests.factories import DepartmentFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def wards(head_nurse, officer):
    mine = DepartmentFactory(code="CARD", name="Cardiology")
    mine.staff.add(head_nurse)
    other = DepartmentFactory(code="ONC", name="Oncology")
    attitude, fees = Category.objects.get(code="attitude"), Category.objects.get(code="fees")
    specs = [
        # (department, received, category, severity, status, outcome, responded in time?, resolved in time?)
        (mine, at(2026, 11, 2, 9), attitude, "general", "closed", "explanation", True, True),
        (mine, at(2026, 11, 10, 9), attitude, "major", "closed", "apology", True, False),
        (mine, at(2026, 11, 20, 9), fees, "general", "investigating", "", False, None),
        (mine, at(2026, 10, 29, 23, 59), fees, "general", "received", "", None, None),  # before the range
        (other, at(2026, 11, 20, 9), fees, "urgent", "received", "", None, None),  # not her department
    ]
    for i, (department, received, category, severity, status, outcome, responded, resolved) in enumerate(specs):
        due = received + dt.timedelta(hours=4)
        complaint = Complaint.objects.create(
            reference=f"T-{i}",
            channel="hotline",
            complainant_name="王女士",
            received_at=received,
            received_by=officer,
            category=category,
            severity=severity,
            status=status,
            description="x",
            first_response_due=due,
            resolution_due=due + dt.timedelta(days=5),
            first_responded_at=None if responded is None else due + dt.timedelta(hours=0 if responded else 2),
            first_response_breached=responded is False,
            resolved_at=None if resolved is None else due + dt.timedelta(days=4 if resolved else 6),
            resolution_breached=resolved is False,
        )
        complaint.departments.add(department)
        if outcome:
            ResolutionMeasure.objects.create(complaint=complaint, kind=outcome)
    return mine


@time_machine.travel(NOW, tick=False)
def test_complaints_of_her_departments_by_category_severity_status_outcome_and_sla(
    client_for, head_nurse, wards, settings
):
    settings.DASHBOARD_MIN_N = 1
    response = client_for(head_nurse).get(reverse("calls:dashboard"))
    c = response.context["figures"].complaints
    assert c["total"] == 3
    assert [(r["label"], r["n"]) for r in c["by_category"]] == [
        (Category.objects.get(code="attitude").name_en, 2),
        (Category.objects.get(code="fees").name_en, 1),
    ]
    assert {r["value"]: r["n"] for r in c["by_severity"]} == {"general": 2, "major": 1, "urgent": 0}
    assert {r["value"]: r["n"] for r in c["by_status"] if r["n"]} == {"closed": 2, "investigating": 1}
    # outcome shares have the complaints with a measure recorded as n, as in the complaint report
    assert {r["value"]: (r["n"], r["rate"].n) for r in c["by_outcome"] if r["n"]} == {
        "explanation": (1, 2),
        "apology": (1, 2),
    }
    assert (c["first_response"].num, c["first_response"].n) == (2, 3)
    assert (c["resolution"].num, c["resolution"].n) == (1, 2)
    attitude = Category.objects.get(code="attitude")
    assert (
        f'href="/complaints/?view=all&amp;received_from=2026-10-30&amp;received_to=2026-11-26&amp;category={attitude.pk}"'
        in response.content.decode()
    )


@time_machine.travel(NOW, tick=False)
def test_complaint_rates_below_the_minimum_show_too_few(client_for, head_nurse, wards, settings):
    settings.DASHBOARD_MIN_N = 10
    html = client_for(head_nurse).get(reverse("calls:dashboard")).content.decode()
    assert '<td class="text-end">too few</td><td class="text-end">n = 3</td>' in html


@time_machine.travel(NOW, tick=False)
def test_complaint_outcomes_count_a_complaint_with_two_measures_once_in_the_base(
    client_for, head_nurse, wards, settings
):
    # The dashboard counts the measures of the period's complaints (one query); the
    # complaint report's definition (outcome_shares) gives the same figures.
    settings.DASHBOARD_MIN_N = 1
    both = Complaint.objects.get(reference="T-1")  # has an apology already
    ResolutionMeasure.objects.create(complaint=both, kind="compensation", amount=100)
    ResolutionMeasure.objects.create(complaint=Complaint.objects.get(reference="T-4"), kind="apology")  # not hers
    c = client_for(head_nurse).get(reverse("calls:dashboard")).context["figures"].complaints
    shares = outcome_shares(Complaint.objects.filter(reference__in=["T-0", "T-1", "T-2"]))

    assert (c["outcome_base"], c["outcome_pending"]) == (2, 1) == (shares["base"], shares["pending"])
    assert {r["value"]: (r["n"], r["rate"].n) for r in c["by_outcome"] if r["n"]} == {
        "explanation": (1, 2),
        "apology": (1, 2),
        "compensation": (1, 2),
    }
    assert [(r["value"], r["n"]) for r in c["by_outcome"]] == [(r["value"], r["n"]) for r in shares["rows"]]
