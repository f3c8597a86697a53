"""The dashboard's statements are built once per shape and run again with
each view's values (followup/prepared.py): a view must get its own figures,
whatever view prepared the statement before it."""

import datetime as dt

import pytest

from calls.dashboard.selectors import Period, dashboard_figures
from calls.models import FollowUpCall
from followup import prepared
from tests.factories import DepartmentFactory, bulk_calls

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 26)
NOVEMBER, OCTOBER = Period(dt.date(2026, 11, 1), TODAY), Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def completed(day: dt.date, **extra) -> dict:
    return {
        "due_date": day,
        "status": FollowUpCall.Status.COMPLETED,
        "completed_at": dt.datetime(2026, 11, 26, tzinfo=dt.UTC),
        **extra,
    }


def shown(department_ids: list[int], period: Period) -> dict:
    d = dashboard_figures(department_ids=department_ids, period=period, today=TODAY)
    return {
        "counts": d.counts,
        "previous": [h.previous for h in d.headlines],
        "weeks": [(w["week"], w["due"], w["completed"]) for w in d.weeks],
        "nurses": [(r["assigned_to"], r["assigned"]) for r in d.nurses],
        "spot_checks": d.spot_checks["completed"],
        "patients": d.patients.discharged,
        "complaints": d.complaints["total"],
        "self_report": d.self_report.channels[0].completed,
    }


def test_each_view_gets_its_own_figures_from_statements_prepared_by_another():
    cardio, neuro = DepartmentFactory(code="CARD"), DepartmentFactory(code="NEU")
    bulk_calls(department=cardio, rows=[completed(dt.date(2026, 11, 20))] * 3 + [completed(dt.date(2026, 10, 5))])
    bulk_calls(department=neuro, rows=[completed(dt.date(2026, 11, 21))] * 2 + [{"due_date": dt.date(2026, 11, 2)}])
    views = [([cardio.pk], NOVEMBER), ([cardio.pk], OCTOBER), ([neuro.pk], NOVEMBER), ([cardio.pk, neuro.pk], NOVEMBER)]
    views.append(([], NOVEMBER))

    figures = [shown(*view) for view in views]  # the first of each shape prepares, the others reuse
    alone = []
    for view in views:
        prepared._prepared.clear()
        alone.append(shown(*view))

    assert figures == alone
    assert [f["counts"]["due"] for f in figures] == [3, 1, 3, 6, 0]
    assert [f["counts"]["completed"] for f in figures] == [3, 1, 2, 5, 0]
    assert figures[3]["weeks"][-1][1:] == (5, 5)
