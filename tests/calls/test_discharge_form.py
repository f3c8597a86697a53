import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from calls.models import Discharge, FollowUpCall, Patient
from tests.factories import DepartmentFactory, DischargeFactory, PatientFactory, RuleStepFactory
from tests.pagination import Pager, pager

pytestmark = pytest.mark.django_db

NEW = reverse("calls:discharge_new")
LIST = reverse("calls:discharge_list")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def ward(nurse):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(nurse)
    RuleStepFactory(rule__department=department, offset_days=7, weekdays=[3])
    return department


def post_data(ward, **changes):
    data = {
        "mrn": "ZY123",
        "name": "张伟",
        "sex": "M",
        "birth_date": "1958-03-02",
        "phone": "138 1234 5678",
        "family_name": "张丽",
        "family_relation": "女儿",
        "family_phone": "021-64041990",
        "address": "",
        "education": "",
        "communication_notes": "",
        "preferred_call_time": "16:30",
        "department": ward.pk,
        "admitted_on": "2026-11-10",
        "discharged_on": "2026-11-16",
        "diagnosis": "冠心病",
        "icd10": "i25.1",
        "attending_doctor": "刘医生",
        "responsible_nurse": "",
        "nursing_level": "2",
        "condition_at_discharge": "",
        "open_problems": "",
        "told_about_followup": "on",
    }
    data.update(changes)
    return data


def test_nurse_registers_a_new_patient_and_the_weeks_call_is_queued(client_for, nurse, ward):
    response = client_for(nurse).post(NEW, post_data(ward), follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    patient = Patient.objects.get(mrn="ZY123")
    assert (patient.phone, patient.family_phone, patient.preferred_call_time) == (
        "+8613812345678",
        "+862164041990",
        dt.time(16, 30),
    )
    discharge = Discharge.objects.get(patient=patient)
    assert (discharge.department, discharge.icd10, discharge.created_by, discharge.told_about_followup) == (
        ward,
        "I25.1",
        nurse,
        True,
    )
    call = FollowUpCall.objects.get(discharge=discharge)
    assert call.scheduled_for == dt.datetime(2026, 11, 26, 16, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert [str(m) for m in response.context["messages"]] == [
        f"Discharge of {patient} registered; the calls due this week are in the queue."
    ]


def test_a_known_mrn_updates_that_patient_instead_of_creating_another(client_for, nurse, ward):
    known = PatientFactory(mrn="ZY123", name="张伟", phone="+8613800000000")
    DischargeFactory(patient=known, department=ward, admitted_on=dt.date(2026, 9, 1), discharged_on=dt.date(2026, 9, 8))
    client_for(nurse).post(NEW, post_data(ward))
    assert Patient.objects.count() == 1
    known.refresh_from_db()
    assert known.phone == "+8613812345678"


def test_find_by_mrn_fills_in_a_patient_known_to_the_nurses_department(client_for, nurse, ward):
    DischargeFactory(patient=PatientFactory(mrn="ZY777", name="李秀英"), department=ward)
    form = client_for(nurse).get(NEW, {"mrn": "ZY777"}).context["form"]
    assert (form.initial["mrn"], form.initial["name"]) == ("ZY777", "李秀英")


def test_find_by_mrn_never_shows_another_departments_patient(client_for, nurse, ward):
    oncology = DepartmentFactory(code="ONCO", name="Oncology")
    DischargeFactory(patient=PatientFactory(mrn="ZY888", name="赵秘密", phone="+8613911112222"), department=oncology)
    response = client_for(nurse).get(NEW, {"mrn": "ZY888"})
    html = response.content.decode()
    assert response.context["form"].initial == {"mrn": "ZY888"}
    assert "赵秘密" not in html
    assert "13911112222" not in html
    assert [str(m) for m in response.context["messages"]] == [
        "No patient with MRN ZY888 in your departments yet: fill in the details."
    ]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone": "12345"}, "phone", "“12345” is not a valid phone number: check the digits and the area code."),
        ({"family_phone": "abc"}, "family_phone", "“abc” is not a phone number."),
        ({"phone": "", "family_phone": ""}, "phone", "Enter the patient's phone or a family member's phone, or both."),
        ({"discharged_on": "2026-11-09"}, "discharged_on", "The discharge date is before the admission date."),
        (
            {"admitted_on": "2026-11-20", "discharged_on": "2026-11-24"},
            "discharged_on",
            "The discharge date cannot be in the future.",
        ),
        ({"birth_date": "2027-01-01"}, "birth_date", "The birth date cannot be in the future."),
        ({"discharged_on": "16/11/2026"}, "discharged_on", "Enter a valid date."),
        ({"mrn": ""}, "mrn", "This field is required."),
        ({"diagnosis": ""}, "diagnosis", "This field is required."),
    ],
)
def test_each_mistake_is_explained_and_the_typed_values_are_kept(client_for, nurse, ward, changes, field, message):
    response = client_for(nurse).post(NEW, post_data(ward, **changes))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[field] == [message]
    assert form["name"].value() == "张伟"
    assert message in response.content.decode().replace("&#x27;", "'").replace("&ldquo;", "“")
    assert Discharge.objects.count() == 0


