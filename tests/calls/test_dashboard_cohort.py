"""The cardiology report of DOMAIN.md section 5, rebuilt as data: the dashboard
must show exactly its figures."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from calls.models import FollowUpCall
from tests.factories import DepartmentFactory, bulk_calls

S = FollowUpCall.Status
NOW = dt.datetime(2012, 7, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
START, END = dt.date(2011, 6, 1), dt.date(2012, 6, 30)


def cardiology_rows() -> list[dict]:
    """1,056 discharges, one call each, spread over the year: 36 died, 58 lost
    to follow-up, 962 reached; family answered 578 times; of the 962 rated,
    885 satisfied (92.0%), 48 basically satisfied, 29 unsatisfied."""
    days = (END - START).days + 1
    rows = []
    for i in range(1056):
        due = START + dt.timedelta(days=i * days // 1056)
        if i < 36:
            rows.append({"due_date": due, "status": S.CANCELLED, "cancel_reason": "deceased"})
        elif i < 36 + 58:
            rows.append({"due_date": due, "status": S.UNREACHABLE})
        else:
            k = i - 94
            satisfaction = "satisfied" if k < 885 else "basic" if k < 885 + 48 else "unsatisfied"
            rows.append(
                {
                    "due_date": due,
                    "status": S.COMPLETED,
                    "completed_at": NOW,
                    "satisfaction": satisfaction,
                    "answered_by": "family" if k % 962 < 578 else "patient",
                    "duration_seconds": 420,
                }
            )
    return rows


@pytest.fixture
def cardiology(head_nurse):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(head_nurse)
    bulk_calls(department=department, rows=cardiology_rows())
    return department


def headline(html: str, figure: str) -> tuple[str, str]:
    row = re.search(rf'<tr data-figure="{figure}">(.*?)</tr>', html, re.S).group(1)
    current = re.search(r'data-cell="current">(.*?)</td>', row, re.S).group(1).strip()
    n = re.search(r'data-cell="n">(.*?)</td>', row, re.S).group(1).strip()
    return current, n


@time_machine.travel(NOW, tick=False)
def test_dashboard_shows_the_cardiology_reports_figures(client_for, head_nurse, cardiology):
    response = client_for(head_nurse).get(
        reverse("calls:dashboard"), {"start": START.isoformat(), "end": END.isoformat()}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert headline(html, "due") == ("1056", "")
    assert headline(html, "completed") == ("962", "")
    assert headline(html, "deceased") == ("36", "")
    assert headline(html, "unreachable") == ("58", "")
    assert headline(html, "reach") == ("91.1%", "n = 1056")
    assert headline(html, "family") == ("60.1%", "n = 962")
    assert headline(html, "satisfied") == ("92.0%", "n = 962")
    assert headline(html, "satisfied_or_basic") == ("97.0%", "n = 962")
    boxes = [(str(label), rate.num, rate.n, rate.percent) for label, rate, _query in response.context["figures"].boxes]
    assert boxes == [
        ("Top box: satisfied", 885, 962, 92.0),
        ("Middle: basically satisfied", 48, 962, 5.0),
        ("Bottom box: unsatisfied", 29, 962, 3.0),
    ]
