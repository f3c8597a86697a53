import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from complaints import services
from complaints.models import Category, Complaint
from complaints.selectors import Period, Quarter, complaint_report
from tests.complaints.conftest import at
from tests.factories import UserFactory

S = Complaint.Status


@pytest.fixture
def quarter_data(make_complaint, officer, ward, other_ward):
    """2026-Q3: two valid complaints on the ward (one settled on the spot,
    one worked to closed with a late resolution) and one not valid on
    another ward, still open with an open promise. Plus one valid in Q2 and
    two valid and one not valid in 2025-Q3."""
    fees = Category.objects.get(code="fees")
    staff = UserFactory(username="nurse_wu", display_name="Wu Lan")
    make_complaint(
        received_at=at(2026, 7, 15, 9, 0),
        channel="followup_call",
        validity="valid",
        settled_on_the_spot=True,
        measures=["explanation"],
        reply="Explained.",
        handling_satisfaction="satisfied",
        staff_involved=[staff],
    )
    worked = make_complaint(received_at=at(2026, 7, 15, 9, 0), validity="valid", staff_involved=[staff])
    services.complaint_record_contact(complaint=worked, by=officer, text="Called back.", at=at(2026, 7, 15, 9, 30))
    services.complaint_transition(complaint=worked, to=S.INVESTIGATING, by=officer, at=at(2026, 7, 15, 10, 0))
    services.complaint_transition(complaint=worked, to=S.RESOLVED, by=officer, at=at(2026, 7, 30, 10, 0))
    services.complaint_record_reply(
        complaint=worked, by=officer, text="Refund paid.", handling_satisfaction="basic", at=at(2026, 7, 30, 11, 0)
    )
    services.complaint_transition(
        complaint=worked,
        to=S.CLOSED,
        by=officer,
        measures=["apology", "compensation"],
        compensation_amount=Decimal("2000.00"),
        at=at(2026, 7, 30, 11, 0),
    )
    still_open = make_complaint(
        received_at=at(2026, 9, 30, 23, 59),
        category=fees,
        channel="letter",
        validity="not_valid",
        departments=[other_ward],
    )
    services.promise_add(
        complaint=still_open, by=officer, what="Check the bill", owner=officer, due_on=dt.date(2030, 1, 1)
    )
    make_complaint(received_at=at(2026, 6, 30, 23, 59), validity="valid")  # Q2
    make_complaint(received_at=at(2026, 10, 1, 0, 0), validity="valid")  # Q4: not counted
    for validity in ("valid", "valid", "not_valid"):
        make_complaint(received_at=at(2025, 8, 12, 9, 0), validity=validity)
    return worked


def test_quarter_figures_on_a_known_data_set(quarter_data, officer):
    report = complaint_report(user=officer, period=Quarter.parse("2026-Q3"))
    f = report["figures"]
    assert (f["total"], f["valid"], f["not_valid"], f["undetermined"], f["settled"], f["closed"]) == (3, 2, 1, 0, 1, 2)
    assert report["valid_change_previous"] == {"before": 1, "difference": 1, "percent": 100.0}
    assert report["valid_change_year_before"] == {"before": 2, "difference": 0, "percent": 0.0}
    assert report["total_change_year_before"] == {"before": 3, "difference": 0, "percent": 0.0}
    assert report["settled_share"] == 33.3
    assert (f["satisfied"], f["satisfaction_asked"], report["satisfaction_share"]) == (2, 2, 100.0)
    assert (f["responded_in_time"], f["responded"], report["first_response_compliance"]) == (2, 2, 100.0)
    assert (f["resolved_in_time"], f["resolved"], report["resolution_compliance"]) == (1, 2, 50.0)
    assert [(r["label"], r["count"], r["share"]) for r in report["by_category"]] == [
        ("Attitude, poor explanation, communication", 2, 66.7),
        ("Fees", 1, 33.3),
    ]
    assert [(r["label"], r["count"]) for r in report["by_channel"]] == [
        ("Follow-up call", 1),
        ("Hotline", 1),
        ("Letter", 1),
    ]
    assert [(r["label"], r["count"]) for r in report["by_department"]] == [("Cardiology", 2), ("Oncology", 1)]
    assert [(r["label"], r["count"]) for r in report["by_staff"]] == [("Wu Lan", 2)]
    # shares of the 2 complaints with a measure recorded (the open one has none yet)
    assert [(r["label"], r["count"], r["share"]) for r in report["by_outcome"]] == [
        ("Explanation, accepted", 1, 50.0),
        ("Apology", 1, 50.0),
        ("Compensation", 1, 50.0),
    ]
    assert (report["outcome_base"], report["outcome_pending"]) == (2, 1)
    assert [p.what for p in report["open_promises"]] == ["Check the bill"]


