"""The complaint analysis for any quarter, year or range of days (several
years included), valid complaints only, one department; refused politely
for implausible periods and departments outside the user's scope."""

import csv
import io
import itertools
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from complaints.models import Category
from complaints.selectors import Period, Quarter
from tests.complaints.conftest import at

NOW = at(2026, 11, 23, 9, 0)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def expand(counts: dict) -> list:
    return list(itertools.chain.from_iterable([key] * n for key, n in counts.items()))


@pytest.fixture
def series_2008_2010(make_complaint, officer):
    """One hospital's 59 complaints over 2008-2010, by year, category and how
    they were resolved (every one of them resolved)."""
    years = expand({2008: 17, 2009: 20, 2010: 22})
    categories = expand({"attitude": 25, "doctor": 14, "fees": 10, "nursing": 6, "logistics": 4})
    outcomes = expand(
        {
            ("explanation",): 40,
            ("apology",): 8,
            ("apology", "compensation"): 6,
            ("mediation",): 3,
            ("court",): 1,
            ("legal_refused",): 1,
        }
    )
    for i, (year, category, measures) in enumerate(zip(years, categories, outcomes, strict=True)):
        make_complaint(
            received_at=at(year, 1 + i % 12, 10, 9, 0),
            category=Category.objects.get(code=category),
            validity="valid",
            settled_on_the_spot=True,
            measures=list(measures),
            compensation_amount=Decimal(1000) if "compensation" in measures else None,
            reply="Handled.",
        )
    make_complaint(received_at=at(2011, 1, 1, 0, 0))  # the day after the range


def test_three_years_read_back_exactly(client_for, officer, series_2008_2010):
    response = client_for(officer).get(reverse("complaints:report"), {"start": "2008-01-01", "end": "2010-12-31"})
    assert response.status_code == 200
    report = response.context["report"]
    assert report["figures"]["total"] == 59
    assert [(r["label"], r["count"]) for r in report["by_year"]] == [("2008", 17), ("2009", 20), ("2010", 22)]
    assert [(r["label"], r["count"]) for r in report["by_category"]] == [
        ("Attitude, poor explanation, communication", 25),
        ("Doctor's responsibility, diagnosis and treatment", 14),
        ("Fees", 10),
        ("Nursing", 6),
        ("Logistics (food, ward hygiene)", 4),
    ]
    assert [(r["label"], r["count"], r["share"]) for r in report["by_outcome"]] == [
        ("Explanation, accepted", 40, 67.8),
        ("Apology", 14, 23.7),
        ("Compensation", 6, 10.2),
        ("People's mediation (人民调解)", 3, 5.1),
        ("Went to court (诉讼)", 1, 1.7),
        ("Complainant refused the legal route", 1, 1.7),
    ]
    assert (report["outcome_base"], report["outcome_pending"]) == (59, 0)
    # as many months just before, and the same days a year earlier
    assert (str(report["period"].previous), str(report["period"].year_before)) == (
        "2005-01-01 – 2007-12-31",
        "2007-01-01 – 2009-12-31",
    )
    assert report["figures"]["year_before_total"] == 37


def test_a_year_is_reported_and_compared_with_the_year_before(client_for, officer, series_2008_2010):
    report = client_for(officer).get(reverse("complaints:report"), {"year": "2009"}).context["report"]
    assert (report["figures"]["total"], report["figures"]["previous_total"]) == (20, 17)
    assert report["by_year"] == []
    assert str(report["period"]) == "2009"


def test_a_quarter_of_12_valid_and_3_not_valid(client_for, officer, make_complaint):
    for validity, category in [("valid", "attitude")] * 7 + [("valid", "fees")] * 5 + [("not_valid", "rules")] * 3:
        make_complaint(
            received_at=at(2026, 8, 3, 9, 0), validity=validity, category=Category.objects.get(code=category)
        )
    client = client_for(officer)
    everything = client.get(reverse("complaints:report"), {"quarter": "2026-Q3"}).context["report"]
    assert (everything["figures"]["total"], everything["figures"]["valid"]) == (15, 12)
    valid = client.get(reverse("complaints:report"), {"quarter": "2026-Q3", "valid_only": "on"}).context["report"]
    assert (valid["figures"]["total"], valid["figures"]["not_valid"]) == (12, 0)
    assert [(r["label"], r["count"], r["share"]) for r in valid["by_category"]] == [
        ("Attitude, poor explanation, communication", 7, 58.3),
        ("Fees", 5, 41.7),
    ]


