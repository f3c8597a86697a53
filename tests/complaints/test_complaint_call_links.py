"""A complaint raised from a call (issue 17, item 7): the form names the
person who spoke, the call and the complaint link to each other, and saving
brings the nurse back to the call (a ``next`` of this site only)."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils.http import urlencode

from complaints.models import Category, Complaint
from tests.complaints.conftest import at
from tests.factories import FollowUpCallFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(at(2026, 11, 19, 16, 30), tick=False):
        yield


@pytest.fixture
def call(ward, nurse):
    patient = PatientFactory(
        name="张建国",
        mrn="ZY20260001",
        phone="+8613812345678",
        family_name="张丽",
        family_relation="女儿",
        family_phone="+8613900001111",
    )
    return FollowUpCallFactory(
        discharge__patient=patient,
        discharge__department=ward,
        due_date=dt.date(2026, 11, 17),
        assigned_to=nurse,
        status="completed",
        completed_at=at(2026, 11, 19, 16, 20),
        completed_by=nurse,
        answered_by="both",
        family_member_relation="daughter",
        family_member_name="Zhang Li",
    )


def create_url(call, **extra) -> str:
    return f"{reverse('complaints:create')}?{urlencode({'call': call.pk, **extra})}"


def form_data(ward, **overrides):
    data = {
        "channel": Complaint.Channel.FOLLOW_UP_CALL,
        "received_at": "2026-11-19T16:25",
        "complainant_name": "Zhang Li",
        "complainant_phone": "+8613900001111",
        "complainant_relation": "family",
        "patient_mrn": "ZY20260001",
        "category": Category.objects.get(code="fees").pk,
        "severity": "general",
        "validity": "undetermined",
        "departments": [ward.pk],
        "description": "Her father was charged twice for the CT scan.",
    }
    data.update(overrides)
    return data


def prefilled(client, call) -> tuple:
    initial = client.get(create_url(call)).context["form"].initial
    return initial["complainant_name"], initial["complainant_relation"], initial["complainant_phone"]


def test_a_call_answered_with_the_daughter_prefills_the_daughter(client_for, nurse, call):
    assert prefilled(client_for(nurse), call) == ("Zhang Li", "family", "+8613900001111")


def test_a_family_member_without_a_name_is_the_family_contact_when_the_relation_matches(client_for, nurse, call):
    call.family_member_name = ""
    call.family_member_relation = "女儿"
    call.save()
    assert prefilled(client_for(nurse), call) == ("张丽", "family", "+8613900001111")


def test_another_family_member_without_a_name_leaves_the_name_to_type(client_for, nurse, call):
    call.family_member_name = ""
    call.family_member_relation = "son"
    call.save()
    assert prefilled(client_for(nurse), call) == ("", "family", "+8613900001111")


def test_a_call_the_patient_answered_prefills_the_patient(client_for, nurse, call):
    call.answered_by, call.family_member_relation, call.family_member_name = "patient", "", ""
    call.save()
    assert prefilled(client_for(nurse), call) == ("张建国", "patient", "+8613812345678")


def test_saving_returns_to_the_call_which_lists_the_complaint_and_links_to_it(client_for, nurse, call, ward):
    client = client_for(nurse)
    call_url = reverse("calls:call_detail", args=[call.pk])

    response = client.post(create_url(call, next=call_url), form_data(ward))

    complaint = Complaint.objects.get()
    assert (response.status_code, response["Location"]) == (302, call_url)
    assert complaint.source_call == call
    page = client.get(call_url)
    assert page.context["complaints_raised"] == [complaint]
    html = page.content.decode()
    link = f'<a href="{reverse("complaints:detail", args=[complaint.pk])}">{complaint.reference}</a>'
    assert f"<li>{link} · Zhang Li · Received</li>" in html


def test_the_call_page_offers_the_complaint_form_with_the_way_back(client_for, nurse, call):
    html = client_for(nurse).get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    assert f'href="/complaints/new/?call={call.pk}&amp;next=%2Fcalls%2F{call.pk}%2F"' in html


@pytest.mark.parametrize(
    "hostile",
    [
        "https://evil.example/calls/1/",
        "//evil.example/calls/1/",
        "javascript:alert(1)",
        "/\\evil.example",
        "/calls/1/\r\nSet-Cookie: x=1",
        "/" + "a" * 600,
        "calls/1/",
    ],
)
def test_a_next_address_outside_the_site_is_ignored(client_for, nurse, call, ward, hostile):
    response = client_for(nurse).post(create_url(call, next=hostile), form_data(ward))

    complaint = Complaint.objects.get()
    assert (response.status_code, response["Location"]) == (302, reverse("complaints:detail", args=[complaint.pk]))


def test_a_refused_complaint_keeps_the_way_back_to_the_call(client_for, nurse, call, ward):
    call_url = reverse("calls:call_detail", args=[call.pk])
    client = client_for(nurse)

    response = client.post(create_url(call, next=call_url), form_data(ward, complainant_name=""))

    assert response.status_code == 200
    assert response.context["next_url"] == call_url
    assert f'<a class="btn btn-link" href="{call_url}">Cancel</a>' in response.content.decode()
    assert Complaint.objects.count() == 0


def test_the_complaint_names_the_call_by_day_and_patient_and_links_to_it(client_for, nurse, call, make_complaint):
    complaint = make_complaint(source_call=call, patient=call.discharge.patient)

    html = client_for(nurse).get(reverse("complaints:detail", args=[complaint.pk])).content.decode()

    call_link = f'<a href="{reverse("calls:call_detail", args=[call.pk])}">Call on 2026-11-19 with 张建国</a>'
    assert f'<dd class="col-sm-8 complaint-call">{call_link}</dd>' in html
    patient_link = f'<a href="{reverse("calls:patient_detail", args=[call.discharge.patient_id])}">'
    assert f'<dd class="col-sm-8 complaint-patient">{patient_link}张建国 (ZY20260001)</a></dd>' in html
    assert f"#{call.pk}<" not in html


def test_an_officer_reads_the_call_and_patient_without_links_to_pages_she_cannot_open(
    client_for, officer, call, make_complaint
):
    complaint = make_complaint(source_call=call, patient=call.discharge.patient)

    html = client_for(officer).get(reverse("complaints:detail", args=[complaint.pk])).content.decode()

    assert '<dd class="col-sm-8 complaint-call">Call on 2026-11-19 with 张建国</dd>' in html
    assert '<dd class="col-sm-8 complaint-patient">张建国 (ZY20260001)</dd>' in html


def test_a_call_not_yet_completed_is_named_by_its_due_day(client_for, nurse, call, make_complaint):
    call.status, call.completed_at = "in_progress", None
    call.save()
    complaint = make_complaint(source_call=call)

    html = client_for(nurse).get(reverse("complaints:detail", args=[complaint.pk])).content.decode()

    assert "Call on 2026-11-17 with 张建国</a>" in html


def test_a_patient_name_with_markup_is_shown_escaped_on_the_complaint(client_for, nurse, call, make_complaint):
    patient = call.discharge.patient
    patient.name = "<script>alert(1)</script>"
    patient.save()
    complaint = make_complaint(source_call=call)

    html = client_for(nurse).get(reverse("complaints:detail", args=[complaint.pk])).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "Call on 2026-11-19 with &lt;script&gt;alert(1)&lt;/script&gt;</a>" in html


def test_the_call_page_lists_only_the_complaints_the_nurse_may_see(client_for, nurse, call, make_complaint, other_ward):
    mine = make_complaint(source_call=call)
    make_complaint(source_call=call, departments=[other_ward])

    response = client_for(nurse).get(reverse("calls:call_detail", args=[call.pk]))

    assert response.context["complaints_raised"] == [mine]
