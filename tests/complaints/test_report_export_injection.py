"""The complaint report's CSV and XLSX carry no formula from a category,
staff or promise text (CSV injection; the rule is in followup.exports)."""

import datetime as dt

import pytest
from django.urls import reverse

from complaints import services
from complaints.models import Category
from tests.complaints.conftest import at
from tests.factories import UserFactory
from tests.followup.test_exports import HOSTILE, QUOTED, QUOTED_IN_XLSX, read_csv, read_xlsx


@pytest.fixture
def hostile_complaint(make_complaint, officer):
    """A 2026-Q3 complaint in a hostile category, with hostile staff involved
    and a hostile promise."""
    category = Category.objects.create(code="evil", name_en=HOSTILE[0], name_zh=HOSTILE[0])
    staff = [UserFactory(username=f"evil{i}", display_name=name) for i, name in enumerate(HOSTILE)]
    complaint = make_complaint(received_at=at(2026, 7, 15, 9, 0), category=category, staff_involved=staff)
    services.promise_add(complaint=complaint, by=officer, what="=1+1", owner=officer, due_on=dt.date(2030, 1, 1))
    return complaint


def items(rows, section_name: str) -> list:
    return sorted(row[1] for row in rows if row[0] == section_name)


def test_complaint_report_csv_quotes_hostile_categories_staff_and_promises(client_for, officer, hostile_complaint):
    response = client_for(officer).get(reverse("complaints:report_csv"), {"quarter": "2026-Q3"})
    rows = read_csv(response)
    assert response["Content-Disposition"] == 'attachment; filename="complaints-2026-Q3.csv"'
    assert items(rows, "Main category") == [QUOTED[0]]
    assert items(rows, "Staff") == sorted(QUOTED)
    assert items(rows, "Open promises") == [f"{hostile_complaint.reference}: =1+1 ({officer}, 2030-01-01)"]
    assert rows[4] == ["Summary", "Complaints", "1", ""]


def test_complaint_report_xlsx_writes_hostile_text_as_text(client_for, officer, hostile_complaint):
    response = client_for(officer).get(reverse("complaints:report_xlsx"), {"quarter": "2026-Q3"})
    sheet = read_xlsx(response)["2026-Q3"]
    rows = list(sheet.iter_rows(min_row=2))
    assert sorted(r[1].value for r in rows if r[0].value == "Staff") == sorted(QUOTED_IN_XLSX)
    assert [r[1].value for r in rows if r[0].value == "Main category"] == [QUOTED[0]]
    assert {c.data_type for r in rows for c in r if c.value is not None} == {"s", "n"}  # no "f"ormula
    assert [(c.value, c.data_type) for c in rows[3][:3]] == [("Summary", "s"), ("Complaints", "s"), (1, "n")]
