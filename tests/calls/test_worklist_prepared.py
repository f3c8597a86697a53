"""The worklist's statements are compiled once per shape and run with each
user's values (calls.selectors.worklist.Worklist, followup/prepared.py): a
user must get her own calls, whoever's view prepared the statement, and
exactly what the ORM's querysets of the worklist say."""

import datetime as dt
import itertools
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calls.forms.call_work import WorklistFilter
from calls.models import Department, FollowUpCall
from calls.selectors.worklist import (
    TABS,
    Worklist,
    earlier_calls,
    worklist_base,
    worklist_for_tab,
    worklist_tab_counts,
)
from calls.services.cancellation import patient_mark_deceased
from followup import access, prepared
from followup.roles import Role
from tests.calls.call_work_helpers import NOW, TODAY, make_call, ward_of
from tests.factories import PatientFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

DAY = dt.timedelta(days=1)
# The list filters, alone and together (the department's value is set per ward).
FILTERS = [
    {},
    {"status": "in_progress"},
    {"step_day": "14"},
    {"department": None},
    {"due_from": (TODAY - 3 * DAY).isoformat(), "due_to": (TODAY + 5 * DAY).isoformat()},
    {"department": None, "step_day": "7", "due_from": (TODAY - 30 * DAY).isoformat()},
]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff():
    """Two wards and who works in them: two nurses of cardiology, one of
    neurology, a head nurse of each and one of both, and a superuser; calls
    of every kind among them."""
    users = {
        "alice": UserFactory(username="alice", roles=[Role.NURSE]),
        "dan": UserFactory(username="dan", roles=[Role.NURSE]),
        "erin": UserFactory(username="erin", roles=[Role.NURSE]),
        "bob": UserFactory(username="bob", roles=[Role.HEAD_NURSE]),
        "gus": UserFactory(username="gus", roles=[Role.HEAD_NURSE]),
        "fay": UserFactory(username="fay", roles=[Role.HEAD_NURSE]),
        "root": UserFactory(username="root", is_superuser=True),
    }
    card = ward_of(users["alice"], users["dan"], users["bob"], users["fay"], code="CARD")
    neuro = ward_of(users["erin"], users["gus"], users["fay"], code="NEU")
    plan = itertools.product(
        [(card, users["alice"]), (card, users["dan"]), (card, None), (neuro, users["erin"]), (neuro, None)],
        [-9, -2, 0, 1, 4, 12],
        [7, 14],
    )
    for n, ((ward, nurse), days, offset) in enumerate(plan):
        call = make_call(
            department=ward,
            nurse=nurse,
            due=TODAY + days * DAY,
            offset=offset,
            patient__name=f"{ward.code} {nurse or 'nobody'} {days:+d} d{offset}",
            status=FollowUpCall.Status.IN_PROGRESS if n % 4 == 0 else FollowUpCall.Status.SCHEDULED,
            callback_at=NOW - dt.timedelta(hours=1) if n % 7 == 0 else None,
        )
        if n % 11 == 0:
            patient_mark_deceased(patient=call.discharge.patient, died_on=TODAY, actor="hl7:HIS")
    make_call(department=card, nurse=users["alice"], status=FollowUpCall.Status.COMPLETED, patient__name="Done")
    return users, {"CARD": card.pk, "NEU": neuro.pk}


def _filterset(user, query: dict) -> WorklistFilter:
    filterset = WorklistFilter(query, queryset=worklist_base(user=user, today=TODAY, now=NOW))
    filterset.filters["department"].extra["choices"] = [(pk, "") for pk in access.department_ids(user)]
    return filterset


def _query(user, filters: dict, wards: dict) -> dict:
    """``filters`` with the user's first ward as the department."""
    first = access.department_ids(user)[:1] or [wards["CARD"]]
    return {name: first[0] if value is None else value for name, value in filters.items()}