def test_a_department_filter_and_the_file_names(client_for, officer, make_complaint, ward, other_ward):
    make_complaint(received_at=at(2026, 8, 3, 9, 0), validity="valid")
    make_complaint(received_at=at(2026, 8, 3, 9, 0), departments=[other_ward])
    client = client_for(officer)
    params = {"year": "2026", "department": ward.pk, "valid_only": "on"}
    assert client.get(reverse("complaints:report"), params).context["report"]["figures"]["total"] == 1
    exported = client.get(reverse("complaints:report_csv"), params)
    assert exported["Content-Disposition"] == 'attachment; filename="complaints-CARD-2026-valid.csv"'
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[1:4] == [
        ["Report", "Period: 2026", "", ""],
        ["Report", "Departments: Cardiology", "", ""],
        ["Report", "Valid complaints only", "", ""],
    ]
    ranged = client.get(reverse("complaints:report_xlsx"), {"start": "2024-03-01", "end": "2026-02-28"})
    assert ranged["Content-Disposition"] == 'attachment; filename="complaints-20240301-20260228.xlsx"'


def test_the_report_page_names_the_period_and_departments_and_links_the_exports(client_for, head_nurse, ward):
    response = client_for(head_nurse).get(reverse("complaints:report"), {"year": "2025", "valid_only": "on"})
    html = response.content.decode()
    assert "Complaint analysis 2025" in html
    assert '<small class="text-body-secondary d-block report-scope">Cardiology · valid complaints only</small>' in html
    assert 'href="/complaints/report/export.csv?year=2025&amp;valid_only=on"' in html
    assert 'href="?year=2024&amp;valid_only=on"' in html and 'href="?year=2026&amp;valid_only=on"' in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"quarter": "2026-Q5"}, "Write the quarter as year-Qnumber, for example 2026-Q3."),
        (
            {"quarter": "'; DROP TABLE complaints_complaint; --"},
            "Write the quarter as year-Qnumber, for example 2026-Q3.",
        ),
        ({"quarter": "1999-Q4"}, "Choose a quarter between 2000 and today."),
        ({"quarter": "2027-Q1"}, "Choose a quarter between 2000 and today."),
        ({"year": "0"}, "Choose a year between 2000 and today."),
        ({"year": "-2026"}, "Choose a year between 2000 and today."),
        ({"year": "99999999999999999999"}, "Choose a year between 2000 and today."),
        ({"year": "2026.5"}, "Enter a whole number."),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "Enter a valid date."),
        ({"start": "2026-03-01"}, "Give both the first and the last day of the range."),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "The range ends before it starts."),
        ({"start": "1900-01-01", "end": "2026-02-01"}, "The range must start between 2000-01-01 and today."),
        ({"start": "2027-01-01", "end": "2027-02-01"}, "The range must start between 2000-01-01 and today."),
        ({"start": "2000-01-01", "end": "9999-12-31"}, "A range of at most 30 years, please."),
        (
            {"department": "99999999999999999999"},
            "Select a valid choice. That choice is not one of the available choices.",
        ),
    ],
)
def test_implausible_periods_are_refused_with_a_message(client_for, officer, params, message):
    client = client_for(officer)
    page = client.get(reverse("complaints:report"), params)
    assert page.status_code == 400
    form = page.context["form"]
    assert [e for errors in form.errors.values() for e in errors] == [message]
    assert page.context["report"] is None
    exported = client.get(reverse("complaints:report_csv"), params)
    assert (exported.status_code, exported.context["message"]) == (400, message)


def test_a_head_nurse_cannot_report_on_another_ward(client_for, head_nurse, make_complaint, other_ward):
    make_complaint(received_at=at(2026, 8, 3, 9, 0), departments=[other_ward])
    client = client_for(head_nurse)
    refused = client.get(reverse("complaints:report"), {"year": "2026", "department": other_ward.pk})
    assert refused.status_code == 400
    assert client.get(reverse("complaints:report"), {"year": "2026"}).context["report"]["figures"]["total"] == 0


def test_periods_compare_like_with_like():
    quarter = Period.of_quarter(Quarter(2026, 1))
    assert (str(quarter.previous), str(quarter.year_before), str(quarter.next)) == ("2025-Q4", "2025-Q1", "2026-Q2")
    leap = Period(at(2024, 2, 29).date(), at(2024, 3, 1).date())
    assert (str(leap.year_before), str(leap.previous)) == ("2023-02-28 – 2023-03-01", "2024-02-27 – 2024-02-28")
    months = Period(at(2026, 1, 1).date(), at(2026, 2, 28).date())
    assert (str(months.previous), str(months.next)) == ("2025-11-01 – 2025-12-31", "2026-03-01 – 2026-04-30")
    assert leap.bounds() == (at(2024, 2, 29), at(2024, 3, 2))
