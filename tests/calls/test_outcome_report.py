"""Did calling help: the outcomes of patients reached by day N against those
not reached, per risk tier, with n, rates, the difference and its 95%
confidence interval; small groups suppressed; the head nurse's departments
only; the export names the department and period."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from calls.dashboard.outcomes import difference_interval, wilson
from calls.models import FollowUpCall
from tests.factories import DepartmentFactory, DischargeFactory, FollowUpCallFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 30)
PAGE = reverse("calls:outcome_report")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, tzinfo=SHANGHAI), tick=False):
        yield


def test_the_interval_matches_newcombes_worked_example():
    # Newcombe RG, Stat Med 1998;17:873, Table II, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339.
    d, low, high = difference_interval(56, 70, 48, 80)
    assert (round(d, 4), round(low, 4), round(high, 4)) == (0.2, 0.0524, 0.3339)


def test_the_wilson_interval_of_an_empty_group_is_everything():
    assert wilson(0, 0) == (0.0, 1.0)


def stays(department, *, count, tier, reached: int, readmitted_reached: int, readmitted_other: int, day=None):
    """``count`` stays discharged on ``day``: the first ``reached`` with a call completed on day 2."""
    day = day or dt.date(2026, 9, 1)
    for i in range(count):
        is_reached = i < reached
        readmitted = i < readmitted_reached if is_reached else (i - reached) < readmitted_other
        stay = DischargeFactory(
            department=department, discharged_on=day, risk_tier=tier, readmitted_unplanned_31=readmitted
        )
        if is_reached:
            FollowUpCallFactory(
                discharge=stay,
                status=FollowUpCall.Status.COMPLETED,
                completed_at=dt.datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI) + dt.timedelta(days=2),
            )


@pytest.fixture
def ward(head_nurse):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(head_nurse)
    return department


def cell(html: str, outcome: str, tier: str, name: str) -> str:
    table = html.split(f'data-outcome="{outcome}"')[1].split("</table>")[0]
    row = table.split(f'data-tier="{tier}"')[1].split("</tr>")[0]
    return row.split(f'data-cell="{name}">')[1].split("</td>")[0]


def test_the_report_compares_reached_and_not_reached_per_tier(client_for, head_nurse, ward, settings):
    settings.DASHBOARD_MIN_N = 10
    stays(ward, count=30, tier="high", reached=20, readmitted_reached=2, readmitted_other=4)
    stays(ward, count=12, tier="low", reached=5, readmitted_reached=0, readmitted_other=1)
    other_ward = DepartmentFactory(code="ONC", name="Oncology")
    stays(other_ward, count=15, tier="high", reached=0, readmitted_reached=0, readmitted_other=15)

    html = client_for(head_nurse).get(PAGE, {"start": "2026-09-01", "end": "2026-09-30"}).content.decode()

    outcome = "readmitted_unplanned_31"
    # High: reached 2/20 = 10.0%, not reached 4/10 = 40.0%: -30.0 points.
    assert (cell(html, outcome, "high", "reached"), cell(html, outcome, "high", "reached-n")) == ("10.0%", "20")
    assert (cell(html, outcome, "high", "not-reached"), cell(html, outcome, "high", "not-reached-n")) == (
        "40.0%",
        "10",
    )
    d, low, high = difference_interval(2, 20, 4, 10)
    assert cell(html, outcome, "high", "difference") == f"{100 * d:.1f} ({100 * low:.1f} to {100 * high:.1f})"
    # Low: 5 reached and 7 not: too few on both sides for a rate or a difference.
    assert cell(html, outcome, "low", "difference") == "too few"
    # All tiers: 42 stays of her ward only (oncology is not hers).
    assert cell(html, outcome, "all", "reached-n") == "25"
    assert cell(html, outcome, "all", "not-reached-n") == "17"
    assert "20 of 30 high-risk patients were reached within 72 hours of discharge (by day 3)." in html
    assert "This is an association, not a proven effect of the calls" in html


def test_stays_whose_31_days_are_still_running_are_left_out(client_for, head_nurse, ward):
    stays(ward, count=3, tier="high", reached=1, readmitted_reached=0, readmitted_other=0, day=dt.date(2026, 11, 1))
    stays(ward, count=2, tier="high", reached=1, readmitted_reached=0, readmitted_other=0, day=dt.date(2026, 10, 1))

    html = client_for(head_nurse).get(PAGE, {"start": "2026-09-01", "end": "2026-11-30"}).content.decode()

    assert cell(html, "died_30", "all", "reached-n") == "1"
    assert "Stays discharged after 2026-10-29 are left out" in html


def test_the_export_names_department_and_period_and_neutralises_hostile_names(client_for, head_nurse, settings):
    department = DepartmentFactory(code="X", name='=HYPERLINK("http://evil")<b>')
    department.staff.add(head_nurse)
    stays(department, count=2, tier="high", reached=1, readmitted_reached=0, readmitted_other=1)

    response = client_for(head_nurse).get(
        reverse("calls:outcome_report_csv"), {"start": "2026-09-01", "end": "2026-09-30", "department": department.pk}
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="outcomes-hyperlinkhttpevilb-20260901-20260930.csv"'
    body = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in body
    assert "Discharged from 2026-09-01 to 2026-09-30; reached by day 7" in body


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-09-30", "end": "2026-09-01"}, "The end of the period is before its start."),
        ({"reach_days": "31"}, "Ensure this value is less than or equal to 30."),
        ({"start": "<script>"}, "Enter a valid date."),
    ],
)
def test_bad_filters_are_explained_and_show_no_figures(client_for, head_nurse, ward, params, message):
    response = client_for(head_nurse).get(PAGE, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'id="association-note"' not in response.content.decode()


def test_nurses_and_officers_are_refused(client_for, nurse, officer):
    assert client_for(nurse).get(PAGE).status_code == 403
    assert client_for(officer).get(reverse("calls:outcome_report_csv")).status_code == 403


def test_another_departments_id_shows_nothing_of_it(client_for, head_nurse, ward):
    oncology = DepartmentFactory(code="ONC", name="Oncology")
    response = client_for(head_nurse).get(PAGE, {"department": oncology.pk})
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


def test_the_figures_export_carries_the_outcome_ledger(head_nurse, ward):
    import io
    import json

    from django.core.management import call_command

    # September: 20 stays whose 31 days have passed; November: 5 still running.
    stays(ward, count=12, tier="high", reached=9, readmitted_reached=2, readmitted_other=1)
    stays(ward, count=8, tier="low", reached=8, readmitted_reached=1, readmitted_other=0)
    stays(ward, count=5, tier="high", reached=5, readmitted_reached=5, readmitted_other=0, day=dt.date(2026, 11, 10))
    DischargeFactory(department=ward, discharged_on=dt.date(2026, 9, 3), died_30=True, readmitted_30=True)
    out = io.StringIO()

    call_command(
        "dashboard_figures",
        "--department",
        "CARD",
        "--start",
        "2026-09-01",
        "--end",
        "2026-11-30",
        "--json",
        stdout=out,
    )

    figures = json.loads(out.getvalue())
    assert {
        key: figures[key]
        for key in (
            "discharges_with_outcome",
            "readmitted_0_31_unplanned",
            "readmitted_30_all_cause",
            "died_within_30",
            "high_risk_discharges",
            "high_risk_reached_72h",
        )
    } == {
        "discharges_with_outcome": 21,
        "readmitted_0_31_unplanned": 4,
        "readmitted_30_all_cause": 1,
        "died_within_30": 1,
        "high_risk_discharges": 17,
        "high_risk_reached_72h": 14,
    }