def test_another_departments_ward_is_not_offered_and_is_refused(client_for, nurse, ward):
    other = DepartmentFactory(code="ONCO", name="Oncology")
    client = client_for(nurse)
    assert list(client.get(NEW).context["form"].fields["department"].queryset) == [ward]
    response = client.post(NEW, post_data(ward, department=other.pk))
    assert response.context["form"].errors["department"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert Discharge.objects.count() == 0


@pytest.mark.parametrize("url", [NEW, LIST])
def test_officers_and_users_without_a_role_are_refused(client_for, officer, no_role_user, admin_user, url):
    for user in (officer, no_role_user, admin_user):
        assert client_for(user).get(url).status_code == 403


@pytest.mark.parametrize("url", [NEW, LIST])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert (response.status_code, response.url) == (302, f"{reverse('login')}?next={url}")


def test_head_nurse_may_register(client_for, head_nurse, ward):
    ward.staff.add(head_nurse)
    client_for(head_nurse).post(NEW, post_data(ward))
    assert Discharge.objects.get().created_by == head_nurse


def test_list_shows_only_the_nurses_departments(client_for, nurse, ward):
    mine = DischargeFactory(department=ward)
    DischargeFactory(department=DepartmentFactory(code="ONCO"))
    page = client_for(nurse).get(LIST).context["page"]
    assert list(page) == [mine]


def test_list_filters_by_department_dates_and_search(client_for, nurse, ward):
    second_ward = DepartmentFactory(code="BRST")
    second_ward.staff.add(nurse)
    early = DischargeFactory(
        department=ward, discharged_on=dt.date(2026, 11, 2), patient=PatientFactory(mrn="ZY1", name="王芳")
    )
    late = DischargeFactory(
        department=ward, discharged_on=dt.date(2026, 11, 16), patient=PatientFactory(mrn="ZY2", name="李娜")
    )
    other = DischargeFactory(
        department=second_ward, discharged_on=dt.date(2026, 11, 16), patient=PatientFactory(mrn="ZY3", name="王强")
    )
    client = client_for(nurse)

    def shown(**params):
        return list(client.get(LIST, params).context["page"])

    assert shown(department=ward.pk) == [late, early]
    assert sorted(d.pk for d in shown(discharged_from="2026-11-10")) == sorted([late.pk, other.pk])
    assert shown(discharged_to="2026-11-10") == [early]
    assert shown(q="zy2") == [late]
    assert sorted(d.pk for d in shown(q="ZY")) == sorted([early.pk, late.pk, other.pk])
    assert sorted(d.pk for d in shown(q="王")) == sorted([early.pk, other.pk])


def test_list_pages_through_many_discharges_keeping_the_filters(client_for, nurse, ward):
    second_ward = DepartmentFactory(code="BRST")
    second_ward.staff.add(nurse)
    DischargeFactory.create_batch(27, department=ward, discharged_on=dt.date(2026, 11, 16))
    DischargeFactory.create_batch(3, department=second_ward, discharged_on=dt.date(2026, 11, 16))
    client = client_for(nurse)
    assert len(client.get(LIST).context["page"]) == 25

    first = client.get(LIST, {"department": ward.pk, "discharged_from": "2026-11-10"})
    assert pager(first) == Pager(
        current="Page 1 of 2", links={"Next": f"?department={ward.pk}&discharged_from=2026-11-10&page=2"}
    )

    second = client.get(LIST + pager(first).links["Next"])
    assert pager(second) == Pager(
        current="Page 2 of 2", links={"Previous": f"?department={ward.pk}&discharged_from=2026-11-10&page=1"}
    )
    assert [d.department for d in second.context["page"]] == [ward, ward]


@pytest.mark.parametrize("count", [1, 3])
def test_list_query_count_does_not_grow_with_the_rows(client_for, nurse, ward, count, django_assert_num_queries):
    DischargeFactory.create_batch(count, department=ward)
    client = client_for(nurse)
    client.get(LIST)  # warm the session
    # includes the audit-trail insert
    with django_assert_num_queries(10):
        client.get(LIST)


def test_navigation_marks_the_discharges_link_and_not_the_worklist(client_for, nurse, ward):
    items = client_for(nurse).get(LIST).context["nav_items"]
    assert [(str(item["label"]), item["active"]) for item in items] == [
        ("Call worklist", False),
        ("Discharges", True),
        ("Complaints", False),
    ]
