import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from calls.models import ClinicalAlert, FollowUpCall
from calls.selectors.worklist import worklist_calls
from calls.services.cancellation import patient_mark_deceased
from followup.roles import Role
from tests.calls.call_work_helpers import NOW, TODAY, make_call, ward_of
from tests.factories import UserFactory
from tests.pagination import Pager, pager

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

URL = reverse("calls:worklist")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def names(calls) -> list[str]:
    return [c.discharge.patient.name for c in calls]


def test_worklist_puts_red_flags_first_then_overdue_then_by_day(nurse):
    ward = ward_of(nurse)
    later = make_call(department=ward, nurse=nurse, due=TODAY, patient__name="Later")
    overdue = make_call(department=ward, nurse=nurse, due=TODAY - dt.timedelta(days=2), patient__name="Overdue")
    flagged = make_call(department=ward, nurse=nurse, due=TODAY, patient__name="Flagged")
    earlier = make_call(
        department=ward,
        discharge=flagged.discharge,
        offset=3,
        due=TODAY - dt.timedelta(days=4),
        status=FollowUpCall.Status.COMPLETED,
        nurse=nurse,
    )
    ClinicalAlert.objects.create(call=earlier, raised_at=NOW, due_at=NOW, reason="chest pain")

    rows = worklist_calls(user=nurse, tab="today", today=TODAY)

    assert names(rows) == ["Flagged", "Overdue", "Later"]
    assert [(r.has_red_flag, r.is_overdue) for r in rows] == [(True, False), (False, True), (False, False)]
    assert later.pk == rows[2].pk and overdue.pk == rows[1].pk


def test_closed_calls_leave_the_worklist(nurse):
    ward = ward_of(nurse)
    make_call(department=ward, nurse=nurse, patient__name="Open")
    for status in ("completed", "unreachable", "cancelled"):
        make_call(department=ward, nurse=nurse, status=status)

    assert names(worklist_calls(user=nurse, tab="all", today=TODAY)) == ["Open"]


def test_nurse_sees_her_calls_and_unassigned_calls_of_her_wards_only(nurse):
    colleague = UserFactory(roles=[Role.NURSE])
    ward = ward_of(nurse, colleague)
    other_ward = ward_of(code="ONCO")
    make_call(department=ward, nurse=nurse, patient__name="Mine")
    make_call(department=ward, nurse=None, patient__name="Unassigned")
    make_call(department=ward, nurse=colleague, patient__name="Colleague's")
    make_call(department=other_ward, nurse=None, patient__name="Other ward")

    assert sorted(names(worklist_calls(user=nurse, tab="all", today=TODAY))) == ["Mine", "Unassigned"]


def test_head_nurse_sees_every_call_of_her_wards(head_nurse, nurse):
    ward = ward_of(head_nurse, nurse)
    make_call(department=ward, nurse=nurse, patient__name="Nurse's")
    make_call(department=ward, nurse=None, patient__name="Unassigned")
    make_call(department=ward_of(code="ONCO"), patient__name="Other ward")

    assert sorted(names(worklist_calls(user=head_nurse, tab="all", today=TODAY))) == ["Nurse's", "Unassigned"]


def test_deceased_patients_calls_never_appear(nurse):
    ward = ward_of(nurse)
    call = make_call(department=ward, nurse=nurse, patient__name="Died")
    make_call(department=ward, nurse=nurse, patient__name="Alive")
    patient_mark_deceased(patient=call.discharge.patient, died_on=TODAY, actor="hl7:HIS")

    for tab in ("today", "week", "all"):
        assert names(worklist_calls(user=nurse, tab=tab, today=TODAY)) == ["Alive"]


