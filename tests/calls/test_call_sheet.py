"""The call sheet (issue 17, item 9): a day's calls with the full phone
numbers, for the nurse who makes them; a head nurse's for her wards; never
another ward's; every patient on it named in the audit trail."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape

from calls.models import FollowUpCall
from followup.models import AuditEvent
from followup.roles import Role
from tests.calls.call_work_helpers import NOW, TODAY, make_call, ward_of
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

URL = reverse("calls:call_sheet")
TOMORROW = TODAY + dt.timedelta(days=1)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ward(nurse, head_nurse):
    return ward_of(nurse, head_nurse)


@pytest.fixture
def colleague(ward):
    nurse = UserFactory(username="erin", display_name="Erin", roles=[Role.NURSE])
    ward.staff.add(nurse)
    return nurse


def listed(response) -> list[str]:
    return [call.discharge.patient.name for call in response.context["calls"]]


def test_nurse_sees_her_calls_of_the_day_with_both_full_numbers(client_for, nurse, ward):
    make_call(
        department=ward,
        nurse=nurse,
        patient__name="Wang Li",
        patient__phone="+8613812345678",
        patient__family_name="Wang Mei",
        patient__family_relation="daughter",
        patient__family_phone="+8613900001111",
    )

    response = client_for(nurse).get(URL)

    html = response.content.decode()
    assert (response.status_code, listed(response)) == (200, ["Wang Li"])
    assert '<a class="call-dial-number" href="tel:+8613812345678">+86 138 1234 5678</a>' in html
    assert '<a class="call-dial-number" href="tel:+8613900001111">+86 139 0000 1111</a>' in html
    assert 'Family (<span class="person-name">Wang Mei</span>, daughter)' in html
    assert "Call sheet for Thursday 2026-11-19" in html
    assert f"Printed by {nurse} on 2026-11-19 16:10." in html


def test_todays_sheet_holds_overdue_calls_and_tries_put_off_to_today_but_not_later_ones(client_for, nurse, ward):
    make_call(department=ward, nurse=nurse, due=TODAY - dt.timedelta(days=3), patient__name="Overdue")
    make_call(
        department=ward,
        nurse=nurse,
        due=TODAY - dt.timedelta(days=1),
        next_attempt_on=TODAY,
        patient__name="Tried yesterday",
    )
    make_call(department=ward, nurse=nurse, due=TODAY, patient__name="Due today")
    make_call(department=ward, nurse=nurse, due=TODAY, next_attempt_on=TOMORROW, patient__name="Put off to tomorrow")
    make_call(department=ward, nurse=nurse, due=TOMORROW, patient__name="Tomorrow")
    make_call(department=ward, nurse=nurse, due=TODAY, status=FollowUpCall.Status.COMPLETED, patient__name="Done")
    client = client_for(nurse)

    assert listed(client.get(URL)) == ["Overdue", "Tried yesterday", "Due today"]
    assert listed(client.get(URL, {"day": TOMORROW.isoformat()})) == ["Put off to tomorrow", "Tomorrow"]


def test_another_nurse_of_the_ward_does_not_see_her_calls_or_numbers(client_for, nurse, colleague, ward):
    make_call(department=ward, nurse=nurse, patient__name="Wang Li", patient__phone="+8613812345678")
    make_call(department=ward, nurse=None, patient__name="Unassigned", patient__phone="+8613812340000")
    make_call(department=ward, nurse=colleague, patient__name="Erin's", patient__phone="+8613812341111")

    response = client_for(colleague).get(URL)

    html = response.content.decode()
    assert listed(response) == ["Erin's"]
    # The unassigned call is on her worklist to pick up, but not on her paper.
    assert ("+8613812345678" in html, "Wang Li" in html, "+8613812340000" in html) == (False, False, False)
    assert 'name="nurse"' not in html  # a nurse prints her own sheet: there is no one else to pick


def test_nurse_cannot_print_a_colleagues_sheet(client_for, nurse, colleague, ward):
    make_call(department=ward, nurse=colleague, patient__name="Erin's", patient__phone="+8613812341111")

    response = client_for(nurse).get(URL, {"nurse": colleague.pk})

    assert (response.status_code, listed(response)) == (200, [])
    assert "+8613812341111" not in response.content.decode()


def test_head_nurse_prints_her_wards_calls_or_one_nurses(client_for, head_nurse, nurse, colleague, ward):
    make_call(department=ward, nurse=nurse, patient__name="Alice's")
    make_call(department=ward, nurse=colleague, patient__name="Erin's")
    make_call(department=ward, nurse=None, patient__name="Unassigned")
    client = client_for(head_nurse)

    assert sorted(listed(client.get(URL))) == ["Alice's", "Erin's", "Unassigned"]
    assert listed(client.get(URL, {"nurse": colleague.pk})) == ["Erin's"]


def test_other_wards_calls_are_never_on_the_sheet(client_for, head_nurse, nurse, ward):
    oncology_nurse = UserFactory(username="olga", roles=[Role.NURSE])
    oncology = ward_of(oncology_nurse, code="ONCO")
    make_call(department=ward, nurse=nurse, patient__name="Ours")
    make_call(department=oncology, nurse=oncology_nurse, patient__name="Theirs", patient__phone="+8613877776666")
    make_call(department=oncology, nurse=None, patient__name="Theirs unassigned")
    client = client_for(head_nurse)

    assert listed(client.get(URL)) == ["Ours"]
    # Naming the other ward's nurse is refused like any choice that is not offered.
    response = client.get(URL, {"nurse": oncology_nurse.pk})
    html = response.content.decode()
    assert (response.status_code, listed(response)) == (400, [])
    assert "Select a valid choice. That choice is not one of the available choices." in html
    assert "+8613877776666" not in html and "Theirs" not in html
    # Nor does the other ward's own nurse see ours.
    assert listed(client_for(oncology_nurse).get(URL)) == ["Theirs"]


def test_a_past_day_is_refused_with_a_message_at_the_top(client_for, nurse, ward):
    make_call(department=ward, nurse=nurse, due=TODAY - dt.timedelta(days=1), patient__name="Overdue")

    response = client_for(nurse).get(URL, {"day": (TODAY - dt.timedelta(days=1)).isoformat()})

    html = response.content.decode()
    assert (response.status_code, listed(response)) == (400, [])
    assert html.index('id="error-summary"') < html.index('name="day"')
    assert "Choose today or a later day: the sheet lists the calls still to make." in html
    assert AuditEvent.objects.filter(url_name="calls:call_sheet").count() == 0


@pytest.mark.parametrize("user_fixture", ["officer", "admin_user", "no_role_user"])
def test_other_roles_are_refused(request, client_for, user_fixture, nurse, ward):
    make_call(department=ward, nurse=nurse, patient__phone="+8613812345678")

    response = client_for(request.getfixturevalue(user_fixture)).get(URL)

    assert response.status_code == 403
    assert "+8613812345678" not in response.content.decode()


def test_every_patient_on_the_sheet_is_named_in_the_audit_trail(client_for, nurse, ward):
    calls = [make_call(department=ward, nurse=nurse) for _n in range(3)]
    make_call(department=ward, nurse=nurse, due=TOMORROW)  # not on today's sheet

    client_for(nurse).get(URL, REMOTE_ADDR="10.0.0.7")

    rows = AuditEvent.objects.filter(url_name="calls:call_sheet").order_by("pk")
    assert [
        (r.actor, r.action, r.object_type, r.object_id, r.patient_id, r.ip_address, r.status_code) for r in rows
    ] == [
        (nurse, "view", "call", str(call.pk), call.discharge.patient_id, "10.0.0.7", 200)
        for call in sorted(calls, key=lambda c: c.pk)
    ]


def test_the_worklist_still_masks_the_numbers_and_leads_to_the_sheet(client_for, nurse, ward):
    make_call(department=ward, nurse=nurse, patient__phone="+8613812345678")

    html = client_for(nurse).get(reverse("calls:worklist")).content.decode()

    assert ("••••••••••5678" in html, "+8613812345678" in html, "+86 138 1234 5678" in html) == (True, False, False)
    assert f'href="{URL}"' in html


HOSTILE = "<script>alert(\"x\")</script><b id='y'>"  # fits a 50-character relation


def test_hostile_names_and_relations_are_escaped(client_for, head_nurse, nurse, ward):
    nurse.display_name = HOSTILE + " nurse"
    nurse.save()
    make_call(
        department=ward,
        nurse=nurse,
        patient__name=HOSTILE + " patient",
        patient__family_name=HOSTILE + " family",
        patient__family_relation=HOSTILE + " relation",
        patient__phone="+8613812345678",
    )

    html = client_for(head_nurse).get(URL).content.decode()

    for what in ("patient", "family", "relation", "nurse"):
        assert escape(f"{HOSTILE} {what}") in html
    assert "<script>alert" not in html and "<b id=" not in html


def test_a_very_long_name_is_printed_whole(client_for, nurse, ward):
    make_call(department=ward, nurse=nurse, patient__name="欧阳" * 50)

    response = client_for(nurse).get(URL)

    assert response.status_code == 200
    assert f'<a class="person-name fw-semibold" href="/calls/{response.context["calls"][0].pk}/">{"欧阳" * 50}</a>' in (
        response.content.decode()
    )


@pytest.mark.parametrize("params", [{"day": "<script>"}, {"day": "9" * 300}, {"nurse": "9" * 30}, {"nurse": "x"}])
def test_hostile_query_values_are_refused_plainly(client_for, head_nurse, nurse, ward, params):
    make_call(department=ward, nurse=nurse, patient__phone="+8613812345678")

    response = client_for(head_nurse).get(URL, params)

    html = response.content.decode()
    assert (response.status_code, listed(response)) == (400, [])
    assert 'id="error-summary"' in html and "+8613812345678" not in html and "<script>" not in html


@pytest.mark.parametrize("params", [{"day": "2026-11-20\x00"}, {"nurse": "1\x00"}])
def test_a_nul_in_the_query_is_refused_before_the_sheet(client_for, nurse, ward, params):
    make_call(department=ward, nurse=nurse, patient__phone="+8613812345678")

    response = client_for(nurse).get(URL, params)

    assert response.status_code == 400
    assert "+8613812345678" not in response.content.decode()


def test_the_sheet_speaks_chinese(client_for, nurse, ward):
    make_call(department=ward, nurse=nurse, patient__name="周敏", patient__phone="+8613812345678")

    html = client_for(nurse).get(URL, headers={"accept-language": "zh-hans"}).content.decode()

    assert "2026-11-19（星期四）随访单" in html
    assert "拨打号码" in html and "保密：本单载有患者的完整电话号码。" in html


@pytest.mark.parametrize("rows", [1, 3])
@pytest.mark.parametrize("user_fixture", ["nurse", "head_nurse"])
def test_sheet_queries_do_not_grow_with_rows(request, rows, user_fixture, client_for, ward, django_assert_num_queries):
    user = request.getfixturevalue(user_fixture)
    for _n in range(rows):
        make_call(department=ward, nurse=user, patient__communication_needs=["hearing"])
    client = client_for(user)

    # session, user, roles, departments, calls, (head nurse: the nurses to
    # pick from), one audit-trail insert for every call shown, session save (3)
    with django_assert_num_queries({"nurse": 9, "head_nurse": 10}[user_fixture]):
        response = client.get(URL)

    assert len(response.context["calls"]) == rows
