import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from calls.models import FollowUpCall
from tests.factories import DepartmentFactory, bulk_calls

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def data(head_nurse, settings):
    settings.DASHBOARD_MIN_N = 1
    mine = DepartmentFactory(code="CARD")
    mine.staff.add(head_nurse)
    other = DepartmentFactory(code="ONC")
    row = {"due_date": dt.date(2026, 11, 20), "status": FollowUpCall.Status.COMPLETED, "satisfaction": "satisfied"}
    bulk_calls(department=mine, rows=[row] * 3)
    bulk_calls(department=other, rows=[row] * 7)
    return mine


@time_machine.travel(NOW, tick=False)
def test_csv_export_holds_the_dashboard_tables_of_her_departments_only(client_for, head_nurse, data):
    response = client_for(head_nurse).get(reverse("calls:dashboard_export_csv"), {"start": "2026-11-01"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="dashboard-20261101-20261126.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Headline figures"]
    assert rows[1][:3] == ["Figure", "This period (%)", "n"]
    assert rows[2][:2] == ["Calls due", "3"]
    assert rows[4][:3] == ["Reach rate", "100.0", "3"]
    titles = [r[0] for i, r in enumerate(rows) if i == 0 or (rows[i - 1] == [] and r)]
    assert titles == [
        "Headline figures",
        "Overall satisfaction",
        "Item scores",
        "Weekly trend",
        "Nurses",
        "Spot checks",
        "Complaints by category",
        "Complaints by severity",
        "Complaints by status",
        "Complaints by outcome",
        "Complaint SLA",
    ]


@time_machine.travel(NOW, tick=False)
def test_xlsx_export_has_one_sheet_per_table(client_for, head_nurse, data):
    response = client_for(head_nurse).get(reverse("calls:dashboard_export_xlsx"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "1 Headline figures",
        "2 Overall satisfaction",
        "3 Item scores",
        "4 Weekly trend",
        "5 Nurses",
        "6 Spot checks",
        "7 Complaints by category",
        "8 Complaints by severity",
        "9 Complaints by status",
        "10 Complaints by outcome",
        "11 Complaint SLA",
    ]
    sheet = book["1 Headline figures"]
    assert [c.value for c in sheet[2]][:2] == ["Calls due", 3]


@time_machine.travel(NOW, tick=False)
def test_export_refuses_a_bad_range_in_plain_words(client_for, head_nurse, data):
    response = client_for(head_nurse).get(
        reverse("calls:dashboard_export_csv"), {"start": "2026-11-20", "end": "2026-11-01"}
    )
    assert response.status_code == 400
    assert response.content.decode() == "The start date must be on or before the end date."