def test_tabs_count_today_this_week_and_overdue(client_for, nurse):
    ward = ward_of(nurse)
    make_call(department=ward, nurse=nurse, due=TODAY)  # today and this week
    make_call(department=ward, nurse=nurse, due=TODAY + dt.timedelta(days=2))  # Saturday: this week
    make_call(department=ward, nurse=nurse, due=TODAY - dt.timedelta(days=8))  # overdue, last week
    make_call(department=ward, nurse=nurse, due=TODAY - dt.timedelta(days=3), status=FollowUpCall.Status.COMPLETED)

    response = client_for(nurse).get(URL)

    assert {t["key"]: t["count"] for t in response.context["tabs"]} == {
        "today": 2,
        "week": 2,
        "overdue": 1,
        "all": 3,
        "done": None,  # history, not work: no count to chase
    }


def test_rows_show_age_days_since_discharge_step_and_masked_phone(client_for, nurse):
    ward = ward_of(nurse)
    call = make_call(department=ward, nurse=nurse, patient__phone="+8613812345678", patient__name="Wang Li")
    call.attempt_count = 2
    call.save()

    html = client_for(nurse).get(URL).content.decode()

    assert "••••••••••5678" in html
    assert "+8613812345678" not in html
    row = client_for(nurse).get(URL).context["page"].object_list[0]
    assert (row.age, row.days_since_discharge, str(row.step.label), row.attempt_count) == (66, 7, "day 7", 2)


def test_filters_by_department_step_status_and_due_dates(client_for, head_nurse):
    ward, onco = ward_of(head_nurse), ward_of(head_nurse, code="ONCO")
    make_call(department=ward, offset=7, patient__name="Card day 7")
    make_call(department=ward, offset=14, patient__name="Card day 14")
    make_call(department=onco, offset=7, patient__name="Onco day 7", due=TODAY + dt.timedelta(days=1))
    client = client_for(head_nurse)

    def listed(**params):
        return names(client.get(URL, {"tab": "all", **params}).context["page"].object_list)

    assert listed(department=ward.pk, step_day=7) == ["Card day 7"]
    assert listed(due_from=(TODAY + dt.timedelta(days=1)).isoformat()) == ["Onco day 7"]
    assert listed(status="in_progress") == []


def test_worklist_pages_by_25(client_for, nurse):
    ward = ward_of(nurse)
    for _n in range(26):
        make_call(department=ward, nurse=nurse)
    client = client_for(nurse)

    assert len(client.get(URL).context["page"].object_list) == 25
    assert len(client.get(URL, {"page": 2}).context["page"].object_list) == 1


def test_next_page_keeps_the_tab_and_the_filters(client_for, head_nurse):
    ward = ward_of(head_nurse)
    for _n in range(26):
        make_call(department=ward, offset=7)
    make_call(department=ward, offset=14)
    client = client_for(head_nurse)

    first = client.get(URL, {"tab": "all", "department": ward.pk, "step_day": 7})
    assert pager(first) == Pager(
        current="Page 1 of 2", links={"Next": f"?tab=all&department={ward.pk}&step_day=7&page=2"}
    )

    second = client.get(URL + pager(first).links["Next"])
    assert pager(second) == Pager(
        current="Page 2 of 2", links={"Previous": f"?tab=all&department={ward.pk}&step_day=7&page=1"}
    )
    assert [c.step.offset_days for c in second.context["page"].object_list] == [7]


@pytest.mark.parametrize("rows", [1, 3])
def test_worklist_queries_do_not_grow_with_rows(rows, client_for, head_nurse, django_assert_num_queries):
    ward = ward_of(head_nurse)
    for _n in range(rows):
        make_call(department=ward, nurse=head_nurse)
    client = client_for(head_nurse)

    # session, user, roles, departments, tab counts, page keys, page rows,
    # nurses to reassign to, session save (4)
    # includes the audit-trail insert of the page view
    with django_assert_num_queries(12):
        response = client.get(URL)

    assert len(response.context["page"].object_list) == rows


def test_complaint_officer_is_refused_the_worklist(client_for, officer):
    assert client_for(officer).get(URL).status_code == 403
