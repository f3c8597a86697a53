"""The patient page (issue 17, item 6): her stays, every call with its
answers, alerts, complaints and contacts, in the nurse's wards only; opening
it is recorded as a view of the patient; every list leads to it."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from calls.models import CallAnswer, ClinicalAlert, FollowUpCall
from complaints import services as complaint_services
from complaints.models import Category, Complaint
from followup.models import AuditEvent
from followup.roles import Role
from tests.calls.call_work_helpers import NOW, TODAY, make_call, scripted_version, ward_of
from tests.factories import DischargeFactory, UserFactory
from tests.pagination import Pager, pager

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def wards(nurse, head_nurse):
    return ward_of(nurse, head_nurse), ward_of(code="ONCO")


@pytest.fixture
def record(wards, nurse, officer):
    """Zhou Min: a day-7 call completed with her daughter (a red-flag answer,
    an alert, a complaint raised from it) and a day-30 call still to make."""
    ward, _other = wards
    _version, chest, _note = scripted_version(department=ward)
    done = make_call(
        department=ward,
        nurse=nurse,
        due=TODAY - dt.timedelta(days=2),
        patient__name="Zhou Min",
        patient__mrn="ZY20260001",
        patient__phone="+8613800138000",
        patient__family_name="Zhou Li",
        patient__family_relation="daughter",
        patient__family_phone="+8613900139000",
        status=FollowUpCall.Status.COMPLETED,
        completed_at=NOW - dt.timedelta(days=1),
        completed_by=nurse,
        answered_by="both",
        family_member_relation="daughter",
        family_member_name="Zhou Li",
        summary="Chest pain on the stairs.",
        satisfaction="basic",
    )
    CallAnswer.objects.create(call=done, question=chest, value="yes", is_red_flag=True)
    ClinicalAlert.objects.create(
        call=done, raised_at=NOW - dt.timedelta(days=1), due_at=NOW + dt.timedelta(hours=2), reason="Chest pain: Yes"
    )
    later = make_call(department=ward, nurse=nurse, discharge=done.discharge, offset=30, due=TODAY + dt.timedelta(21))
    complaint = complaint_services.complaint_create(
        by=nurse,
        channel=Complaint.Channel.FOLLOW_UP_CALL,
        category=Category.objects.get(code="fees"),
        description="Charged twice.",
        complainant_name="Zhou Li",
        complainant_relation="family",
        patient=done.discharge.patient,
        departments=[ward],
        source_call=done,
    )
    return {"patient": done.discharge.patient, "done": done, "later": later, "complaint": complaint}


def url(patient) -> str:
    return reverse("calls:patient_detail", args=[patient.pk])


def test_the_page_shows_stays_calls_answers_alerts_complaints_and_contacts(client_for, nurse, record):
    response = client_for(nurse).get(url(record["patient"]))

    assert response.status_code == 200
    context = response.context
    assert [s.department.name for s in context["stays"]] == ["Ward CARD"]
    assert [c.pk for c in context["page"].object_list] == [record["later"].pk, record["done"].pk]
    assert [a.reason for a in context["alerts"]] == ["Chest pain: Yes"]
    assert context["complaints"] == [record["complaint"]]
    html = response.content.decode()
    for shown in (
        '<a href="tel:+8613800138000">+8613800138000</a>',
        '<a href="tel:+8613900139000">+8613900139000</a>',
        "Zhou Li (daughter)",
        "Coronary heart disease",
        "Patient and a family member (daughter, Zhou Li)",
        "Chest pain on the stairs.",
        "Any chest pain since discharge?",
        "Open, action due by 2026-11-19 18:10",
        f'<a href="{reverse("complaints:detail", args=[record["complaint"].pk])}">{record["complaint"].reference}</a>',
        f'<a href="{reverse("calls:call_detail", args=[record["done"].pk])}">Call on 2026-11-18</a>',
    ):
        assert shown in html


def test_opening_the_page_is_recorded_as_a_view_of_the_patient_for_who_looked(client_for, nurse, head_nurse, record):
    patient = record["patient"]
    client_for(nurse).get(url(patient), REMOTE_ADDR="10.0.0.9")

    event = AuditEvent.objects.get(action="view", object_type="patient", actor=nurse)
    assert (event.object_id, event.patient_id, event.url_name) == (str(patient.pk), patient.pk, "calls:patient_detail")
    access_page = client_for(head_nurse).get(reverse("calls:patient_access", args=[patient.pk])).content.decode()
    assert access_page.count("10.0.0.9") == 1
    assert url(patient) in access_page


def test_another_wards_stays_and_calls_of_the_same_patient_stay_hidden(client_for, nurse, wards, record):
    _ward, other = wards
    stay = DischargeFactory(patient=record["patient"], department=other, discharged_on=TODAY - dt.timedelta(days=60))
    make_call(department=other, discharge=stay, offset=7, due=stay.discharged_on + dt.timedelta(days=7))

    context = client_for(nurse).get(url(record["patient"])).context

    assert [s.department.name for s in context["stays"]] == ["Ward CARD"]
    assert {c.discharge.department.name for c in context["page"].object_list} == {"Ward CARD"}


def test_a_patient_of_another_ward_answers_404(client_for, nurse, head_nurse, wards):
    _ward, other = wards
    theirs = make_call(department=other).discharge.patient
    for user in (nurse, head_nurse):
        assert client_for(user).get(url(theirs)).status_code == 404
    assert AuditEvent.objects.filter(action="refused", object_type="patient", object_id=str(theirs.pk)).count() == 2


@pytest.mark.parametrize("role_user", ["officer", "no_role_user", "admin_user"])
def test_other_roles_are_refused_the_page(client_for, request, record, role_user):
    assert client_for(request.getfixturevalue(role_user)).get(url(record["patient"])).status_code == 403


def test_a_colleagues_call_is_shown_without_a_link_the_nurse_could_not_open(client_for, nurse, head_nurse, record):
    colleague = UserFactory(username="erin", roles=[Role.NURSE])
    record["done"].discharge.department.staff.add(colleague)
    FollowUpCall.objects.filter(pk=record["later"].pk).update(assigned_to=colleague)

    mine = {c.pk: c.openable for c in client_for(nurse).get(url(record["patient"])).context["page"].object_list}
    heads = {c.pk: c.openable for c in client_for(head_nurse).get(url(record["patient"])).context["page"].object_list}

    assert mine == {record["later"].pk: False, record["done"].pk: True}
    assert heads == {record["later"].pk: True, record["done"].pk: True}


def test_the_head_nurse_gets_the_link_to_who_opened_the_record(client_for, nurse, head_nurse, record):
    link = f'href="{reverse("calls:patient_access", args=[record["patient"].pk])}"'
    assert link in client_for(head_nurse).get(url(record["patient"])).content.decode()
    assert link not in client_for(nurse).get(url(record["patient"])).content.decode()


def test_markup_in_the_patients_record_is_shown_as_text(client_for, nurse, record):
    patient = record["patient"]
    patient.name = "<script>alert(1)</script>"
    patient.communication_notes = "<img src=x onerror=alert(1)>"
    patient.save()

    html = client_for(nurse).get(url(patient)).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "<img src=x onerror" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_calls_page_by_20(client_for, nurse, wards):
    ward, _other = wards
    first = make_call(department=ward, nurse=nurse, offset=1, due=TODAY)
    for n in range(2, 22):
        make_call(department=ward, nurse=nurse, discharge=first.discharge, offset=n, due=TODAY + dt.timedelta(n))
    client = client_for(nurse)

    response = client.get(url(first.discharge.patient))
    assert response.context["page"].paginator.count == 21
    assert pager(response) == Pager(current="Page 1 of 2", links={"Next": "?page=2"})
    second = client.get(url(first.discharge.patient) + "?page=2")
    assert [c.pk for c in second.context["page"].object_list] == [first.pk]


@pytest.mark.parametrize("count", [1, 3])
def test_page_queries_do_not_grow_with_calls_stays_and_complaints(
    client_for, nurse, wards, count, django_assert_num_queries
):
    ward, _other = wards
    _version, chest, _note = scripted_version(department=ward)
    patient = None
    for n in range(count):
        stay = DischargeFactory(
            patient=patient or DischargeFactory(department=ward).patient,
            department=ward,
            discharged_on=TODAY - dt.timedelta(days=40 * (n + 1)),
        )
        patient = stay.patient
        call = make_call(
            department=ward,
            nurse=nurse,
            discharge=stay,
            offset=7,
            due=stay.discharged_on + dt.timedelta(days=7),
            status="completed",
            completed_at=NOW,
            answered_by="patient",
        )
        CallAnswer.objects.create(call=call, question=chest, value="yes", is_red_flag=True)
        ClinicalAlert.objects.create(call=call, raised_at=NOW, due_at=NOW, reason="Chest pain: Yes")
        complaint_services.complaint_create(
            by=nurse,
            channel=Complaint.Channel.FOLLOW_UP_CALL,
            category=Category.objects.get(code="fees"),
            description="Charged twice.",
            complainant_name="Zhou Li",
            patient=patient,
            departments=[ward],
            source_call=call,
        )
    client = client_for(nurse)

    # session, user, roles, patient, departments, calls count, stays, alerts,
    # complaints, calls, their answers, item scores and complaints,
    # audit-trail insert, session save (3)
    with django_assert_num_queries(17):
        response = client.get(url(patient))

    assert len(response.context["page"].object_list) == count
    assert len(response.context["complaints"]) == count


def test_every_list_leads_to_the_patient_page(client_for, nurse, head_nurse, record):
    patient_link = f'href="{url(record["patient"])}"'
    done = record["done"]
    pages = {
        "worklist": (nurse, reverse("calls:worklist") + "?tab=all"),
        "discharges": (nurse, reverse("calls:discharge_list")),
        "done tab": (nurse, reverse("calls:worklist") + "?tab=done&period=week"),
        "dashboard calls": (head_nurse, reverse("calls:dashboard_calls") + "?status=completed"),
        "complaint": (nurse, reverse("complaints:detail", args=[record["complaint"].pk])),
        "call screen": (nurse, reverse("calls:call_detail", args=[done.pk])),
        "search": (nurse, reverse("calls:patient_search") + "?q=Zhou"),
    }
    missing = []
    for name, (user, page_url) in pages.items():
        response = client_for(user).get(page_url)
        if response.status_code != 200 or patient_link not in response.content.decode():
            missing.append(name)
    assert missing == []
