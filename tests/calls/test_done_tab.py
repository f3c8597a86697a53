"""The worklist's "done" tab (issue 17, item 6): the calls a nurse completed
today or this week, in the hospital's time zone; a head nurse's tab holds
every call her wards completed."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from calls.selectors.patients import done_calls
from calls.services.cancellation import patient_mark_deceased
from followup.roles import Role
from tests.calls.call_work_helpers import make_call, ward_of
from tests.factories import UserFactory
from tests.pagination import Pager, pager

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Thursday 19 November 2026, 00:30 in the hospital: 18 November, 16:30 UTC.
NOW = dt.datetime(2026, 11, 19, 0, 30, tzinfo=SHANGHAI)
TODAY = NOW.date()
URL = reverse("calls:worklist")


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def done(ward, nurse, completed_at, name, **kwargs):
    return make_call(
        department=ward,
        nurse=nurse,
        due=TODAY - dt.timedelta(days=1),
        status="completed",
        completed_at=completed_at,
        completed_by=nurse,
        answered_by="patient",
        satisfaction="satisfied",
        patient__name=name,
        **kwargs,
    )


def names(calls) -> list[str]:
    return [c.discharge.patient.name for c in calls]


@pytest.fixture
def day(nurse, head_nurse):
    colleague = UserFactory(username="erin", display_name="Erin Xu", roles=[Role.NURSE])
    ward = ward_of(nurse, head_nurse, colleague)
    other = ward_of(UserFactory(username="olga", roles=[Role.NURSE]), code="ONCO")
    done(ward, nurse, at(19, 0, 10), "Just after midnight")  # 18 Nov 16:10 UTC: today in the hospital
    done(ward, nurse, at(18, 23, 50), "Yesterday late")  # this week, not today
    done(ward, nurse, at(16, 9), "Monday")  # first day of the week
    done(ward, nurse, at(15, 20), "Last Sunday")  # last week
    done(ward, colleague, at(19, 0, 20), "Erin's today")
    done(other, other.staff.get(), at(19, 0, 5), "Other ward today")
    make_call(department=ward, nurse=nurse, patient__name="Still open")
    return {"ward": ward, "colleague": colleague}


def test_a_nurse_sees_what_she_completed_today_in_the_hospitals_time_zone(nurse, day):
    assert names(done_calls(user=nurse, period="today", today=TODAY)) == ["Just after midnight"]


def test_this_week_runs_from_monday_to_today_latest_first(nurse, day):
    assert names(done_calls(user=nurse, period="week", today=TODAY)) == [
        "Just after midnight",
        "Yesterday late",
        "Monday",
    ]


def test_a_head_nurse_sees_every_call_her_wards_completed(head_nurse, day):
    assert names(done_calls(user=head_nurse, period="today", today=TODAY)) == ["Erin's today", "Just after midnight"]


def test_a_call_whose_patient_died_since_stays_done(nurse, day):
    call = done_calls(user=nurse, period="today", today=TODAY).get()
    patient_mark_deceased(patient=call.discharge.patient, died_on=TODAY, actor="hl7:HIS")

    assert names(done_calls(user=nurse, period="today", today=TODAY)) == ["Just after midnight"]


def test_the_done_tab_lists_the_calls_with_who_answered_and_links(client_for, nurse, day):
    response = client_for(nurse).get(URL, {"tab": "done"})

    assert response.status_code == 200
    [call] = response.context["page"].object_list
    html = response.content.decode()
    assert "You completed 1 call today." in html
    assert f'href="{reverse("calls:patient_detail", args=[call.discharge.patient_id])}">Just after midnight</a>' in html
    assert f'href="{reverse("calls:call_detail", args=[call.pk])}">Open the call</a>' in html
    assert '<td class="text-nowrap">00:10</td>' in html
    assert [t["key"] for t in response.context["tabs"] if t["active"]] == ["done"]


def test_the_head_nurses_week_says_it_counts_her_wards(client_for, head_nurse, day):
    html = client_for(head_nurse).get(URL, {"tab": "done", "period": "week"}).content.decode()
    assert "4 calls of your wards completed this week." in html


@pytest.mark.parametrize("period", ["month", "<script>", "x" * 300])
def test_an_unknown_period_shows_today(client_for, nurse, day, period):
    response = client_for(nurse).get(URL, {"tab": "done", "period": period})
    assert (response.status_code, response.context["done_period"]) == (200, "today")
    assert "<script>" not in response.content.decode().split('id="main"')[1]


def test_the_done_tab_pages_by_25(client_for, nurse):
    ward = ward_of(nurse)
    for n in range(26):
        done(ward, nurse, at(19, 0, n % 30), f"Patient {n:02d}")
    client = client_for(nurse)

    first = client.get(URL, {"tab": "done"})
    assert pager(first) == Pager(current="Page 1 of 2", links={"Next": "?tab=done&page=2"})
    assert len(client.get(URL + pager(first).links["Next"]).context["page"].object_list) == 1


@pytest.mark.parametrize("rows", [1, 3])
def test_done_tab_queries_do_not_grow_with_rows(rows, client_for, head_nurse, django_assert_num_queries):
    ward = ward_of(head_nurse)
    for n in range(rows):
        done(ward, head_nurse, at(19, 0, n), f"Patient {n}")
    client = client_for(head_nurse)

    # session, user, roles, departments, tab counts, done count, done page,
    # audit-trail insert, session save (3)
    with django_assert_num_queries(11):
        response = client.get(URL, {"tab": "done"})

    assert len(response.context["page"].object_list) == rows


def test_a_complaint_officer_has_no_done_tab(client_for, officer):
    assert client_for(officer).get(URL, {"tab": "done"}).status_code == 403
