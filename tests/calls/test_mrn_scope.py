"""By MRN a nurse learns nothing outside her wards and changes nothing there
(issue: patient data stays inside its ward)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from calls.models import Discharge, FollowUpCall, Patient
from calls.services.discharge_import import discharges_import
from followup.roles import Role
from tests.calls.test_discharge_form import post_data as discharge_form_data
from tests.factories import (
    DepartmentFactory,
    DischargeFactory,
    FollowUpCallFactory,
    PatientFactory,
    RuleStepFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NEW = reverse("calls:discharge_new")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI), tick=False):
        yield


@pytest.fixture
def cardiology(nurse):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(nurse)
    RuleStepFactory(rule__department=department, offset_days=7, weekdays=[3])
    return department


@pytest.fixture
def oncology_head(db):
    return UserFactory(username="onco-head", roles=[Role.HEAD_NURSE])


@pytest.fixture
def oncology(oncology_head):
    department = DepartmentFactory(code="ONC", name="Oncology")
    department.staff.add(oncology_head)
    return department


@pytest.fixture
def oncology_patient(oncology):
    patient = PatientFactory(mrn="ZY900", name="王芳", phone="+8613911112222", address="上海市徐汇区")
    stay = DischargeFactory(
        patient=patient, department=oncology, admitted_on=dt.date(2026, 11, 2), discharged_on=dt.date(2026, 11, 12)
    )
    FollowUpCallFactory(discharge=stay, due_date=dt.date(2026, 11, 26))
    return patient


def post_data(department, **changes):
    """The discharge form as test_discharge_form fills it, for the oncology patient's MRN under another name."""
    return discharge_form_data(department, **{"mrn": "ZY900", "name": "李四", "phone": "13800001111", **changes})


def snapshot(patient):
    patient.refresh_from_db()
    return (patient.name, patient.phone, patient.address)


def test_another_wards_mrn_with_another_name_is_refused_and_changes_nothing(
    client_for, nurse, cardiology, oncology_patient
):
    before = snapshot(oncology_patient)
    stays = list(Discharge.objects.values_list("pk", "department_id", "admitted_on"))
    response = client_for(nurse).post(NEW, post_data(cardiology))
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors == [
        "The inpatient number ZY900 belongs to a patient registered under another name by another ward. "
        "Check the number and the name as written on the discharge record."
    ]
    assert "王芳" not in response.content.decode()
    assert snapshot(oncology_patient) == before
    assert list(Discharge.objects.values_list("pk", "department_id", "admitted_on")) == stays
    assert FollowUpCall.objects.get().status == FollowUpCall.Status.SCHEDULED


def test_another_wards_patient_with_the_same_name_gets_her_wards_stay_and_keeps_the_details(
    client_for, nurse, cardiology, oncology, oncology_patient
):
    before = snapshot(oncology_patient)
    response = client_for(nurse).post(NEW, post_data(cardiology, name="王 芳", phone="13800001111"), follow=True)
    assert response.status_code == 200
    assert snapshot(oncology_patient) == before
    assert sorted(Discharge.objects.values_list("department__code", flat=True)) == ["CARD", "ONC"]
    messages = [str(m) for m in response.context["messages"]]
    assert messages[-1].startswith("This patient is also registered by another ward")
    # A readmission elsewhere still cancels the other ward's open call, with its reason.
    call = FollowUpCall.objects.get(discharge__department=oncology)
    assert (call.status, call.cancel_reason) == (FollowUpCall.Status.CANCELLED, FollowUpCall.CancelReason.READMITTED)


def test_another_wards_stay_is_never_moved_by_its_admission_date(
    client_for, nurse, cardiology, oncology, oncology_patient, oncology_head
):
    response = client_for(nurse).post(NEW, post_data(cardiology, name="王芳", admitted_on="2026-11-02"))
    assert response.context["form"].non_field_errors() == [
        "A stay of the patient with inpatient number ZY900 admitted on 2026-11-02 is already registered by "
        "another ward. Check the admission date, or ask that ward to correct its record."
    ]
    stay = Discharge.objects.get()
    assert stay.department == oncology
    assert client_for(oncology_head).get(reverse("calls:patient_access", args=[oncology_patient.pk])).status_code == 200


def test_the_call_screen_lists_no_earlier_call_of_another_ward(client_for, nurse, cardiology, oncology_patient):
    client_for(nurse).post(NEW, post_data(cardiology, name="王芳"))
    ours = FollowUpCall.objects.get(discharge__department=cardiology)
    ours.assigned_to = nurse
    ours.save(update_fields=["assigned_to"])
    response = client_for(nurse).get(reverse("calls:call_detail", args=[ours.pk]))
    assert response.status_code == 200
    assert response.context["earlier_calls"] == []


def test_looking_up_another_wards_mrn_fills_in_nothing(client_for, nurse, cardiology, oncology_patient):
    response = client_for(nurse).get(NEW, {"mrn": "ZY900"})
    assert response.context["form"].initial == {"mrn": "ZY900"}
    assert "王芳" not in response.content.decode()


def test_complaint_form_finds_patients_only_in_the_nurses_wards(
    client_for, nurse, officer, cardiology, oncology_patient
):
    data = {"patient_mrn": "ZY900"}
    nurse_form = client_for(nurse).post(reverse("complaints:create"), data).context["form"]
    assert nurse_form.errors["patient_mrn"] == ["No patient has the inpatient number ZY900."]
    officer_form = client_for(officer).post(reverse("complaints:create"), data).context["form"]
    assert "patient_mrn" not in officer_form.errors


def import_row(**changes):
    row = {
        "mrn": "ZY900",
        "name": "李四",
        "sex": "F",
        "department_code": "CARD",
        "admitted_on": "2026-11-16",
        "discharged_on": "2026-11-20",
        "diagnosis": "冠心病",
        "phone": "13800001111",
    }
    row.update(changes)
    return row


def test_import_by_a_nurse_refuses_another_wards_patient_under_another_name(nurse, cardiology, oncology_patient):
    before = snapshot(oncology_patient)
    report = discharges_import(rows=[(2, import_row())], by=nurse, dry_run=False)
    assert report.errors == [
        (
            2,
            "The inpatient number ZY900 belongs to a patient registered under another name by another ward. "
            "Check the number and the name as written on the discharge record.",
        )
    ]
    assert snapshot(oncology_patient) == before
    assert Discharge.objects.count() == 1


def test_import_by_a_nurse_never_moves_another_wards_stay(nurse, cardiology, oncology, oncology_patient):
    report = discharges_import(rows=[(3, import_row(name="王芳", admitted_on="2026-11-02"))], by=nurse, dry_run=False)
    assert [line for line, _message in report.errors] == [3]
    assert Discharge.objects.get().department == oncology


def test_import_by_the_administrator_updates_any_ward_patient(admin_user, cardiology, oncology_patient):
    report = discharges_import(rows=[(2, import_row(name="王芳"))], by=admin_user, dry_run=False)
    assert report.errors == []
    assert snapshot(oncology_patient)[1] == "+8613800001111"


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", "ZY900' OR '1'='1", "ZY900\u200b"])
def test_hostile_mrns_find_nothing_outside_the_ward(client_for, nurse, cardiology, oncology_patient, hostile):
    response = client_for(nurse).get(NEW, {"mrn": hostile})
    assert response.status_code == 200
    assert "王芳" not in response.content.decode()
    assert Patient.objects.count() == 1
