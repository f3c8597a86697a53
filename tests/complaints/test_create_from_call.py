import pytest
from django.urls import reverse

from complaints.models import Category, Complaint
from tests.factories import FollowUpCallFactory, PatientFactory


@pytest.fixture
def call(ward):
    patient = PatientFactory(name="张建国", mrn="ZY20260001", phone="+8613812345678")
    return FollowUpCallFactory(discharge__patient=patient, discharge__department=ward)


def test_raising_from_a_call_prefills_patient_call_department_and_channel(client_for, nurse, call, ward):
    response = client_for(nurse).get(reverse("complaints:create"), {"call": call.pk})
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert (initial["channel"], initial["complainant_name"], initial["patient_mrn"], initial["departments"]) == (
        Complaint.Channel.FOLLOW_UP_CALL,
        "张建国",
        "ZY20260001",
        [ward],
    )


def form_data(ward, **overrides):
    data = {
        "channel": Complaint.Channel.FOLLOW_UP_CALL,
        "received_at": "2026-01-05T10:30",
        "complainant_name": "张建国",
        "complainant_phone": "138 1234 5678",
        "complainant_relation": "patient",
        "patient_mrn": "ZY20260001",
        "category": Category.objects.get(code="fees").pk,
        "severity": "general",
        "validity": "valid",
        "departments": [ward.pk],
        "description": "Charged twice for the CT scan.",
    }
    data.update(overrides)
    return data


def test_nurse_raises_a_complaint_from_a_call(client_for, nurse, call, ward):
    response = client_for(nurse).post(f"{reverse('complaints:create')}?call={call.pk}", form_data(ward))
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("complaints:detail", args=[complaint.pk])
    assert (complaint.source_call, complaint.patient, complaint.complainant_phone, complaint.received_by) == (
        call,
        call.discharge.patient,
        "+8613812345678",
        nurse,
    )
    assert list(complaint.departments.all()) == [ward]


def test_settled_on_the_spot_is_recorded_and_closed_in_one_step(client_for, nurse, call, ward):
    data = form_data(ward, settled_on_the_spot="on", measures="explanation", reply="Explained the bill line by line.")
    client_for(nurse).post(f"{reverse('complaints:create')}?call={call.pk}", data)
    complaint = Complaint.objects.get()
    assert (complaint.status, complaint.settled_on_the_spot) == ("closed", True)
    assert list(complaint.measures.values_list("kind", "amount")) == [("explanation", None)]


def test_settled_on_the_spot_without_outcome_or_reply_says_what_is_missing(client_for, nurse, call, ward):
    response = client_for(nurse).post(reverse("complaints:create"), form_data(ward, settled_on_the_spot="on"))
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "measures": ["Tick how the complaint was settled on the spot."],
        "reply": ["Write the reply given on the spot."],
    }
    assert Complaint.objects.count() == 0


def test_a_bad_phone_number_and_unknown_patient_are_explained(client_for, nurse, call, ward):
    response = client_for(nurse).post(
        reverse("complaints:create"), form_data(ward, complainant_phone="12", patient_mrn="NOPE")
    )
    assert response.context["form"].errors == {
        "complainant_phone": ["“12” is not a valid phone number: check the digits and the area code."],
        "patient_mrn": ["No patient has the inpatient number NOPE."],
    }


def test_nurse_cannot_file_a_complaint_on_a_department_she_is_not_in(client_for, nurse, call, ward, other_ward):
    response = client_for(nurse).post(reverse("complaints:create"), form_data(ward, departments=[other_ward.pk]))
    assert list(response.context["form"].errors) == ["departments"]


def test_a_call_of_another_department_is_not_found(client_for, nurse, other_ward):
    call = FollowUpCallFactory(discharge__department=other_ward)
    assert client_for(nurse).get(reverse("complaints:create"), {"call": call.pk}).status_code == 404


def test_the_officer_may_raise_from_any_call(client_for, officer, other_ward):
    call = FollowUpCallFactory(discharge__department=other_ward)
    assert client_for(officer).get(reverse("complaints:create"), {"call": call.pk}).status_code == 200