def by_orm(user, query: dict) -> tuple[dict, dict]:
    """Tab counts and each tab's calls in order, from the ORM's querysets."""
    calls = _filterset(user, query).qs
    counts = worklist_tab_counts(calls=calls, today=TODAY)
    order = {tab: list(worklist_for_tab(calls, tab=tab, today=TODAY).values_list("pk", flat=True)) for tab in TABS}
    return counts, order


def by_statements(user, query: dict) -> tuple[dict, dict]:
    """The same from the worklist's prepared statements, as the view runs them."""
    filterset = _filterset(user, query)
    filterset.is_valid()
    work = Worklist(
        user=user,
        today=TODAY,
        now=NOW,
        filters=filterset.set_values(),
        apply_filters=filterset.apply,
    )
    counts = work.counts()
    return counts, {tab: work.ids(tab, offset=0, count=1000) for tab in TABS}


def test_every_user_gets_what_the_orm_says_whoever_prepared_the_statement(staff):
    users, wards = staff
    views = [(user, _query(user, filters, wards)) for user in users.values() for filters in FILTERS]

    shared = [by_statements(user, query) for user, query in views]  # the first of each shape prepares
    alone = []
    for user, query in views:
        prepared._prepared.clear()
        alone.append(by_statements(user, query))

    assert shared == alone
    assert shared == [by_orm(user, query) for user, query in views]
    assert len({counts["all"] for counts, _order in shared}) >= 5  # the views differ: the test can tell them apart


def test_a_nurse_never_gets_a_colleagues_calls_from_her_statement(staff):
    users, wards = staff
    dan_first = by_statements(users["dan"], {})  # dan's view prepares the statement alice's runs
    alice = by_statements(users["alice"], {})
    own = set(
        FollowUpCall.objects.filter(status__in=FollowUpCall.OPEN_STATUSES, discharge__patient__deceased=False)
        .filter(department_id=wards["CARD"])
        .exclude(assigned_to__in=[users["dan"]])
        .values_list("pk", flat=True)
    )

    assert set(alice[1]["all"]) == own
    assert not set(alice[1]["all"]) & set(dan_first[1]["all"]) - set(
        FollowUpCall.objects.filter(assigned_to__isnull=True).values_list("pk", flat=True)
    )
    erin = by_statements(users["erin"], {})
    assert set(erin[1]["all"]).isdisjoint(alice[1]["all"])


def test_pages_of_a_tab_follow_each_other_in_order(staff):
    users, _wards = staff
    work = Worklist(user=users["fay"], today=TODAY, now=NOW)
    everything = work.ids("all", offset=0, count=1000)

    pages = [work.ids("all", offset=offset, count=7) for offset in range(0, len(everything) + 7, 7)]

    assert [pk for page in pages for pk in page] == everything
    assert pages[-1] == []


def test_hostile_filter_values_are_refused_and_change_nothing(client_for, staff):
    users, wards = staff
    client = client_for(users["alice"])
    url = reverse("calls:worklist")
    plain = client.get(url, {"tab": "all"}).context["tabs"]

    for query in (
        {"department": wards["NEU"]},  # another ward's: not a choice
        {"department": "1 OR 1=1"},
        {"step_day": "1e400"},
        {"step_day": "'; DROP TABLE calls_followupcall; --"},
        {"status": "completed"},  # closed calls are history, not a choice here
        {"due_from": "2026-13-45"},
    ):
        response = client.get(url, {"tab": "all", **query})
        assert response.status_code == 200
        assert response.context["filter"].errors, query
        assert response.context["tabs"] == plain, query
    assert FollowUpCall.objects.count() == 5 * 6 * 2 + 1


