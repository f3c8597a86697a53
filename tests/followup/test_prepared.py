"""The dashboard's statements are built once per shape and run again with
each view's values (followup/prepared.py): a view must get its own figures,
whatever view prepared the statement before it."""

import datetime as dt

import pytest
from django.contrib.sessions.models import Session

from calls.dashboard.selectors import Period, dashboard_figures
from calls.models import FollowUpCall
from followup import prepared
from followup.models import AuditEvent
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


HOSTILE = "'); DROP TABLE followup_auditevent; -- <script>王芳</script> \\ \t"


def columns(event: AuditEvent) -> dict:
    return {f.attname: getattr(event, f.attname) for f in AuditEvent._meta.concrete_fields if not f.primary_key}


def test_insert_one_writes_the_row_save_writes(nurse):
    """The audit row of a page view goes in by a statement written once: the
    same columns save() would write, hostile text kept as typed."""
    made = {
        "actor": nurse,
        "actor_name": HOSTILE,
        "source": AuditEvent.Source.USER,
        "ip_address": "2001:db8::1",
        "action": AuditEvent.Action.VIEW,
        "object_type": "call",
        "object_id": HOSTILE[:64],
        "patient_id": 2**62,
        "fields": HOSTILE,
        "note": HOSTILE,
        "url_name": "calls:call_detail",
        "path": "/calls/1/?q=" + HOSTILE,
        "method": "GET",
        "status_code": 200,
    }
    saved = AuditEvent(**made)
    saved.save(force_insert=True)
    for _ in range(2):  # written the first time, reused the second
        prepared.insert_one(AuditEvent(**made))

    rows = list(AuditEvent.objects.filter(path=made["path"]).order_by("pk"))
    assert len(rows) == 3
    first = columns(rows[0])
    for row in rows[1:]:
        assert {**columns(row), "at": first["at"]} == first
        assert row.at >= first["at"]
    assert rows[1].note == HOSTILE and rows[1].actor_id == nurse.pk


def test_insert_one_refuses_a_model_whose_key_the_table_does_not_number():
    with pytest.raises(ValueError, match="numbers"):
        prepared.insert_one(Session(session_key="k" * 32, session_data="", expire_date=dt.datetime.now(dt.UTC)))


def test_the_querys_own_constants_are_written_into_the_statement_and_still_match_exactly(nurse):
    """On PostgreSQL a statement's constants (here a status and a hostile
    text with quotes, a backslash and per cent signs) are literals in its
    text, so a plan made once for every run still knows them; the view's
    values stay parameters. Either way the rows are the ORM's."""
    from django.db import connection

    from followup.models import User

    odd = "O'Brien 100% \\ %s %% 王"
    User.objects.filter(pk=nurse.pk).update(last_name=odd)
    p = prepared.Params(me=nurse.pk)

    def build():
        return User.objects.filter(pk=p["me"], last_name=odd, is_active=True).values("pk", "last_name")

    rows = p.rows(("test-constants",), build)
    statement = p._statement(("test-constants",), build)

    assert rows == [{"pk": nurse.pk, "last_name": odd}]
    assert prepared.Params(me=nurse.pk + 1000).rows(("test-constants",), build) == []
    named = [param for param in statement.params if isinstance(param, prepared._Named)]
    if connection.vendor == "postgresql":
        assert [param.name for param in named] == ["me"] and len(statement.params) == 1
        assert "O''Brien 100%% \\\\ %%s %%%% 王'" in statement.sql  # quoted, its per cent signs doubled
    else:
        assert len(statement.params) == 2
