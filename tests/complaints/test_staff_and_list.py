"""Staff involved are chosen from the departments involved and counted in the
report; the list shows the total, the complainant and the patient, and
finds complaints by complainant name or phone and patient name or MRN."""

import pytest
from django.urls import reverse

from complaints.models import Category, Complaint
from followup.roles import Role
from tests.complaints.conftest import at
from tests.factories import PatientFactory, UserFactory


@pytest.fixture
def ward_nurses(ward, other_ward):
    zhao = UserFactory(username="zhao", display_name="Zhao Min", roles=[Role.NURSE])
    qian = UserFactory(username="qian", display_name="Qian Li", roles=[Role.NURSE])
    ward.staff.add(zhao)
    other_ward.staff.add(qian)
    return zhao, qian


def create_data(department, **overrides):
    data = {
        "channel": "hotline",
        "received_at": "2026-11-23T09:00",
        "complainant_name": "王女士",
        "complainant_relation": "patient",
        "category": Category.objects.get(code="attitude").pk,
        "severity": "general",
        "validity": "undetermined",
        "departments": [department.pk],
        "description": "The nurse was rude.",
    }
    data.update(overrides)
    return data


def test_the_record_form_offers_the_staff_of_the_wards_the_user_may_name(
    client_for,
    nurse,
    head_nurse,
    officer,
    ward_nurses,  # Zhao in Cardiology, Qian in Oncology
):
    nurse_form = client_for(nurse).get(reverse("complaints:create")).context["form"]
    nurse_choices = sorted(label for _value, label in nurse_form.fields["staff_involved"].choices)
    cardiology = ["Zhao Min (Cardiology)", f"{nurse} (Cardiology)", f"{head_nurse} (Cardiology)"]
    assert nurse_choices == sorted(cardiology)
    officer_form = client_for(officer).get(reverse("complaints:create")).context["form"]
    officer_choices = sorted(label for _value, label in officer_form.fields["staff_involved"].choices)
    assert officer_choices == sorted([*cardiology, "Qian Li (Oncology)"])


def test_staff_involved_are_saved_and_reported_by_name(client_for, officer, ward, ward_nurses):
    zhao, _qian = ward_nurses
    client = client_for(officer)
    response = client.post(reverse("complaints:create"), create_data(ward, staff_involved=[zhao.pk]))
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert list(complaint.staff_involved.all()) == [zhao]
    report = client.get(reverse("complaints:report"), {"quarter": "2026-Q4"}).context["report"]
    assert [(r["label"], r["count"]) for r in report["by_staff"]] == [("Zhao Min", 1)]


def test_staff_of_another_department_are_refused(client_for, officer, ward, ward_nurses):
    _zhao, qian = ward_nurses
    response = client_for(officer).post(reverse("complaints:create"), create_data(ward, staff_involved=[qian.pk]))
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "staff_involved": ["Qian Li do(es) not work in the departments involved."]
    }
    assert Complaint.objects.count() == 0


def test_a_nurse_cannot_name_staff_of_a_ward_she_does_not_work_in(client_for, nurse, ward, ward_nurses):
    _zhao, qian = ward_nurses
    response = client_for(nurse).post(reverse("complaints:create"), create_data(ward, staff_involved=[qian.pk]))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["staff_involved"]
    assert Complaint.objects.count() == 0


@pytest.mark.parametrize("field", ["staff_involved", "departments", "category", "owner"])
@pytest.mark.parametrize("hostile", ["0", "-1", "99999999999999999999", "abc", "1 OR 1=1"])
def test_hostile_ids_are_refused_with_a_message(client_for, officer, ward, field, hostile):
    value = hostile if field in ("category", "owner") else [hostile]
    response = client_for(officer).post(reverse("complaints:create"), create_data(ward, **{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Complaint.objects.count() == 0


def test_classifying_offers_and_checks_the_same_staff(client_for, officer, make_complaint, ward, ward_nurses):
    zhao, qian = ward_nurses
    complaint = make_complaint()
    url = reverse("complaints:action", args=[complaint.pk, "classify"])
    data = {
        "classify-category": complaint.category_id,
        "classify-severity": "general",
        "classify-validity": "valid",
        "classify-departments": [ward.pk],
    }
    refused = client_for(officer).post(url, {**data, "classify-staff_involved": [qian.pk]})
    assert refused.status_code == 400
    assert list(complaint.staff_involved.all()) == []
    assert client_for(officer).post(url, {**data, "classify-staff_involved": [zhao.pk]}).status_code == 302
    assert list(complaint.staff_involved.all()) == [zhao]


def test_the_list_shows_the_total_complainant_and_patient(client_for, officer, make_complaint):
    patient = PatientFactory(name="张建国", mrn="ZY20260001")
    make_complaint(patient=patient, complainant_name="李娜", complainant_phone="+8613812345678")
    make_complaint()
    html = client_for(officer).get(reverse("complaints:list")).content.decode()
    assert '<p class="complaint-total" data-figure="complaints-total">2 complaints</p>' in html
    assert "李娜" in html and "+8613812345678" in html and "张建国" in html and "ZY20260001" in html


@pytest.mark.parametrize(
    "query", ["李娜", "138 1234 5678", "13812345678", "+86 138-1234-5678", "张建国", "ZY20260001", "zy20260001"]
)
def test_search_finds_complainant_name_and_phone_and_patient_name_and_mrn(client_for, officer, make_complaint, query):
    patient = PatientFactory(name="张建国", mrn="ZY20260001")
    found = make_complaint(patient=patient, complainant_name="李娜", complainant_phone="+8613812345678")
    make_complaint(complainant_name="赵先生", complainant_phone="+8613999999999")
    page = client_for(officer).get(reverse("complaints:list"), {"view": "all", "q": query}).context["page"]
    assert [c.reference for c in page] == [found.reference]


def test_search_never_finds_another_wards_complaint_for_a_nurse(client_for, nurse, make_complaint, other_ward):
    patient = PatientFactory(name="张建国", mrn="ZY20260001")
    make_complaint(patient=patient, departments=[other_ward], received_at=at(2026, 11, 23, 9, 0))
    page = client_for(nurse).get(reverse("complaints:list"), {"view": "all", "q": "ZY20260001"}).context["page"]
    assert list(page) == []