def test_head_nurse_report_covers_only_her_departments(quarter_data, head_nurse):
    report = complaint_report(user=head_nurse, period=Quarter.parse("2026-Q3"))
    assert (report["figures"]["total"], report["figures"]["not_valid"], report["open_promises"]) == (2, 0, [])


@pytest.mark.usefixtures("quarter_data")
def test_report_page_for_officer_and_head_nurse_only(client_for, officer, head_nurse, nurse, no_role_user):
    url = reverse("complaints:report")
    response = client_for(officer).get(url, {"quarter": "2026-Q3"})
    assert response.status_code == 200
    assert response.context["period"] == Period.of_quarter(Quarter(2026, 3))
    assert client_for(head_nurse).get(url).status_code == 200
    for user in (nurse, no_role_user):
        assert client_for(user).get(url).status_code == 403
        assert client_for(user).get(reverse("complaints:report_csv")).status_code == 403


def test_csv_export_has_the_figures(client_for, quarter_data, officer):
    response = client_for(officer).get(reverse("complaints:report_csv"), {"quarter": "2026-Q3"})
    assert response["Content-Disposition"] == 'attachment; filename="complaints-2026-Q3.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[:6] == [
        ["Section", "Item", "Count", "Share (%)"],
        ["Report", "Period: 2026-Q3", "", ""],
        ["Report", "Departments: All departments", "", ""],
        ["Report", "All complaints, valid or not", "", ""],
        ["Summary", "Complaints", "3", ""],
        ["Summary", "Valid", "2", "66.7"],
    ]
    assert ["Summary", "Settled on the spot", "1", "33.3"] in rows
    assert ["Main category", "Fees", "1", "33.3"] in rows
    assert rows[-1] == ["Open promises", f"TS-2026-00003: Check the bill ({officer}, 2030-01-01)", "1", ""]


def cell(value):
    """A cell as a number when it is one, else as text ("" for empty)."""
    if value is None:
        return ""
    try:
        return float(value)
    except ValueError:
        return str(value)


def test_xlsx_export_has_the_same_rows(client_for, quarter_data, officer):
    client = client_for(officer)
    response = client.get(reverse("complaints:report_xlsx"), {"quarter": "2026-Q3"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    csv_rows = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("complaints:report_csv"), {"quarter": "2026-Q3"}).content.decode("utf-8-sig")
            )
        )
    )
    assert sheet.title == "2026-Q3"
    assert rows == [[cell(v) for v in row] for row in csv_rows]


def test_quarter_bounds_are_in_the_hospital_time_zone():
    assert Quarter.parse("2026-q4").bounds() == (at(2026, 10, 1), at(2027, 1, 1))
    assert (str(Quarter(2026, 1).previous), str(Quarter(2026, 4).next)) == ("2025-Q4", "2027-Q1")
    with pytest.raises(ValueError):
        Quarter.parse("2026-Q5")


def test_report_links_to_the_next_quarter_only_once_it_has_started(client_for, officer):
    url = reverse("complaints:report")
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        client = client_for(officer)
        current = client.get(url).content.decode()
        past = client.get(url, {"quarter": "2026-Q3"}).content.decode()
    assert ('href="?quarter=2027-Q1"' in current, 'href="?quarter=2026-Q3"' in current) == (False, True)
    assert 'href="?quarter=2026-Q2"' in past
    assert 'href="?quarter=2026-Q4"' in past