def test_a_head_nurse_is_offered_her_wards_nurses_whoever_prepared_the_statement(client_for, staff):
    users, _wards = staff
    url = reverse("calls:worklist")
    offered = {}
    for name in ("bob", "gus", "bob"):  # gus runs the statement bob's view prepared, then bob again
        form = client_for(users[name]).get(url).context["reassign_form"]
        offered.setdefault(name, []).append([label for value, label in form.fields["to"].choices if value])

    assert offered["bob"][0] == offered["bob"][1] == [str(u) for u in access.ward_staff([_wards["CARD"]])]
    assert offered["gus"][0] == [str(u) for u in access.ward_staff([_wards["NEU"]])]
    assert str(users["erin"]) in offered["gus"][0] and str(users["erin"]) not in offered["bob"][0]


def test_earlier_calls_stay_in_the_users_wards_whoever_prepared_the_statement(staff):
    users, wards = staff
    patient = PatientFactory(name="Moves between wards")
    card, neuro = Department.objects.get(pk=wards["CARD"]), Department.objects.get(pk=wards["NEU"])
    card_calls = [
        make_call(department=card, due=TODAY - days * DAY, patient=patient, status="completed") for days in (30, 20)
    ]
    neuro_call = make_call(department=neuro, due=TODAY - 10 * DAY, patient=patient, status="completed")
    current = make_call(department=card, due=TODAY, patient=patient)

    shown = {}
    for name in ("erin", "alice", "fay", "dan"):
        shown[name] = [c.pk for c in earlier_calls(call=current, user=users[name])]

    assert shown["alice"] == shown["dan"] == [c.pk for c in reversed(card_calls)]
    assert shown["erin"] == [neuro_call.pk]
    assert shown["fay"] == [neuro_call.pk, *[c.pk for c in reversed(card_calls)]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statements are prepared on PostgreSQL only; CI runs it")
def test_postgresql_keeps_the_worklists_statements_prepared_and_the_log_shows_them(client_for, staff):
    users, _wards = staff
    client = client_for(users["alice"])
    url = reverse("calls:worklist")
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    with CaptureQueriesContext(connection) as second:
        client.get(url)

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared_now = [row[0] for row in cursor.fetchall()]
    counts = [q["sql"] for q in second.captured_queries if "FILTER (WHERE" in q["sql"]]

    assert any("COUNT(" in text and "FILTER (WHERE" in text for text in prepared_now)
    assert len(first.captured_queries) == len(second.captured_queries)
    assert len(counts) == 1
    assert re.search(rf'"assigned_to_id" = \(?{users["alice"].pk}\b', counts[0])  # her id, as it was sent


def _department_choices(html: str) -> list[str]:
    select = re.search(r'<select name="department"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_the_filter_form_with_nothing_set_is_each_users_own_in_her_language(client_for, staff):
    """The filters' fields with nothing set are rendered once per language
    and list of departments (calls/views/worklist.py): a nurse of another
    ward, a renamed ward, another language and a filter that is set each
    get their own form."""
    users, wards = staff
    url = reverse("calls:worklist")
    page = client_for(users["fay"]).get(url).content.decode()
    assert _department_choices(page) == ["All departments", "Ward CARD", "Ward NEU"]

    # erin (neurology only) comes after fay's view filled the cache
    page = client_for(users["erin"]).get(url).content.decode()
    assert _department_choices(page) == ["All departments", "Ward NEU"]

    Department.objects.filter(pk=wards["NEU"]).update(name="Neurology & <stroke>")
    page = client_for(users["erin"]).get(url).content.decode()
    assert _department_choices(page) == ["All departments", "Neurology &amp; &lt;stroke&gt;"]

    page = client_for(users["erin"]).get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert _department_choices(page) == ["全部科室", "Neurology &amp; &lt;stroke&gt;"]
    assert "筛选" in page

    # a set filter shows its value (and the blank form is not reused for it)
    page = client_for(users["fay"]).get(url, {"step_day": "14"}).content.decode()
    assert re.search(r'<input type="number" name="step_day" value="14"', page)
    page = client_for(users["fay"]).get(url).content.decode()
    assert not re.search(r'name="step_day" value=', page)
